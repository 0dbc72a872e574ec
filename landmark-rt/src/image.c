/* image.c: writes the checkpoint image (format: migrate-format's
 * image/mod.rs, through the generated migrate_format.h).
 *
 * Runs inside the program, at a landmark, on the program's stack. It
 * allocates nothing from the program's heap and writes nothing through
 * stdio, so the memory it saves is the program's as it was.
 *
 * A crash at any moment leaves PATH as it was or the complete new image,
 * nothing else: the image is written into an unnamed file (O_TMPFILE) in
 * PATH's directory, which vanishes with the process if it dies, given the
 * name PATH.tmp.PID only once complete, and renamed over PATH. (Between
 * those two steps the name exists for a moment; migrate removes such files
 * of writers that are gone. A file system without O_TMPFILE gets the
 * named file from the start.) Memory is written first, each segment's
 * checksum computed from the bytes as written; the headers and notes, with
 * their checksum, last.
 *
 * Images laid out at their addresses (LANDMARK_IN_PLACE, `migrate mtd`):
 * each segment's bytes lie at the file offset equal to their address, in a
 * sparse file of WINDOW_END bytes. A process restored from such a file has
 * its memory mapped from it, privately: a page it has not written since is
 * still the file's. Its next checkpoint to the same file writes only the
 * pages it wrote (/proc/self/pagemap tells them: anonymous copies) and the
 * memory that is not the file's, over the old bytes, then the headers and
 * notes: a move costs what the program changed, not what it holds. These
 * memory checksums are 0, "not summed" (a sum would read every byte). Such
 * a file is a private temporary of one run: a failure while it is written
 * leaves it unusable (the program keeps running).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "rt.h"

extern char *__progname;
extern uint64_t landmark_brk_start;
extern unsigned long long landmark_hits;

uint64_t landmark_image_dev, landmark_image_ino;
int landmark_image_at_addresses;

enum {
	MAX_REGIONS = 1024,
	FILES_CAP = 64 << 10,
	/* The memory ranges an image written in place records (more: none,
	 * and its readers read all of it). */
	MAX_WRITTEN = 32768,
	NOTES_CAP = FILES_CAP + MAX_FRAMES * sizeof(struct walked_frame) + 16384 + 4096 +
		    sizeof(struct image_integrity) + 8 * (MAX_REGIONS + 1) + 16 * MAX_WRITTEN + 32,
	/* The TLS block a thread note carries (musl's built-in block is
	 * smaller: larger ones are refused before this). */
	THREAD_TLS_CAP = 4096,
	/* Memory goes through this buffer: the checksum must be of the bytes
	 * written, and the stack page below the stack pointer changes as this
	 * code calls functions. */
	CHUNK = 1 << 20
};

struct note_buf {
	unsigned char *p;
	size_t len, cap;
};

static int put_note(struct note_buf *b, const char *name, uint32_t type, const void *desc,
		    size_t size)
{
	Elf64_Nhdr h = {.n_namesz = (Elf64_Word)strlen(name) + 1, .n_descsz = (Elf64_Word)size,
			.n_type = type};
	size_t name_pad = (h.n_namesz + 3) & ~3u, desc_pad = (size + 3) & ~(size_t)3;
	if (b->len + sizeof h + name_pad + desc_pad > b->cap)
		return -1;
	unsigned char *p = b->p + b->len;
	memset(p, 0, sizeof h + name_pad + desc_pad);
	memcpy(p, &h, sizeof h);
	memcpy(p + sizeof h, name, h.n_namesz);
	if (desc) /* else zeros, filled in later */
		memcpy(p + sizeof h + name_pad, desc, size);
	b->len += sizeof h + name_pad + desc_pad;
	return 0;
}

/* The kernel's view of every signal with a handler or SIG_IGN (raw
 * rt_sigaction: restore puts back exactly this). */
static size_t collect_signals(struct image_signal *out)
{
	size_t n = 0;
	for (unsigned sig = 1; sig < 65; sig++) {
		struct {
			uint64_t handler, flags, restorer, mask;
		} k;
		if (sig == SIGKILL || sig == SIGSTOP ||
		    syscall(SYS_rt_sigaction, sig, 0, &k, 8) != 0 || k.handler == 0)
			continue;
		out[n++] = (struct image_signal){sig, 0, k.handler, k.flags, k.restorer, k.mask};
	}
	return n;
}

static int build_notes(struct note_buf *b, unsigned id, const struct landmark_regs *regs,
		       const struct walked_frame *frames, int nframes, const char *files,
		       size_t files_len, char *err, size_t errlen)
{
	unsigned char prstatus[512], fpregs[1024];
	size_t prsize = landmark_prstatus(regs, getpid(), prstatus);
	size_t fpsize = landmark_fpregset(regs, fpregs);
	struct {
		char state, sname, zomb, nice;
		uint32_t pad;
		uint64_t flag;
		uint32_t uid, gid, pid, ppid, pgrp, sid;
		char fname[16], psargs[80];
	} ps = {.state = 0, .sname = 'R', .uid = getuid(), .gid = getgid(), .pid = getpid(),
		.ppid = getppid()};
	strncpy(ps.fname, __progname ? __progname : "", sizeof ps.fname);
	strncpy(ps.psargs, __progname ? __progname : "", sizeof ps.psargs);

	size_t id_len;
	const unsigned char *build_id = landmark_build_id(&id_len);
	if (!build_id) {
		landmark_format(err, errlen, "the executable has no build-id (link with --build-id)");
		return -1;
	}
	struct image_state st = {
		.version = IMAGE_VERSION,
		.call_site = id,
		.hits = landmark_hits,
		.brk_start = landmark_brk_start,
		.brk = (uint64_t)syscall(SYS_brk, 0),
		.stack_lo = landmark_stack_lo,
		.stack_hi = landmark_stack_hi,
		.thread_pointer = __landmark_thread_pointer(),
		.pid = (uint32_t)getpid(),
		.vdso = getauxval(AT_SYSINFO_EHDR),
	};
	mode_t mask = umask(0);
	umask(mask);
	st.umask = mask;
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, 0, &st.sigmask, 8);

	char exe[PATH_MAX], cwd[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n < 0 || !getcwd(cwd, sizeof cwd)) {
		landmark_format(err, errlen, "cannot read the executable's path or the working directory: %s",
			 strerror(errno));
		return -1;
	}
	exe[n] = 0;
	struct image_signal signals[64];
	size_t nsig = collect_signals(signals);
	unsigned char thread[sizeof(struct image_thread) + THREAD_TLS_CAP];
	size_t thread_len = landmark_thread_note(thread, sizeof thread);
	if (!thread_len) {
		landmark_format(err, errlen, "the thread's TLS block is larger than %d bytes",
			 THREAD_TLS_CAP);
		return -1;
	}

	if (put_note(b, "CORE", NT_PRSTATUS, prstatus, prsize) ||
	    put_note(b, "CORE", NT_PRPSINFO, &ps, sizeof ps) ||
	    put_note(b, "CORE", NT_FPREGSET, fpregs, fpsize) ||
	    put_note(b, "GNU", NT_GNU_BUILD_ID, build_id, id_len) ||
	    put_note(b, NOTE_NAME, NOTE_STATE, &st, sizeof st) ||
	    put_note(b, NOTE_NAME, NOTE_EXE, exe, strlen(exe) + 1) ||
	    put_note(b, NOTE_NAME, NOTE_CWD, cwd, strlen(cwd) + 1) ||
	    put_note(b, NOTE_NAME, NOTE_FILES, files, files_len) ||
	    put_note(b, NOTE_NAME, NOTE_SIGNALS, signals, nsig * sizeof signals[0]) ||
	    put_note(b, NOTE_NAME, NOTE_FRAMES, frames, (size_t)nframes * sizeof frames[0]) ||
	    put_note(b, NOTE_NAME, NOTE_THREAD, thread, thread_len)) {
		landmark_format(err, errlen, "too much to record in the image's notes");
		return -1;
	}
	return 0;
}

/* One image segment: a mapping, or the part of one, whose bytes are all
 * saved or all not. */
struct segment {
	uint64_t start, end;
	int prot, saved;
	/* Mapped from the image this process was restored from, at the
	 * offset equal to its address. */
	int backed;
};

/* True if the region shows the image file this process was restored
 * from, laid out at its addresses. */
static int from_live_image(const struct region *r)
{
	return landmark_image_at_addresses && landmark_region_from_image(r);
}

/* One segment per window mapping, except that the program's stack below
 * the stack pointer, and the unsafe stack below the unsafe stack pointer,
 * are dead and only their size is recorded. */
int landmark_region_from_image(const struct region *r)
{
	return landmark_image_ino && r->inode == landmark_image_ino &&
	       makedev(r->dev_major, r->dev_minor) == landmark_image_dev;
}

static int plan_segments(struct segment *seg, struct region *r, int max, uint64_t sp,
			 int *misplaced, char *err, size_t errlen)
{
	*misplaced = 0;
	int n = landmark_window_regions(r, MAX_REGIONS);
	if (n < 0) {
		landmark_format(err, errlen, "cannot read this process's mappings (/proc/self/maps)");
		return -1;
	}
	int k = 0;
	for (int i = 0; i < n; i++) {
		if (r[i].executable)
			continue;
		if (r[i].shared) {
			landmark_format(err, errlen,
				 "a shared mapping at %#llx-%#llx cannot be checkpointed",
				 (unsigned long long)r[i].start, (unsigned long long)r[i].end);
			return -1;
		}
		if (k + 2 > max) {
			landmark_format(err, errlen, "more than %d mappings", max);
			return -1;
		}
		int readable = (r[i].prot & PROT_READ) != 0;
		uint64_t start = r[i].start;
		int backed = from_live_image(&r[i]);
		/* Moved (mremap) or mapped by the program at another offset:
		 * its clean pages show other addresses' bytes. */
		if (backed && r[i].offset != r[i].start)
			*misplaced = 1;
		/* The kernel merges the unsafe stack with an anonymous mapping
		 * just below it (a large malloc): that part is live memory. */
		if (start < landmark_unsafe_lo && r[i].end > landmark_unsafe_lo) {
			if (k + 3 > max) {
				landmark_format(err, errlen, "more than %d mappings", max);
				return -1;
			}
			seg[k++] = (struct segment){start, landmark_unsafe_lo, r[i].prot, readable, backed};
			start = landmark_unsafe_lo;
		}
		uint64_t cut = sp & ~(uint64_t)4095;
		int in_stack = start >= landmark_stack_lo && r[i].end <= landmark_stack_hi;
		if (start >= landmark_unsafe_lo && r[i].end <= landmark_unsafe_hi) {
			cut = (uint64_t)__landmark_unsafe_sp & ~(uint64_t)4095;
			in_stack = 1;
		}
		/* All below the stack pointer: dead. (No stack object in use on
		 * the unsafe stack; or, under qemu-user, which does not merge
		 * the mappings a restore made, the part of the stack below the
		 * one holding sp.) */
		if (in_stack && cut >= r[i].end) {
			seg[k++] = (struct segment){start, r[i].end, r[i].prot, 0, backed};
			continue;
		}
		if (readable && cut > start && cut < r[i].end) {
			seg[k++] = (struct segment){start, cut, r[i].prot, 0, backed};
			seg[k++] = (struct segment){cut, r[i].end, r[i].prot, 1, backed};
		} else {
			seg[k++] = (struct segment){start, r[i].end, r[i].prot, readable, backed};
		}
	}
	return k;
}

/* The writer's working memory, mapped outside the migration window so
 * that it is not part of the image (nor of the program's memory). */
struct scratch {
	unsigned char chunk[CHUNK];
	char files[FILES_CAP];
	unsigned char notes[NOTES_CAP];
	struct region regions[MAX_REGIONS];
	struct segment seg[MAX_REGIONS];
	Elf64_Phdr ph[1 + MAX_REGIONS];
	/* The memory written in place: [start, end) pairs, and how many
	 * (counted past MAX_WRITTEN). */
	uint64_t written[2 * MAX_WRITTEN];
	size_t nwritten;
};

/* Notes [start, start + len) as written in place. */
static void record_written(struct scratch *w, uint64_t start, uint64_t len)
{
	if (w->nwritten && w->nwritten <= MAX_WRITTEN && w->written[2 * w->nwritten - 1] == start) {
		w->written[2 * w->nwritten - 1] = start + len;
		return;
	}
	if (w->nwritten < MAX_WRITTEN) {
		w->written[2 * w->nwritten] = start;
		w->written[2 * w->nwritten + 1] = start + len;
	}
	w->nwritten++;
}

static struct scratch *scratch(void)
{
	return landmark_outside_window(sizeof(struct scratch));
}

static int write_image(struct scratch *w, const char *path, unsigned id,
		       const struct landmark_regs *regs, const struct walked_frame *frames,
		       int nframes, int at_addresses, uint64_t *written, char *err, size_t errlen);

static int fail(char *err, size_t errlen, const char *what, const char *path)
{
	landmark_format(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return -1;
}

int landmark_write_image(const char *path, unsigned id, const struct landmark_regs *regs,
			 const struct walked_frame *frames, int nframes, int at_addresses,
			 uint64_t *written, char *err, size_t errlen)
{
	*written = 0;
	if (!landmark_stack_lo) {
		landmark_format(err, errlen, "the program's stack is not in the migration window "
				      "(see the message at start-up)");
		return -1;
	}
	uint64_t usp = (uint64_t)__landmark_unsafe_sp;
	if (usp <= landmark_unsafe_lo || usp > landmark_unsafe_hi) {
		landmark_format(err, errlen, "the unsafe stack (of the program's escaping stack objects) "
				      "is not in the migration window (see the message at start-up)");
		return -1;
	}
	if (__libc.threads_minus_1 > 0) {
		landmark_format(err, errlen, "the program has started a second thread; "
				      "only single-threaded programs can be checkpointed");
		return -1;
	}
	uint64_t tp = __landmark_thread_pointer();
	if (tp < WINDOW_START || tp >= WINDOW_END) {
		landmark_format(err, errlen, "the thread's TLS block is outside the migration window "
				      "(larger than musl's built-in one)");
		return -1;
	}
	struct scratch *w = scratch();
	if (!w) {
		landmark_format(err, errlen, "cannot allocate memory outside the migration window");
		return -1;
	}
	int rc = write_image(w, path, id, regs, frames, nframes, at_addresses, written, err, errlen);
	syscall(SYS_munmap, w, sizeof *w);
	return rc;
}

/* Creates the file the image is written into: unnamed in PATH's directory
 * if the file system can, else TMP itself. *named says which. */
static int create_image_file(const char *path, const char *tmp, int *named)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else
		landmark_format(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	*named = fd < 0;
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL))
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	return fd;
}

/* Gives the unnamed file the name TMP. */
static int name_image_file(int fd, const char *tmp)
{
	char proc[64];
	landmark_format(proc, sizeof proc, "/proc/self/fd/%d", fd);
	unlink(tmp); /* a leftover of an earlier writer with this PID */
	return linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW);
}

static int pwrite_all(int fd, const void *p, size_t len, uint64_t at)
{
	const char *c = p;
	while (len) {
		ssize_t w = pwrite(fd, c, len > (1u << 30) ? (1u << 30) : len, (off_t)at);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w, len -= (size_t)w, at += (uint64_t)w;
	}
	return 0;
}

/* Writes a segment's saved bytes (if any) at their offset through the
 * chunk buffer; returns its checksum in *sum. */
static int write_segment(int fd, struct scratch *w, const Elf64_Phdr *ph, uint64_t *sum)
{
	struct landmark_xxh64 h;
	landmark_xxh64_init(&h);
	/* The checksum starts with the segment's identity: memory moved,
	 * resized or re-flagged fails as surely as memory changed. */
	struct segment_identity id = {ph->p_vaddr, ph->p_memsz, ph->p_flags, 0};
	landmark_xxh64_update(&h, &id, sizeof id);
	for (uint64_t done = 0; done < ph->p_filesz;) {
		size_t n = ph->p_filesz - done < CHUNK ? (size_t)(ph->p_filesz - done) : CHUNK;
		memcpy(w->chunk, (const void *)(ph->p_vaddr + done), n);
		landmark_xxh64_update(&h, w->chunk, n);
		if (pwrite_all(fd, w->chunk, n, ph->p_offset + done) != 0)
			return -1;
		done += n;
	}
	*sum = landmark_xxh64_digest(&h);
	return 0;
}

/* A page of /proc/self/pagemap: written by this process since it was
 * mapped (an anonymous page, present or swapped out), rather than still
 * the file's or never touched. */
static int page_written(uint64_t entry)
{
	int present = (entry >> 63) & 1, swapped = (entry >> 62) & 1, file = (entry >> 61) & 1;
	return swapped || (present && !file);
}

/* /proc/self/pagemap, if its view of addresses is the program's: under a
 * qemu-user whose guest addresses are not the host's, a page this code
 * just wrote would not read as written there. -1 if not. */
static int open_pagemap(struct scratch *w)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* The scratch memory is fresh: its first page written now, its last
	 * chunk page never (not present, not written; its soft-dirty bit,
	 * set on a new mapping where the kernel tracks it, does not count). */
	volatile unsigned char *first = w->chunk;
	*first = 1;
	uint64_t e[2], page = (uint64_t)w->chunk / 4096;
	if (landmark_pread_all(fd, &e[0], 8, page * 8) != 0 ||
	    landmark_pread_all(fd, &e[1], 8, (page + CHUNK / 4096 - 1) * 8) != 0 ||
	    !page_written(e[0]) || page_written(e[1]) || (e[1] >> 63)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* PAGEMAP_SCAN (Linux 6.7, <linux/fs.h>; not in Debian 12's headers nor
 * musl's): the ranges of pages of a given kind in one system call, where
 * reading /proc/self/pagemap costs 8 bytes per page. */
enum {
	PAGE_IS_FILE = 1 << 2,
	PAGE_IS_PRESENT = 1 << 3,
	PAGE_IS_SWAPPED = 1 << 4,
};
struct page_region {
	uint64_t start, end, categories;
};
struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)

/* Writes [from, from + len) at the offset equal to its address. */
static int write_at_address(int fd, struct scratch *w, uint64_t from, uint64_t len,
			    uint64_t *written)
{
	if (pwrite_all(fd, (const void *)from, len, from) != 0)
		return -1;
	*written += len;
	record_written(w, from, len);
	return 0;
}

/* write_written_pages through PAGEMAP_SCAN: 1 if the kernel has it (0 or
 * -1 then as write_written_pages), 0 if not. */
static int scan_written_pages(int fd, int pagemap, struct scratch *w, uint64_t start,
			      uint64_t end, uint64_t *written, int *rc)
{
	struct page_region *r = (struct page_region *)w->chunk;
	for (uint64_t at = start; at < end;) {
		/* Anonymous (not the file's) and present or swapped out. */
		struct pm_scan_arg a = {
			.size = sizeof a,
			.start = at,
			.end = end,
			.vec = (uint64_t)r,
			.vec_len = CHUNK / sizeof *r,
			.category_inverted = PAGE_IS_FILE,
			.category_mask = PAGE_IS_FILE,
			.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
			.return_mask = PAGE_IS_FILE | PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
		};
		long n = ioctl(pagemap, PAGEMAP_SCAN, &a);
		if (n < 0 && at == start)
			return 0; /* an older kernel, or qemu-user */
		if (n < 0 || a.walk_end <= at || a.walk_end > end) {
			*rc = -1;
			return 1;
		}
		for (long i = 0; i < n; i++)
			if (write_at_address(fd, w, r[i].start, r[i].end - r[i].start, written) != 0) {
				*rc = -1;
				return 1;
			}
		at = a.walk_end;
	}
	*rc = 0;
	return 1;
}

/* Writes the pages of [start, end) this process wrote since it mapped
 * them from the image, each at the offset equal to its address. */
static int write_written_pages(int fd, int pagemap, struct scratch *w, uint64_t start,
			       uint64_t end, uint64_t *written)
{
	int rc;
	if (scan_written_pages(fd, pagemap, w, start, end, written, &rc))
		return rc;
	uint64_t *entry = (uint64_t *)w->chunk;
	const uint64_t batch = CHUNK / sizeof *entry;
	for (uint64_t at = start; at < end;) {
		uint64_t n = (end - at) / 4096 < batch ? (end - at) / 4096 : batch;
		if (landmark_pread_all(pagemap, entry, n * sizeof *entry, at / 4096 * sizeof *entry))
			return -1;
		for (uint64_t i = 0; i < n;) {
			if (!page_written(entry[i])) {
				i++;
				continue;
			}
			uint64_t j = i + 1;
			while (j < n && page_written(entry[j]))
				j++;
			if (write_at_address(fd, w, at + i * 4096, (j - i) * 4096, written) != 0)
				return -1;
			i = j;
		}
		at += n * 4096;
	}
	return 0;
}

/* True if the file at `path` is the image this process's memory is
 * mapped from (and the mappings are where the file has their bytes). */
static int is_live_image(const char *path, int misplaced)
{
	struct stat st;
	return landmark_image_at_addresses && !misplaced && stat(path, &st) == 0 &&
	       st.st_ino == landmark_image_ino && st.st_dev == landmark_image_dev;
}

/* The headers' checksum (over the ELF header, program headers and notes,
 * the memory checksums in them included), into the notes' last 8 bytes. */
static void seal_headers(const Elf64_Ehdr *eh, const Elf64_Phdr *ph, struct note_buf *b)
{
	struct landmark_xxh64 h;
	landmark_xxh64_init(&h);
	landmark_xxh64_update(&h, eh, sizeof *eh);
	landmark_xxh64_update(&h, ph, sizeof ph[0] * (size_t)eh->e_phnum);
	landmark_xxh64_update(&h, b->p, b->len - 8);
	uint64_t sum = landmark_xxh64_digest(&h);
	memcpy(b->p + b->len - 8, &sum, 8);
}

/* Seals the headers and writes them and the notes; counts them in
 * *written. */
static int write_headers(int fd, const Elf64_Ehdr *eh, const Elf64_Phdr *ph, struct note_buf *b,
			 uint64_t *written)
{
	seal_headers(eh, ph, b);
	*written += sizeof *eh + sizeof ph[0] * (size_t)eh->e_phnum + b->len;
	return pwrite_all(fd, eh, sizeof *eh, 0) == 0 &&
			       pwrite_all(fd, ph, sizeof ph[0] * (size_t)eh->e_phnum, sizeof *eh) == 0 &&
			       pwrite_all(fd, b->p, b->len, ph[0].p_offset) == 0
		       ? 0
		       : -1;
}

/* Into the image this process was restored from, at their addresses: the
 * pages written since, and the memory not mapped from it. */
static int write_memory_in_place(int fd, int pagemap, struct scratch *w, int nseg,
				 uint64_t *written)
{
	w->nwritten = 0;
	for (int i = 0; i < nseg; i++) {
		const struct segment *s = &w->seg[i];
		if (!s->saved)
			continue;
		if (s->backed) {
			if (write_written_pages(fd, pagemap, w, s->start, s->end, written) != 0)
				return -1;
			continue;
		}
		if (write_at_address(fd, w, s->start, s->end - s->start, written) != 0)
			return -1;
	}
	return 0;
}

/* A new file, renamed over `path` once complete. */
static int write_new_file(struct scratch *w, const char *path, const Elf64_Ehdr *eh,
			  struct note_buf *b, unsigned char *memory_sums, int at_addresses,
			  uint64_t *written, char *err, size_t errlen)
{
	const Elf64_Phdr *ph = w->ph;
	char tmp[PATH_MAX];
	if (landmark_format(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp) {
		landmark_format(err, errlen, "image path too long");
		return -1;
	}
	int named;
	int fd = create_image_file(path, tmp, &named);
	if (fd < 0)
		return fail(err, errlen, "cannot create an image file for", path);
	int ok = 1;
	for (int i = 0; ok && i + 1 < eh->e_phnum; i++) {
		uint64_t sum = 0;
		ok = write_segment(fd, w, &ph[1 + i], &sum) == 0;
		memcpy(memory_sums + 8 * i, &sum, 8);
		*written += ph[1 + i].p_filesz;
	}
	if (ok)
		ok = write_headers(fd, eh, ph, b, written) == 0;
	/* Room for the memory to grow at its addresses (musl's mremap). */
	if (ok && at_addresses)
		ok = ftruncate(fd, (off_t)WINDOW_END) == 0;
	if (ok && !named)
		ok = name_image_file(fd, tmp) == 0;
	if (!ok || close(fd) != 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return fail(err, errlen, "cannot write", tmp);
	}
	if (rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return fail(err, errlen, "cannot rename the image to", path);
	}
	return 0;
}

static int write_image(struct scratch *w, const char *path, unsigned id,
		       const struct landmark_regs *regs, const struct walked_frame *frames,
		       int nframes, int at_addresses, uint64_t *written, char *err, size_t errlen)
{
	size_t files_len;
	if (landmark_collect_files(w->files, sizeof w->files, &files_len, err, errlen) != 0)
		return -1;
	struct segment *seg = w->seg;
	int misplaced;
	int nseg = plan_segments(seg, w->regions, MAX_REGIONS,
#if defined(__x86_64__)
				 regs->rsp,
#else
				 regs->sp,
#endif
				 &misplaced, err, errlen);
	if (nseg < 0)
		return -1;
	struct note_buf b = {w->notes, 0, sizeof w->notes};
	if (build_notes(&b, id, regs, frames, nframes, w->files, files_len, err, errlen) != 0)
		return -1;
	/* In place: the memory first (its offsets are its addresses), then
	 * the note of what was written, the headers and notes last. */
	int pagemap = -1, fd = -1;
	if (at_addresses && is_live_image(path, misplaced))
		pagemap = open_pagemap(w);
	if (pagemap >= 0) {
		fd = open(path, O_WRONLY | O_CLOEXEC);
		int ok = fd >= 0 && write_memory_in_place(fd, pagemap, w, nseg, written) == 0;
		close(pagemap);
		if (!ok) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			errno = e;
			return fail(err, errlen, "cannot write", path);
		}
		if (w->nwritten <= MAX_WRITTEN &&
		    put_note(&b, NOTE_NAME, NOTE_WRITTEN, w->written, 16 * w->nwritten) != 0) {
			close(fd);
			landmark_format(err, errlen, "too much to record in the image's notes");
			return -1;
		}
	}
	/* Last, the integrity note: its head, a checksum per segment and the
	 * headers' checksum, filled in once the memory is written. */
	size_t integrity_size = sizeof(struct image_integrity) + 8 * (size_t)nseg + 8;
	if (put_note(&b, NOTE_NAME, NOTE_INTEGRITY, 0, integrity_size) != 0) {
		landmark_format(err, errlen, "too much to record in the image's notes");
		return -1;
	}
	unsigned char *integrity = b.p + b.len - integrity_size;
	struct image_integrity head = {.algorithm = INTEGRITY_XXH64, .segments = (uint32_t)nseg};
	memcpy(integrity, &head, sizeof head);
	unsigned char *memory_sums = integrity + sizeof head;

	Elf64_Ehdr eh = {
		.e_ident = {ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT,
			    ELFOSABI_NONE},
		.e_type = ET_CORE,
		.e_machine = landmark_elf_machine,
		.e_version = EV_CURRENT,
		.e_phoff = sizeof(Elf64_Ehdr),
		.e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr),
		.e_phnum = (Elf64_Half)(1 + nseg),
	};
	Elf64_Phdr *ph = w->ph;
	uint64_t off = sizeof eh + (uint64_t)(1 + nseg) * sizeof(Elf64_Phdr);
	ph[0] = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = off, .p_filesz = b.len, .p_align = 4};
	off += b.len;
	if (at_addresses && off > WINDOW_START) {
		if (fd >= 0)
			close(fd);
		landmark_format(err, errlen, "the image's headers and notes do not fit below its memory");
		return -1;
	}
	for (int i = 0; i < nseg; i++) {
		uint64_t size = seg[i].end - seg[i].start;
		/* Saved bytes at an offset congruent to their address (equal
		 * to it, laid out at addresses). */
		if (seg[i].saved && at_addresses) {
			off = seg[i].start;
		} else if (seg[i].saved) {
			off = (off + IMAGE_ALIGN - 1) & ~(IMAGE_ALIGN - 1);
			off += seg[i].start % IMAGE_ALIGN;
		}
		int p = seg[i].prot;
		ph[1 + i] = (Elf64_Phdr){
			.p_type = PT_LOAD,
			.p_flags = (p & PROT_READ ? PF_R : 0) | (p & PROT_WRITE ? PF_W : 0) |
				   (p & PROT_EXEC ? PF_X : 0),
			.p_offset = seg[i].saved ? off : 0,
			.p_vaddr = seg[i].start,
			.p_filesz = seg[i].saved ? size : 0,
			.p_memsz = size,
			.p_align = IMAGE_ALIGN,
		};
		if (seg[i].saved)
			off += size;
	}
	if (fd < 0)
		return write_new_file(w, path, &eh, &b, memory_sums, at_addresses, written, err, errlen);
	int ok = write_headers(fd, &eh, ph, &b, written) == 0;
	if (!ok || close(fd) != 0)
		return fail(err, errlen, "cannot write", path);
	return 0;
}
