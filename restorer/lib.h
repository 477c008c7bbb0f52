/* The little the blob needs from a C library, written here: memory
 * copies (rep movsb/stosb, so the compiler cannot turn them back into
 * calls), a bounded formatter for status messages, futex waits. */
#ifndef RST_LIB_H
#define RST_LIB_H

#include <linux/types.h>
#include <stdarg.h>

#define RST_HIDDEN __attribute__((visibility("hidden")))
#define RST_NORETURN __attribute__((noreturn))

void *blob_memcpy(void *dst, const void *src, unsigned long n);
void *blob_memset(void *dst, int c, unsigned long n);
unsigned long blob_strnlen(const char *s, unsigned long max);

/* printf subset: %s %c %d %u %x with l/ll modifiers, %%. Always
 * NUL-terminates; returns the length written. */
int blob_vfmt(char *buf, unsigned long size, const char *fmt, va_list ap);
int blob_fmt(char *buf, unsigned long size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline __u32 blob_load(const __u32 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void blob_store(__u32 *p, __u32 v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

#endif
