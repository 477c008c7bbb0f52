/* Freestanding helpers; see lib.h. */
#include "lib.h"

void *blob_memcpy(void *dst, const void *src, unsigned long n)
{
	void *d = dst;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

void *blob_memset(void *dst, int c, unsigned long n)
{
	void *d = dst;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

unsigned long blob_strnlen(const char *s, unsigned long max)
{
	unsigned long n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

struct out {
	char *buf;
	unsigned long size, len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len++] = c;
}

static void put_u64(struct out *o, __u64 v, unsigned base)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		put(o, tmp[--n]);
}

int blob_vfmt(char *buf, unsigned long size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		int lng = 0;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			while (s && *s)
				put(&o, *s++);
			break;
		}
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 'd': {
			long long v = lng ? va_arg(ap, long long) : va_arg(ap, int);

			if (v < 0) {
				put(&o, '-');
				v = -v;
			}
			put_u64(&o, (__u64)v, 10);
			break;
		}
		case 'u':
		case 'x': {
			__u64 v = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);

			put_u64(&o, v, *fmt == 'x' ? 16 : 10);
			break;
		}
		case '%':
			put(&o, '%');
			break;
		default:	/* unknown conversion: -Wformat catches it */
			put(&o, '?');
			break;
		}
		if (!*fmt)
			break;
	}
	if (size)
		buf[o.len] = 0;
	return (int)o.len;
}

int blob_fmt(char *buf, unsigned long size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = blob_vfmt(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
