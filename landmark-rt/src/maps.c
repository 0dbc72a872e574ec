/* maps.c: the mappings of this process inside the migration window, from
 * /proc/self/maps (which qemu-user emulates for the guest). */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rt.h"

/* The address range of the executable's own loaded segments. */
static void executable_range(uint64_t *lo, uint64_t *hi)
{
	const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
	size_t n = getauxval(AT_PHNUM);
	*lo = UINT64_MAX, *hi = 0;
	for (size_t i = 0; ph && i < n; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (ph[i].p_vaddr < *lo)
			*lo = ph[i].p_vaddr;
		if (ph[i].p_vaddr + ph[i].p_memsz > *hi)
			*hi = ph[i].p_vaddr + ph[i].p_memsz;
	}
}

static uint64_t hex(const char **p)
{
	uint64_t v = 0;
	for (;; (*p)++) {
		char c = **p;
		if (c >= '0' && c <= '9')
			v = v * 16 + (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (uint64_t)(c - 'a' + 10);
		else
			return v;
	}
}

/* One line of /proc/self/maps: "start-end rwxp offset dev inode path". */
static int parse_line(const char *p, struct region *r, uint64_t exe_lo, uint64_t exe_hi)
{
	r->start = hex(&p);
	if (*p++ != '-')
		return -1;
	r->end = hex(&p);
	if (*p++ != ' ' || !p[0] || !p[1] || !p[2] || !p[3])
		return -1;
	r->prot = (p[0] == 'r' ? PROT_READ : 0) | (p[1] == 'w' ? PROT_WRITE : 0) |
		  (p[2] == 'x' ? PROT_EXEC : 0);
	r->shared = p[3] == 's';
	/* "offset major:minor inode": which file a mapping shows, and where. */
	p += 4;
	if (*p++ != ' ')
		return -1;
	r->offset = hex(&p);
	if (*p++ != ' ')
		return -1;
	r->dev_major = (unsigned)hex(&p);
	if (*p++ != ':')
		return -1;
	r->dev_minor = (unsigned)hex(&p);
	if (*p++ != ' ')
		return -1;
	r->inode = 0;
	for (; *p >= '0' && *p <= '9'; p++)
		r->inode = r->inode * 10 + (uint64_t)(*p - '0');
	r->executable = !(r->prot & PROT_WRITE) && r->start >= (exe_lo & ~4095UL) && r->end <= exe_hi;
	return 0;
}

int landmark_window_regions(struct region *out, int max)
{
	uint64_t exe_lo, exe_hi;
	executable_range(&exe_lo, &exe_hi);
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char buf[4096], line[512];
	size_t len = 0;
	int n = 0, overflow = 0;
	ssize_t got;
	while ((got = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < got; i++) {
			if (buf[i] != '\n') {
				if (len < sizeof line - 1)
					line[len++] = buf[i];
				continue;
			}
			line[len] = 0;
			len = 0;
			struct region r;
			if (parse_line(line, &r, exe_lo, exe_hi) != 0)
				continue;
			if (r.start < WINDOW_START || r.end > WINDOW_END)
				continue;
			if (n == max) {
				overflow = 1;
				continue;
			}
			out[n++] = r;
		}
	}
	close(fd);
	return got < 0 || overflow ? -1 : n;
}
