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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rt.h"

extern char *__progname;
extern uint64_t landmark_brk_start;
extern unsigned long long landmark_hits;

enum {
	MAX_REGIONS = 1024,
	FILES_CAP = 64 << 10,
	NOTES_CAP = FILES_CAP + MAX_FRAMES * sizeof(struct walked_frame) + 16384 + 4096 +
		    sizeof(struct image_integrity) + 8 * (MAX_REGIONS + 1),
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
		snprintf(err, errlen, "the executable has no build-id (link with --build-id)");
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
		snprintf(err, errlen, "cannot read the executable's path or the working directory: %s",
			 strerror(errno));
		return -1;
	}
	exe[n] = 0;
	struct image_signal signals[64];
	size_t nsig = collect_signals(signals);
	unsigned char thread[sizeof(struct image_thread) + THREAD_TLS_CAP];
	size_t thread_len = landmark_thread_note(thread, sizeof thread);
	if (!thread_len) {
		snprintf(err, errlen, "the thread's TLS block is larger than %d bytes",
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
		snprintf(err, errlen, "too much to record in the image's notes");
		return -1;
	}
	return 0;
}

/* One image segment: a mapping, or the part of one, whose bytes are all
 * saved or all not. */
struct segment {
	uint64_t start, end;
	int prot, saved;
};

/* One segment per window mapping, except that the program's stack below
 * the stack pointer, and the unsafe stack below the unsafe stack pointer,
 * are dead and only their size is recorded. */
static int plan_segments(struct segment *seg, struct region *r, int max, uint64_t sp, char *err,
			 size_t errlen)
{
	int n = landmark_window_regions(r, MAX_REGIONS);
	if (n < 0) {
		snprintf(err, errlen, "cannot read this process's mappings (/proc/self/maps)");
		return -1;
	}
	int k = 0;
	for (int i = 0; i < n; i++) {
		if (r[i].executable)
			continue;
		if (r[i].shared) {
			snprintf(err, errlen,
				 "a shared mapping at %#llx-%#llx cannot be checkpointed",
				 (unsigned long long)r[i].start, (unsigned long long)r[i].end);
			return -1;
		}
		if (k + 2 > max) {
			snprintf(err, errlen, "more than %d mappings", max);
			return -1;
		}
		int readable = (r[i].prot & PROT_READ) != 0;
		uint64_t start = r[i].start;
		/* The kernel merges the unsafe stack with an anonymous mapping
		 * just below it (a large malloc): that part is live memory. */
		if (start < landmark_unsafe_lo && r[i].end > landmark_unsafe_lo) {
			if (k + 3 > max) {
				snprintf(err, errlen, "more than %d mappings", max);
				return -1;
			}
			seg[k++] = (struct segment){start, landmark_unsafe_lo, r[i].prot, readable};
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
			seg[k++] = (struct segment){start, r[i].end, r[i].prot, 0};
			continue;
		}
		if (readable && cut > start && cut < r[i].end) {
			seg[k++] = (struct segment){start, cut, r[i].prot, 0};
			seg[k++] = (struct segment){cut, r[i].end, r[i].prot, 1};
		} else {
			seg[k++] = (struct segment){start, r[i].end, r[i].prot, readable};
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
};

static struct scratch *scratch(void)
{
	return landmark_outside_window(sizeof(struct scratch));
}

static int write_image(struct scratch *w, const char *path, unsigned id,
		       const struct landmark_regs *regs, const struct walked_frame *frames,
		       int nframes, char *err, size_t errlen);

static int fail(char *err, size_t errlen, const char *what, const char *path)
{
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return -1;
}

int landmark_write_image(const char *path, unsigned id, const struct landmark_regs *regs,
			 const struct walked_frame *frames, int nframes, char *err, size_t errlen)
{
	if (!landmark_stack_lo) {
		snprintf(err, errlen, "the program's stack is not in the migration window "
				      "(see the message at start-up)");
		return -1;
	}
	uint64_t usp = (uint64_t)__landmark_unsafe_sp;
	if (usp <= landmark_unsafe_lo || usp > landmark_unsafe_hi) {
		snprintf(err, errlen, "the unsafe stack (of the program's escaping stack objects) "
				      "is not in the migration window (see the message at start-up)");
		return -1;
	}
	if (__libc.threads_minus_1 > 0) {
		snprintf(err, errlen, "the program has started a second thread; "
				      "only single-threaded programs can be checkpointed");
		return -1;
	}
	uint64_t tp = __landmark_thread_pointer();
	if (tp < WINDOW_START || tp >= WINDOW_END) {
		snprintf(err, errlen, "the thread's TLS block is outside the migration window "
				      "(larger than musl's built-in one)");
		return -1;
	}
	struct scratch *w = scratch();
	if (!w) {
		snprintf(err, errlen, "cannot allocate memory outside the migration window");
		return -1;
	}
	int rc = write_image(w, path, id, regs, frames, nframes, err, errlen);
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
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
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
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
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

static int write_image(struct scratch *w, const char *path, unsigned id,
		       const struct landmark_regs *regs, const struct walked_frame *frames,
		       int nframes, char *err, size_t errlen)
{
	size_t files_len;
	if (landmark_collect_files(w->files, sizeof w->files, &files_len, err, errlen) != 0)
		return -1;
	struct segment *seg = w->seg;
	int nseg = plan_segments(seg, w->regions, MAX_REGIONS,
#if defined(__x86_64__)
				 regs->rsp,
#else
				 regs->sp,
#endif
				 err, errlen);
	if (nseg < 0)
		return -1;
	struct note_buf b = {w->notes, 0, sizeof w->notes};
	if (build_notes(&b, id, regs, frames, nframes, w->files, files_len, err, errlen) != 0)
		return -1;
	/* Last, the integrity note: its head, a checksum per segment and the
	 * headers' checksum, filled in once the memory is written. */
	size_t integrity_size = sizeof(struct image_integrity) + 8 * (size_t)nseg + 8;
	if (put_note(&b, NOTE_NAME, NOTE_INTEGRITY, 0, integrity_size) != 0) {
		snprintf(err, errlen, "too much to record in the image's notes");
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
	for (int i = 0; i < nseg; i++) {
		uint64_t size = seg[i].end - seg[i].start;
		/* Saved bytes at an offset congruent to their address. */
		if (seg[i].saved) {
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

	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp) {
		snprintf(err, errlen, "image path too long");
		return -1;
	}
	int named;
	int fd = create_image_file(path, tmp, &named);
	if (fd < 0)
		return fail(err, errlen, "cannot create an image file for", path);
	int ok = 1;
	for (int i = 0; ok && i < nseg; i++) {
		uint64_t sum = 0;
		ok = write_segment(fd, w, &ph[1 + i], &sum) == 0;
		memcpy(memory_sums + 8 * i, &sum, 8);
	}
	if (ok) {
		struct landmark_xxh64 h;
		landmark_xxh64_init(&h);
		landmark_xxh64_update(&h, &eh, sizeof eh);
		landmark_xxh64_update(&h, ph, sizeof ph[0] * (size_t)(1 + nseg));
		landmark_xxh64_update(&h, b.p, b.len - 8);
		uint64_t sum = landmark_xxh64_digest(&h);
		memcpy(b.p + b.len - 8, &sum, 8);
		ok = pwrite_all(fd, &eh, sizeof eh, 0) == 0 &&
		     pwrite_all(fd, ph, sizeof ph[0] * (size_t)(1 + nseg), sizeof eh) == 0 &&
		     pwrite_all(fd, b.p, b.len, ph[0].p_offset) == 0;
	}
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
