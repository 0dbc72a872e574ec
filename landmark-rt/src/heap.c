/* heap.c: keeps every mapping the program (and musl's malloc) makes without
 * asking for an address inside the migration window's arena (rt.h), so that
 * the heap is at the same addresses wherever the program is restored.
 *
 * These replace musl's __mmap/__munmap/__mremap and their public aliases
 * (the archive comes before libc.a on the link line, so musl's members are
 * never pulled in). A mapping with an address or MAP_FIXED goes to the
 * kernel unchanged. One without is placed at an address chosen here (a freed
 * range that fits, or the end of what the arena used so far) and passed as
 * a hint: the result is always compared with the hint, because qemu-user
 * 7.2 treats even MAP_FIXED_NOREPLACE as a hint (DESIGN.md decision 5).
 * Single-threaded programs only (a second thread is refused at checkpoint).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rt.h"

enum { PAGE = 4096, MAX_HOLES = 256, MAX_TRIES = 64 };

static uint64_t arena_end_used = ARENA_START;
struct range {
	uint64_t start, len;
};
static struct range holes[MAX_HOLES];
static int nholes;

static uint64_t page_round(uint64_t n)
{
	return (n + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

static int in_arena(uint64_t a, uint64_t len)
{
	return a >= ARENA_START && a + len <= ARENA_END && a + len >= a;
}

/* Takes `len` bytes (page multiple) from the first freed range that holds
 * them, else from the end of the used arena; 0 if the arena is full. */
static uint64_t arena_take(uint64_t len)
{
	for (int i = 0; i < nholes; i++) {
		if (holes[i].len < len)
			continue;
		uint64_t at = holes[i].start;
		holes[i].start += len;
		holes[i].len -= len;
		if (!holes[i].len)
			holes[i] = holes[--nholes];
		return at;
	}
	if (ARENA_END - arena_end_used < len)
		return 0;
	uint64_t at = arena_end_used;
	arena_end_used += len;
	return at;
}

/* Gives a range back, merging it with a neighbour where it touches one;
 * a range that finds no slot is simply not reused. */
static void arena_give(uint64_t start, uint64_t len)
{
	if (!len || !in_arena(start, len))
		return;
	if (start + len == arena_end_used) {
		arena_end_used = start;
		return;
	}
	for (int i = 0; i < nholes; i++) {
		if (holes[i].start + holes[i].len == start) {
			holes[i].len += len;
			return;
		}
		if (start + len == holes[i].start) {
			holes[i].start = start;
			holes[i].len += len;
			return;
		}
	}
	if (nholes < MAX_HOLES)
		holes[nholes++] = (struct range){start, len};
}

/* musl's: waits until no other thread is in a region that is about to be
 * unmapped or replaced. A no-op unless threads are linked in (musl's
 * vmlock.c then supplies the real one); defined here, as in musl's own
 * mmap.c, so that libc.a's copy (and with it a second __mmap) is never
 * pulled in for it. */
static void no_threads(void)
{
}
void __vm_wait(void) __attribute__((weak, alias("no_threads")));

static long raw_mmap(uint64_t at, size_t len, int prot, int flags, int fd, off_t off)
{
	return syscall(SYS_mmap, at, len, prot, flags, fd, off);
}

void *__mmap(void *start, size_t len, int prot, int flags, int fd, off_t off)
{
	if (flags & MAP_FIXED)
		__vm_wait();
	if (start || (flags & MAP_FIXED) || !len)
		return (void *)raw_mmap((uint64_t)start, len, prot, flags, fd, off);
	uint64_t size = page_round(len);
	for (int tries = 0; tries < MAX_TRIES; tries++) {
		uint64_t at = arena_take(size);
		if (!at)
			break;
		long got = raw_mmap(at, len, prot, flags & ~MAP_FIXED_NOREPLACE, fd, off);
		if (got == -1)
			return MAP_FAILED; /* errno from the kernel */
		if ((uint64_t)got == at)
			return (void *)got;
		/* Someone else's mapping is there: skip that range for good. */
		syscall(SYS_munmap, got, len);
	}
	errno = ENOMEM;
	return MAP_FAILED;
}

int __munmap(void *start, size_t len)
{
	__vm_wait();
	long r = syscall(SYS_munmap, start, len);
	if (r == 0)
		arena_give((uint64_t)start, page_round(len));
	return (int)r;
}

void *__mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *fixed = 0;
	__vm_wait();
	if (flags & MREMAP_FIXED) {
		va_list ap;
		va_start(ap, flags);
		fixed = va_arg(ap, void *);
		va_end(ap);
		return (void *)syscall(SYS_mremap, old, old_len, new_len, flags, fixed);
	}
	uint64_t o = (uint64_t)old, ol = page_round(old_len), nl = page_round(new_len);
	if (!in_arena(o, ol) || !(flags & MREMAP_MAYMOVE))
		return (void *)syscall(SYS_mremap, old, old_len, new_len, flags);
	/* In place if the pages after it are free and ours. */
	if (nl <= ol || (o + ol == arena_end_used && ARENA_END - o >= nl)) {
		long r = syscall(SYS_mremap, old, old_len, new_len, 0);
		if (r != -1) {
			if (nl < ol)
				arena_give(o + nl, ol - nl);
			else if (nl > ol)
				arena_end_used = o + nl;
			return (void *)r;
		}
	}
	/* Elsewhere in the arena: reserve the destination, then move onto it. */
	void *dest = __mmap(0, nl, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (dest == MAP_FAILED)
		return MAP_FAILED;
	long r = syscall(SYS_mremap, old, old_len, new_len, MREMAP_MAYMOVE | MREMAP_FIXED, dest);
	if (r == -1) {
		__munmap(dest, nl);
		return MAP_FAILED;
	}
	arena_give(o, ol);
	return (void *)r;
}

void *mmap(void *, size_t, int, int, int, off_t) __attribute__((weak, alias("__mmap")));
#undef mmap64 /* a macro for mmap with _GNU_SOURCE; libc.a has the symbol too */
void *mmap64(void *, size_t, int, int, int, off_t) __attribute__((weak, alias("__mmap")));
int munmap(void *, size_t) __attribute__((weak, alias("__munmap")));
void *mremap(void *, size_t, size_t, int, ...) __attribute__((weak, alias("__mremap")));
