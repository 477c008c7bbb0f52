/* XXH64 as specified in xxHash's doc/xxhash_spec.md: four lanes over
 * 32-byte stripes, then 8-, 4- and 1-byte tails and a final avalanche.
 * Unaligned little-endian reads go through packed structs so no memcpy
 * call can appear. */
#include "xxh64.h"

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

struct __attribute__((packed, may_alias)) un64 { __u64 v; };
struct __attribute__((packed, may_alias)) un32 { __u32 v; };

static inline __u64 rd64(const unsigned char *p)
{
	return ((const struct un64 *)p)->v;
}

static inline __u32 rd32(const unsigned char *p)
{
	return ((const struct un32 *)p)->v;
}

static inline __u64 rotl(__u64 x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline __u64 xround(__u64 acc, __u64 input)
{
	acc += input * P2;
	acc = rotl(acc, 31);
	return acc * P1;
}

static inline __u64 merge(__u64 acc, __u64 val)
{
	acc ^= xround(0, val);
	return acc * P1 + P4;
}

static __u64 stripes(const unsigned char **pp, const unsigned char *end, __u64 seed)
{
	const unsigned char *p = *pp;
	__u64 v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;
	__u64 h;

	while (end - p >= 32) {
		v1 = xround(v1, rd64(p));
		v2 = xround(v2, rd64(p + 8));
		v3 = xround(v3, rd64(p + 16));
		v4 = xround(v4, rd64(p + 24));
		p += 32;
	}
	h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
	h = merge(h, v1);
	h = merge(h, v2);
	h = merge(h, v3);
	h = merge(h, v4);
	*pp = p;
	return h;
}

__u64 rst_xxh64(const void *buf, unsigned long len, __u64 seed)
{
	const unsigned char *p = buf, *end = p + len;
	__u64 h;

	if (len >= 32)
		h = stripes(&p, end, seed);
	else
		h = seed + P5;
	h += len;

	while (end - p >= 8) {
		h ^= xround(0, rd64(p));
		h = rotl(h, 27) * P1 + P4;
		p += 8;
	}
	if (end - p >= 4) {
		h ^= (__u64)rd32(p) * P1;
		h = rotl(h, 23) * P2 + P3;
		p += 4;
	}
	while (p < end) {
		h ^= *p++ * P5;
		h = rotl(h, 11) * P1;
	}
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	h *= P3;
	h ^= h >> 32;
	return h;
}
