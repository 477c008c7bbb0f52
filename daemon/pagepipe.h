/* Pages from a stopped task to a page writer, in bounded memory.
 *
 * The caller queues runs of pages (found by pagescan) into the current
 * batch; a full batch is read with one process_vm_readv (many iovecs, or
 * pread of /proc/PID/mem for runs the task cannot read itself) and handed
 * to a writer thread, which writes it while the next batch is read; the
 * block checksums are shared between the two threads. A page that reads as
 * all zeros is not stored but recorded as a PE_ZERO entry, whatever the
 * kernel mapped for it. Two batch buffers of PAGEPIPE_BATCH_BYTES are all
 * the memory used, whatever the size of the task.
 *
 * Nothing here prints: a failure is described by pagepipe_errmsg() (pid,
 * address range, and the image file for write errors). */
#ifndef CKPT_PAGEPIPE_H
#define CKPT_PAGEPIPE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/pagescan.h"

#define PAGEPIPE_BATCH_BYTES	(4u << 20)
#define PAGEPIPE_BATCH_RUNS	1024u	/* IOV_MAX: one process_vm_readv per batch */

struct page_pipe;
struct page_writer;

/* vm_readv false: read everything through /proc/PID/mem. threaded false:
 * write in the caller's thread (also the fallback when no thread starts).
 * page_size: a power of two from 4096 to PAGEPIPE_BATCH_BYTES (-EINVAL). */
int pagepipe_open(pid_t pid, struct page_writer *pw, unsigned page_size,
		  bool vm_readv, bool threaded, struct page_pipe **ret);

/* Room in the current batch (a full one is sent first): up to *ret_max_runs
 * runs totalling at most *ret_max_pages pages may be written at *ret_runs,
 * then announced with pagepipe_commit(). */
int pagepipe_room(struct page_pipe *p, struct page_run **ret_runs,
		  unsigned *ret_max_runs, uint64_t *ret_max_pages);
/* n runs were written where pagepipe_room said, ascending; via_mem: the
 * VMA is not readable (PROT_NONE), read it through /proc/PID/mem. */
void pagepipe_commit(struct page_pipe *p, unsigned n, bool via_mem);
/* n runs were written where pagepipe_room said, ascending, to record as
 * IN_PARENT (unchanged since the parent set): not read, no buffer room. */
void pagepipe_commit_in_parent(struct page_pipe *p, unsigned n);
/* The same for runs to record with flags (PE_IN_PARENT or PE_COW). */
void pagepipe_commit_hole(struct page_pipe *p, unsigned n, uint32_t flags);

/* The task runs while its pages are copied (a pre-dump lets it go once
 * its pages are scanned): a page unmapped meanwhile is recorded as zeros
 * (the next round finds it absent); a page written meanwhile is copied as
 * it is now, and its tracker has marked it for the next round. Only the
 * task's exit fails the copy. */
void pagepipe_set_running(struct page_pipe *p);

struct hash_file;
/* The hash tracker (daemon/track/hash.h): hash every page read that is not
 * all zeros into out, and record it IN_PARENT instead of storing it when
 * parent (may be NULL) has the same hash for its address. Before the
 * first commit; both stay the caller's. */
void pagepipe_set_hashes(struct page_pipe *p, struct hash_file *parent, struct hash_file *out);

/* Send the last batch and wait until every page is written. */
int pagepipe_finish(struct page_pipe *p);
/* Pages the writer has stored so far (for progress). */
uint64_t pagepipe_pages_done(const struct page_pipe *p);
/* Pages recorded so far as zero entries instead (they read as zeros). */
uint64_t pagepipe_pages_zero(const struct page_pipe *p);
/* Pages recorded IN_PARENT so far. */
uint64_t pagepipe_pages_in_parent(const struct page_pipe *p);
const char *pagepipe_errmsg(const struct page_pipe *p);
/* Stop the writer (if running) and free everything; the page writer is the
 * caller's. */
void pagepipe_free(struct page_pipe *p);

#endif
