/* advice.c: madvise for a program whose memory is mapped from its image.
 *
 * A restored program's memory is mapped privately from the image file
 * (restore.c); an image laid out at its addresses (image.c) maps the
 * program's anonymous mappings that way too. Where anonymous memory given
 * MADV_DONTNEED reads zeros afterwards, such a mapping would read the
 * image's bytes again: the program would see old data where it expects
 * zeros. So the pages are replaced by anonymous zero pages instead. And
 * MADV_FREE, which the kernel refuses (EINVAL) on a file mapping, succeeds
 * and leaves the bytes as they are, as it may on anonymous memory (musl's
 * malloc gives every freed run of pages this advice).
 *
 * This replaces musl's __madvise and its public alias (as heap.c does
 * __mmap).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rt.h"

enum { MAX_REGIONS = 1024 };

extern uint64_t landmark_brk_start;

/* Replaces the pages of [start, end) mapped from the image by anonymous
 * zero pages of the same protection. */
static int zero_file_pages(uint64_t start, uint64_t end)
{
	struct region *r = landmark_outside_window(MAX_REGIONS * sizeof *r);
	if (!r)
		return -1;
	int n = landmark_window_regions(r, MAX_REGIONS), rc = n < 0 ? -1 : 0;
	for (int i = 0; i < n && rc == 0; i++) {
		uint64_t lo = r[i].start > start ? r[i].start : start;
		uint64_t hi = r[i].end < end ? r[i].end : end;
		if (lo >= hi || !landmark_region_from_image(&r[i]) || r[i].shared)
			continue;
		long got = syscall(SYS_mmap, lo, hi - lo, r[i].prot,
				   MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0);
		if ((uint64_t)got != lo)
			rc = -1;
	}
	syscall(SYS_munmap, r, MAX_REGIONS * sizeof *r);
	return rc;
}

int __madvise(void *addr, size_t len, int advice)
{
	uint64_t start = (uint64_t)addr, end = start + len;
	/* Not the executable's data and bss: from the executable, not
	 * anonymous memory, in a program that never moved. */
	int ours = landmark_image_ino && start % 4096 == 0 && end > start &&
		   start >= landmark_brk_start && end <= WINDOW_END;
	if (ours && advice == MADV_DONTNEED) {
		long r = syscall(SYS_madvise, addr, len, advice);
		if (r != 0)
			return (int)r;
		return zero_file_pages(start, (end + 4095) & ~4095ULL) == 0 ? 0 : (errno = ENOMEM, -1);
	}
	long r = syscall(SYS_madvise, addr, len, advice);
	if (r != 0 && ours && advice == MADV_FREE && errno == EINVAL)
		return 0;
	return (int)r;
}

int madvise(void *, size_t, int) __attribute__((weak, alias("__madvise")));
