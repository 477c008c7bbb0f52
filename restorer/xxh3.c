/* XXH3-64 (seed 0, the default secret) for inputs over 240 bytes, as
 * xxHash's XXH3_hashLong_64b does it with SSE2: every page block is at
 * least 4096 bytes, so the short-input paths are never needed.
 *
 * The SIMD is GCC's vector extensions and its one SSE2 builtin the
 * extensions can't say (pmuludq, 32x32->64 in each lane), not
 * <emmintrin.h>: that header pulls glibc's <stdlib.h> into a blob that
 * must see only uapi headers. */
#include "xxh3.h"

typedef __u64 v2du __attribute__((vector_size(16)));
typedef int v4si __attribute__((vector_size(16)));
struct __attribute__((packed, may_alias)) unv2 { v2du v; };

static inline v2du load16(const unsigned char *p)
{
	return ((const struct unv2 *)p)->v;
}

/* the low 32 bits of each lane of a times those of b, 64-bit products */
static inline v2du mul_lo32(v2du a, v2du b)
{
	return (v2du)__builtin_ia32_pmuludq128((v4si)a, (v4si)b);
}

#define STRIPE 64
#define SECRET_SIZE 192
#define STRIPES_PER_BLOCK ((SECRET_SIZE - STRIPE) / 8)
#define BLOCK (STRIPE * STRIPES_PER_BLOCK)

#define P32_1 0x9E3779B1U
#define P32_2 0x85EBCA77U
#define P32_3 0xC2B2AE3DU
#define P64_1 0x9E3779B185EBCA87ULL
#define P64_2 0xC2B2AE3D27D4EB4FULL
#define P64_3 0x165667B19E3779F9ULL
#define P64_4 0x85EBCA77C2B2AE63ULL
#define P64_5 0x27D4EB2F165667C5ULL

/* xxHash's XXH3_kSecret (BSD-2-Clause, Yann Collet) */
static const unsigned char secret[SECRET_SIZE] __attribute__((aligned(64))) = {
	0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
	0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
	0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
	0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
	0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
	0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
	0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
	0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
	0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
	0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
	0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
	0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
};

struct __attribute__((packed, may_alias)) un64 { __u64 v; };

static inline __u64 rd64(const unsigned char *p)
{
	return ((const struct un64 *)p)->v;
}

/* One 64-byte stripe into the eight 64-bit lanes (four 128-bit vectors). */
static inline void accumulate_512(v2du acc[4], const unsigned char *in, const unsigned char *key)
{
	for (int i = 0; i < 4; i++) {
		v2du data = load16(in + 16 * i);
		v2du dk = data ^ load16(key + 16 * i);
		v2du swapped = __builtin_shuffle(data, (v2du){ 1, 0 });

		acc[i] += mul_lo32(dk, dk >> 32) + swapped;
	}
}

static inline void scramble(v2du acc[4], const unsigned char *key)
{
	const v2du prime = { P32_1, P32_1 };

	for (int i = 0; i < 4; i++) {
		v2du dk = (acc[i] ^ (acc[i] >> 47)) ^ load16(key + 16 * i);

		acc[i] = mul_lo32(dk, prime) + (mul_lo32(dk >> 32, prime) << 32);
	}
}

static inline __u64 mul128_fold64(__u64 a, __u64 b)
{
	unsigned __int128 p = (unsigned __int128)a * b;

	return (__u64)p ^ (__u64)(p >> 64);
}

__u64 blob_xxh3(const void *buf, unsigned long len)
{
	const unsigned char *in = buf;
	unsigned long nb_blocks = (len - 1) / BLOCK, nb_stripes;
	v2du acc[4] = { { P32_3, P64_1 }, { P64_2, P64_3 }, { P64_4, P32_2 }, { P64_5, P32_1 } };
	__u64 h = len * P64_1;
	for (unsigned long n = 0; n < nb_blocks; n++, in += BLOCK) {
		for (int s = 0; s < STRIPES_PER_BLOCK; s++)
			accumulate_512(acc, in + s * STRIPE, secret + s * 8);
		scramble(acc, secret + SECRET_SIZE - STRIPE);
	}
	nb_stripes = ((len - 1) - BLOCK * nb_blocks) / STRIPE;
	for (unsigned long s = 0; s < nb_stripes; s++)
		accumulate_512(acc, in + s * STRIPE, secret + s * 8);
	accumulate_512(acc, (const unsigned char *)buf + len - STRIPE,
		       secret + SECRET_SIZE - STRIPE - 7);
	for (int i = 0; i < 4; i++)
		h += mul128_fold64(acc[i][0] ^ rd64(secret + 11 + 16 * i),
				   acc[i][1] ^ rd64(secret + 11 + 16 * i + 8));
	h ^= h >> 37;
	h *= 0x165667919E3779F9ULL;
	h ^= h >> 32;
	return h;
}
