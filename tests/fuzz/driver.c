/* A fuzz target without libFuzzer: feed it every file of the corpus
 * directories (or files) named on the command line, once each, in name
 * order. Built with gcc's ASan and UBSan (-fno-sanitize-recover=all) for
 * make check: any crash, sanitizer report or leak ends the run with a
 * non-zero status and names the input.
 *
 *	fuzz_img tests/fuzz/corpus/img
 *
 * Prints "NAME: N inputs" on success. Uses file descriptor 2 directly: the
 * targets point the stderr stream at /dev/null. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	_cleanup_free_ char *file = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;
	int r;

	r = read_file_at(AT_FDCWD, path, &file, &len);
	if (r < 0) {
		dprintf(2, "fuzz driver: cannot read %s: %s\n", path, strerror(-r));
		return r;
	}
	/* exactly len bytes, as libFuzzer passes them: a read one past the
	 * end is an ASan report, not a NUL */
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, file, len);
	/* named before it runs: a crash report then follows its input's name */
	if (getenv("FUZZ_VERBOSE"))
		dprintf(2, "fuzz driver: %s (%zu bytes)\n", path, len);
	LLVMFuzzerTestOneInput(buf, len);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file in dir, sorted by name. */
static int run_dir(const char *dir, unsigned *count)
{
	struct dirent **list;
	char path[PATH_MAX];
	int n, r = 0;

	n = scandir(dir, &list, NULL, NULL);
	if (n < 0) {
		dprintf(2, "fuzz driver: cannot list %s: %m\n", dir);
		return -1;
	}
	qsort(list, n, sizeof(*list), cmp_names);
	for (int i = 0; i < n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
		if (r == 0 && list[i]->d_name[0] != '.' && stat(path, &st) == 0 &&
		    S_ISREG(st.st_mode)) {
			r = run_file(path);
			(*count)++;
		}
		free(list[i]);
	}
	free(list);
	return r;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	struct stat st;
	int r = 0;

	if (argc < 2) {
		dprintf(2, "Usage: %s CORPUS_DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc && r == 0; i++) {
		if (stat(argv[i], &st) < 0) {
			dprintf(2, "fuzz driver: %s: %m\n", argv[i]);
			return 1;
		}
		if (S_ISDIR(st.st_mode)) {
			r = run_dir(argv[i], &count);
		} else {
			r = run_file(argv[i]);
			count++;
		}
	}
	if (r < 0)
		return 1;
	if (!count) {
		dprintf(2, "fuzz driver: no inputs in the corpus\n");
		return 1;
	}
	dprintf(2, "%s: %u inputs\n", argv[0], count);
	return 0;
}
