/* memory.c: small helpers the checkpoint and restore code share. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rt.h"

void *landmark_outside_window(size_t len)
{
	/* No address: the kernel's choice (or qemu's), never the arena's. */
	long at = syscall(SYS_mmap, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	if (at == -1)
		return 0;
	if ((uint64_t)at < WINDOW_END) {
		syscall(SYS_munmap, at, len);
		return 0;
	}
	return (void *)at;
}

int landmark_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;
	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n <= 0)
			return -1;
		p += n, len -= (size_t)n, off += (uint64_t)n;
	}
	return 0;
}
