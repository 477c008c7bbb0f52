/* Escaping strings that came from outside (an image, a /proc file, a
 * directory listing) before they reach a message, a log line or a terminal.
 *
 * An image is untrusted: a cwd holding a newline would forge a line in
 * ckptd's log, and an escape sequence in a comm or a path would reach the
 * user's terminal. Every C0 control, DEL and every C1 control (U+0080 to
 * U+009F, which terminals also obey) becomes "\n", "\t", "\r", "\e" or
 * "\xNN"; a byte that is not part of well-formed UTF-8 becomes "\xNN";
 * valid UTF-8 text is kept as it is. A backslash is kept too, so escaping
 * is idempotent: a message escaped by ckptd and again by ckptctl reads the
 * same. */
#ifndef CKPT_ESCAPE_H
#define CKPT_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* Escape the NUL-terminated src into dst (size len, at least 1), never
 * cutting an escape or a UTF-8 sequence in two; truncated output ends in
 * "...". Returns dst. src and dst must not overlap. */
char *ckpt_escape(char *dst, size_t len, const char *src);

/* Escape buf (size len) in place, by way of a copy on the stack. */
void ckpt_escape_inplace(char *buf, size_t len);

/* Whether s needs no escaping. */
bool ckpt_escape_clean(const char *s);

#endif
