/* xxh64.c: XXH64 (seed 0), the checksum of checkpoint images
 * (migrate-format's image/integrity.rs, which uses the xxhash-rust crate:
 * every image the runtime writes is read and checked there). Streaming,
 * for memory written a chunk at a time; portable C, no libc state.
 *
 * The algorithm is Yann Collet's, as specified in xxHash's
 * doc/xxhash_spec.md; this is a fresh, minimal implementation of it. */
#include <string.h>

#include "rt.h"

static const uint64_t P1 = 0x9E3779B185EBCA87ULL, P2 = 0xC2B2AE3D27D4EB4FULL,
		      P3 = 0x165667B19E3779F9ULL, P4 = 0x85EBCA77C2B2AE63ULL,
		      P5 = 0x27D4EB2F165667C5ULL;

static uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t read64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8); /* both ISAs are little-endian */
	return v;
}

static uint32_t read32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t round64(uint64_t acc, uint64_t input)
{
	acc += input * P2;
	acc = rotl(acc, 31);
	return acc * P1;
}

static uint64_t merge(uint64_t acc, uint64_t v)
{
	acc ^= round64(0, v);
	return acc * P1 + P4;
}

void landmark_xxh64_init(struct landmark_xxh64 *h)
{
	memset(h, 0, sizeof *h);
	h->v[0] = P1 + P2;
	h->v[1] = P2;
	h->v[2] = 0;
	h->v[3] = -P1;
}

/* The 32-byte stripes of p, into the accumulators. */
static void stripes(struct landmark_xxh64 *h, const unsigned char *p, size_t n)
{
	for (; n >= 32; p += 32, n -= 32)
		for (int i = 0; i < 4; i++)
			h->v[i] = round64(h->v[i], read64(p + 8 * i));
}

void landmark_xxh64_update(struct landmark_xxh64 *h, const void *data, size_t len)
{
	const unsigned char *p = data;
	h->total += len;
	if (h->buffered) {
		size_t take = 32 - h->buffered < len ? 32 - h->buffered : len;
		memcpy(h->buf + h->buffered, p, take);
		h->buffered += take, p += take, len -= take;
		if (h->buffered < 32)
			return;
		stripes(h, h->buf, 32);
		h->buffered = 0;
	}
	size_t whole = len & ~(size_t)31;
	stripes(h, p, whole);
	memcpy(h->buf, p + whole, len - whole);
	h->buffered = len - whole;
}

uint64_t landmark_xxh64_digest(const struct landmark_xxh64 *h)
{
	uint64_t acc;
	if (h->total >= 32) {
		acc = rotl(h->v[0], 1) + rotl(h->v[1], 7) + rotl(h->v[2], 12) + rotl(h->v[3], 18);
		for (int i = 0; i < 4; i++)
			acc = merge(acc, h->v[i]);
	} else {
		acc = P5;
	}
	acc += h->total;
	const unsigned char *p = h->buf;
	size_t n = h->buffered;
	for (; n >= 8; p += 8, n -= 8)
		acc = rotl(acc ^ round64(0, read64(p)), 27) * P1 + P4;
	if (n >= 4) {
		acc = rotl(acc ^ (uint64_t)read32(p) * P1, 23) * P2 + P3;
		p += 4, n -= 4;
	}
	for (; n; p++, n--)
		acc = rotl(acc ^ *p * P5, 11) * P1;
	acc ^= acc >> 33;
	acc *= P2;
	acc ^= acc >> 29;
	acc *= P3;
	acc ^= acc >> 32;
	return acc;
}
