/* inotify.c's fdinfo parser (its public face is the fd kind). */
#ifndef CKPT_FILES_INOTIFY_H
#define CKPT_FILES_INOTIFY_H

#include "files.pb-c.h"

/* One "inotify wd:..." line of an fdinfo into w (initialised by the
 * caller; w->handle.data is malloc'd, the caller frees it). Returns 1 for
 * a watch, 0 for another line, -EBADMSG for a malformed watch line. */
int inotify_parse_wd(const char *line, InotifyWdEntry *w);

#endif
