#include "common/escape.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at s (1 to 4), or 0 if the
 * bytes there are not one (overlong, surrogate, past U+10FFFF, cut). */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;	/* also stops at the NUL */
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* The escape for the byte c, into e (at least 5 bytes). */
static void escape_byte(unsigned char c, char *e)
{
	switch (c) {
	case '\n': strcpy(e, "\\n"); break;
	case '\t': strcpy(e, "\\t"); break;
	case '\r': strcpy(e, "\\r"); break;
	case 0x1b: strcpy(e, "\\e"); break;
	default: snprintf(e, 5, "\\x%02x", c); break;
	}
}

/* The escaped form of the character at s into piece (at least 17 bytes);
 * returns how many bytes of s it stands for. */
static size_t next_piece(const unsigned char *s, char *piece)
{
	size_t n = utf8_len(s);

	if (n == 1 && *s >= 0x20 && *s != 0x7f) {
		piece[0] = *s;
		piece[1] = '\0';
	} else if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0) {
		/* a C1 control, U+0080..U+009F */
		escape_byte(s[0], piece);
		escape_byte(s[1], piece + strlen(piece));
	} else if (n > 1) {
		memcpy(piece, s, n);
		piece[n] = '\0';
	} else {
		escape_byte(*s, piece);
		n = 1;
	}
	return n;
}

static size_t escaped_len(const unsigned char *s)
{
	char piece[17];
	size_t total = 0;

	while (*s) {
		s += next_piece(s, piece);
		total += strlen(piece);
	}
	return total;
}

char *ckpt_escape(char *dst, size_t len, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	bool fits;
	size_t o = 0;

	if (!len)
		return dst;
	fits = escaped_len(s) < len;
	while (*s) {
		char piece[17];
		size_t n = next_piece(s, piece), plen = strlen(piece);

		/* whole pieces only, and room for "..." unless all fits */
		if (o + plen + (fits ? 0 : 3) >= len)
			break;
		memcpy(dst + o, piece, plen);
		o += plen;
		s += n;
	}
	if (*s && o + 3 < len) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}

void ckpt_escape_inplace(char *buf, size_t len)
{
	char copy[len];

	if (!len || ckpt_escape_clean(buf))
		return;
	memcpy(copy, buf, len);
	copy[len - 1] = '\0';
	ckpt_escape(buf, len, copy);
}

bool ckpt_escape_clean(const char *src)
{
	const unsigned char *s = (const unsigned char *)src;

	while (*s) {
		size_t n = utf8_len(s);

		if (n == 0 || (n == 1 && (*s < 0x20 || *s == 0x7f)) ||
		    (n == 2 && s[0] == 0xc2 && s[1] < 0xa0))
			return false;
		s += n;
	}
	return true;
}
