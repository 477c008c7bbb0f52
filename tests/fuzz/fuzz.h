/* What the fuzz targets (tests/fuzz/fuzz_*.c) share: a private scratch
 * directory to put an input's files in, quiet stdio, and a cursor that cuts
 * an input into fields.
 *
 * Each target defines LLVMFuzzerTestOneInput and is linked twice: with
 * libFuzzer (make fuzz, clang) and with tests/fuzz/driver.c, which feeds it
 * every file of its corpus (make check, gcc). Either way one process runs
 * many inputs, so the scratch directory is made once per process and
 * emptied before each input: the harness's only state, hence static.
 * Failures of the harness itself (no temporary directory, a full disk)
 * abort: they are not findings, and must not pass for a clean run. */
#ifndef CKPT_FUZZ_H
#define CKPT_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The scratch directory's path and an O_PATH-free directory fd to it, made
 * on first use (under $TMPDIR or /tmp) and removed at exit. */
const char *fuzz_dir(void);
int fuzz_dirfd(void);
/* Remove everything in the scratch directory (one level of subdirectories). */
void fuzz_dir_clear(void);
/* Create (or replace) name in the scratch directory with data. */
void fuzz_write(const char *name, const void *data, size_t len);

/* Point the stdout and stderr streams at /dev/null: the code under test
 * prints its results and error lines there. File descriptors 1 and 2 stay
 * as they are, so sanitizer reports and libFuzzer's own output still show. */
void fuzz_quiet(void);

/* A cursor over an input. A field asked for past the end reads as zeros
 * (fuzz_take: as the bytes that remain). */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

uint8_t fuzz_u8(struct fuzz_in *in);
uint32_t fuzz_u32(struct fuzz_in *in);	/* little-endian */
/* Up to len bytes: their start into *ret; returns how many. */
size_t fuzz_take(struct fuzz_in *in, size_t len, const uint8_t **ret);

#endif
