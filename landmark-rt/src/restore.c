/* restore.c: continues a checkpointed program from its image, in a new
 * process of the same executable (`migrate restore` starts it with
 * LANDMARK_RESTORE=IMAGE).
 *
 * It runs as the first constructor, on the kernel's stack, before the
 * program's own constructors and main. Everything that can fail is checked
 * or done first: the headers' checksum, the image's header, notes and
 * segments, the build-id
 * against this executable, the working directory, the open files, the heap
 * break. Then the image's segments are mapped over the window (mapped from
 * the file, not copied, so restore time does not grow with the heap) and
 * from that point only the stack and system calls are used: the data and
 * bss of libc and of this runtime are the image's now. The values that
 * belong to this process rather than to the program (DESIGN.md, the libc
 * state trap: musl's auxv pointer, hwcap, the thread ID) are put back, the
 * signal handlers and mask restored, and __landmark_resume jumps to the
 * landmark's return address with the landmark's registers.
 *
 * A failure before the mapping ends the process with status 125 and a
 * message; nothing of the program has run.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "rt.h"

enum { RESTORE_FAILED = 125, MAX_SEGMENTS = 2048, MAX_NOTES = 8 << 20 };

extern size_t __hwcap;

struct notes {
	const void *prstatus, *fpregs, *build_id, *files, *signals, *frames, *thread;
	size_t prsize, fpsize, id_len, files_len, signals_len, frames_len, thread_len;
	const struct image_state *state;
	const char *exe, *cwd;
};

static _Noreturn void die(const char *image, const char *what)
{
	landmark_say("landmark-rt: cannot restore ", image, ": ");
	landmark_say(what, "\n", 0);
	_exit(RESTORE_FAILED);
}

static const char *string_note(const void *desc, size_t size)
{
	const char *s = desc;
	return size && s[size - 1] == 0 ? s : 0;
}

/* Finds the notes restore needs; 0, or the reason the image is unusable. */
static const char *parse_notes(const unsigned char *p, size_t len, struct notes *n)
{
	memset(n, 0, sizeof *n);
	for (size_t off = 0; off + sizeof(Elf64_Nhdr) <= len;) {
		Elf64_Nhdr h;
		memcpy(&h, p + off, sizeof h);
		size_t name_at = off + sizeof h, desc_at = name_at + ((h.n_namesz + 3) & ~3u);
		if (desc_at > len || h.n_descsz > len - desc_at)
			return "its notes are truncated or corrupt";
		const char *name = (const char *)p + name_at;
		const void *desc = p + desc_at;
		off = desc_at + ((h.n_descsz + 3) & ~3u);
		/* Each note restore relies on, exactly once. */
		const void **slot = 0;
		size_t *size = 0;
		if (h.n_namesz == 5 && !memcmp(name, "CORE", 5)) {
			if (h.n_type == NT_PRSTATUS)
				slot = &n->prstatus, size = &n->prsize;
			else if (h.n_type == NT_FPREGSET)
				slot = &n->fpregs, size = &n->fpsize;
		} else if (h.n_namesz == 4 && !memcmp(name, "GNU", 4) && h.n_type == NT_GNU_BUILD_ID) {
			slot = &n->build_id, size = &n->id_len;
		} else if (h.n_namesz == sizeof NOTE_NAME && !memcmp(name, NOTE_NAME, sizeof NOTE_NAME)) {
			switch (h.n_type) {
			case NOTE_STATE:
				if (h.n_descsz != sizeof(struct image_state))
					return "its state note has the wrong size (another version?)";
				if (n->state)
					return "its notes are corrupt (a note appears twice)";
				n->state = desc;
				break;
			case NOTE_EXE:
			case NOTE_CWD: {
				const char **path = h.n_type == NOTE_EXE ? &n->exe : &n->cwd;
				if (*path || !string_note(desc, h.n_descsz))
					return "its executable or working-directory note is corrupt";
				*path = desc;
				break;
			}
			case NOTE_FILES:
				slot = &n->files, size = &n->files_len;
				break;
			case NOTE_SIGNALS:
				slot = &n->signals, size = &n->signals_len;
				break;
			case NOTE_FRAMES:
				slot = &n->frames, size = &n->frames_len;
				break;
			case NOTE_THREAD:
				slot = &n->thread, size = &n->thread_len;
				break;
			}
		}
		if (slot && *slot)
			return "its notes are corrupt (a note appears twice)";
		if (slot)
			*slot = desc;
		if (size)
			*size = h.n_descsz;
	}
	if (!n->prstatus || !n->fpregs || !n->build_id || !n->state || !n->exe || !n->cwd ||
	    !n->files || !n->signals || !n->frames || !n->thread)
		return "it lacks registers, build-id, runtime state, files, signals or frames notes (not "
		       "a landmark-rt image?)";
	if (n->state->version != IMAGE_VERSION)
		return "it was written by another version of landmark-rt";
	const struct image_thread *t = n->thread;
	if (n->thread_len < sizeof *t || n->thread_len - sizeof *t != t->tls_size)
		return "its thread note is corrupt";
	return 0;
}

/* The image's integrity note (the last note) against its ELF header,
 * program headers and notes (migrate-format's image/integrity.rs): 0, or
 * the reason. The memory's checksums are `migrate restore --verify`'s. */
static const char *check_integrity(const Elf64_Ehdr *eh, const Elf64_Phdr *ph,
				   const unsigned char *p, size_t len)
{
	size_t loads = 0;
	for (int i = 0; i < eh->e_phnum; i++)
		loads += ph[i].p_type == PT_LOAD;
	size_t desc_size = sizeof(struct image_integrity) + 8 * loads + 8;
	size_t name_pad = (sizeof NOTE_NAME + 3) & ~(size_t)3;
	size_t note_size = sizeof(Elf64_Nhdr) + name_pad + desc_size;
	const char *missing = "its last note is not an integrity note of its size (written by an "
			      "older landmark-rt, or cut short)";
	if (len < note_size)
		return missing;
	const unsigned char *note = p + len - note_size;
	Elf64_Nhdr h;
	memcpy(&h, note, sizeof h);
	if (h.n_namesz != sizeof NOTE_NAME || h.n_descsz != desc_size || h.n_type != NOTE_INTEGRITY ||
	    memcmp(note + sizeof h, NOTE_NAME, sizeof NOTE_NAME))
		return missing;
	struct image_integrity head;
	memcpy(&head, note + sizeof h + name_pad, sizeof head);
	if (head.algorithm != INTEGRITY_XXH64 || head.segments != loads)
		return "its integrity note is corrupt";
	struct landmark_xxh64 x;
	landmark_xxh64_init(&x);
	landmark_xxh64_update(&x, eh, sizeof *eh);
	landmark_xxh64_update(&x, ph, eh->e_phnum * sizeof(Elf64_Phdr));
	landmark_xxh64_update(&x, p, len - 8);
	uint64_t want;
	memcpy(&want, p + len - 8, 8);
	if (landmark_xxh64_digest(&x) != want)
		return "its headers, notes or registers do not match their checksum (the image is "
		       "corrupt)";
	return 0;
}

static const char *check_segments(const Elf64_Phdr *ph, int count, uint64_t file_size,
				  uint64_t headers_end)
{
	for (int i = 0; i < count; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		uint64_t a = ph[i].p_vaddr, m = ph[i].p_memsz, f = ph[i].p_filesz;
		if (a % 4096 || m % 4096 || a < WINDOW_START || a + m > WINDOW_END || a + m < a)
			return "a segment lies outside the migration window or is not page-aligned";
		if (f && (f != m || ph[i].p_offset % IMAGE_ALIGN != a % IMAGE_ALIGN))
			return "a segment's file layout is not mappable (corrupt image)";
		if (f && (ph[i].p_offset + f > file_size || ph[i].p_offset + f < f))
			return "it is truncated (a segment extends past the end of the file)";
		/* Each segment's bytes its own: after the headers and notes,
		 * apart from every other segment's. */
		if (f && ph[i].p_offset < headers_end)
			return "a segment is stored over the image's headers or notes";
		for (int j = i + 1; f && j < count; j++)
			if (ph[j].p_type == PT_LOAD && ph[j].p_filesz &&
			    ph[i].p_offset < ph[j].p_offset + ph[j].p_filesz &&
			    ph[j].p_offset < ph[i].p_offset + f)
				return "two segments are stored over each other in the file";
	}
	return 0;
}

/* True if [a, a + len) lies in one saved, readable and writable segment. */
static int saved_rw(const Elf64_Phdr *ph, int count, uint64_t a, uint64_t len)
{
	for (int i = 0; i < count; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_filesz && (ph[i].p_flags & PF_R) &&
		    (ph[i].p_flags & PF_W) && a >= ph[i].p_vaddr && a + len >= a &&
		    a + len <= ph[i].p_vaddr + ph[i].p_memsz)
			return 1;
	return 0;
}

/* An image's saved stack, read from its file (restore walks it before it
 * maps anything). */
struct image_stack {
	int fd, count;
	const Elf64_Phdr *ph;
	uint64_t lo, hi;
};

static int read_image_stack(void *ctx, uint64_t at, uint64_t *out)
{
	const struct image_stack *st = ctx;
	if (at < st->lo || at + 8 > st->hi || at % 8)
		return -1;
	for (int i = 0; i < st->count; i++) {
		const Elf64_Phdr *p = &st->ph[i];
		if (p->p_type == PT_LOAD && p->p_filesz && at >= p->p_vaddr &&
		    at + 8 <= p->p_vaddr + p->p_filesz)
			return landmark_pread_all(st->fd, out, 8, p->p_offset + (at - p->p_vaddr));
	}
	return -1;
}

/* True if [lo, hi) is covered by segments with all of `flags`. */
static int covered(const Elf64_Phdr *ph, int count, uint64_t lo, uint64_t hi, Elf64_Word flags)
{
	for (uint64_t at = lo; at < hi;) {
		int i = 0;
		for (; i < count; i++)
			if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & flags) == flags &&
			    at >= ph[i].p_vaddr && at - ph[i].p_vaddr < ph[i].p_memsz)
				break;
		if (i == count)
			return 0;
		at = ph[i].p_vaddr + ph[i].p_memsz;
	}
	return 1;
}

/* The same checks as migrate-format's image/check.rs and
 * Image::check_against, for a restore started without `migrate`: nothing
 * that cannot be resumed is mapped. 0, or the reason. */
static const char *check_resumable(int fd, const Elf64_Phdr *ph, int count,
				   const struct notes *n, uint64_t pc, uint64_t sp, uint64_t fp)
{
	for (int i = 0; i < count; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (ph[i].p_flags & PF_X)
			return "it has executable memory (code comes from the executable, never the image)";
		if (ph[i].p_filesz && !(ph[i].p_flags & PF_R))
			return "it has memory saved but not readable";
		for (int j = i + 1; j < count; j++)
			if (ph[j].p_type == PT_LOAD && ph[i].p_vaddr < ph[j].p_vaddr + ph[j].p_memsz &&
			    ph[j].p_vaddr < ph[i].p_vaddr + ph[i].p_memsz)
				return "two of its memory segments overlap";
	}
	/* Against this executable's own segments. */
	const Elf64_Phdr *own = (const Elf64_Phdr *)getauxval(AT_PHDR);
	size_t own_count = getauxval(AT_PHNUM);
	for (size_t k = 0; own && k < own_count; k++) {
		if (own[k].p_type != PT_LOAD)
			continue;
		uint64_t start = own[k].p_vaddr & ~4095ULL;
		uint64_t end = (own[k].p_vaddr + own[k].p_memsz + 4095) & ~4095ULL;
		if (own[k].p_flags & PF_W) {
			for (uint64_t p = start; p < end; p += 4096)
				if (!saved_rw(ph, count, p, 4096))
					return "the executable's data is not saved, writable memory in it";
			continue;
		}
		for (int i = 0; i < count; i++)
			if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < end &&
			    start < ph[i].p_vaddr + ph[i].p_memsz)
				return "it has memory over the executable's code or constants";
	}
	const struct image_state *s = n->state;
	if (!(s->stack_lo < s->stack_hi && sp >= s->stack_lo && sp < s->stack_hi) ||
	    !saved_rw(ph, count, sp, 8))
		return "its stack pointer is not in its saved, writable stack";
	if (!covered(ph, count, s->stack_lo, s->stack_hi, PF_R | PF_W))
		return "its stack is not all writable memory in the image";
	/* (Not all writable: musl's allocator keeps guard pages.) */
	if (s->brk < s->brk_start || !covered(ph, count, s->brk_start, (s->brk + 4095) & ~4095ULL, 0))
		return "its heap is not all memory in the image";
	size_t nframes = n->frames_len / sizeof(struct walked_frame);
	if (!n->frames || !nframes || n->frames_len % sizeof(struct walked_frame))
		return "its stack walk is missing or corrupt";
	const struct walked_frame *f = n->frames;
	if (f[0].pc != pc || f[0].sp != sp || f[0].call_site != s->call_site)
		return "its registers disagree with its innermost frame";
	const char *why = 0;
	for (size_t i = 0; i < nframes && !why; i++) {
		if (i && f[i].sp <= f[i - 1].sp)
			why = "its frames' stack pointers do not grow toward the stack's top";
		else if (f[i].sp >= s->stack_hi || !saved_rw(ph, count, f[i].sp, 8))
			why = "a frame's stack pointer is not in its saved stack";
		else if (!landmark_frame_known(f[i].pc, f[i].call_site))
			why = "a frame is not at a call site of this executable";
	}
	/* The walk from the registers through the saved stack must find the
	 * recorded frames and end in main's caller: return addresses, saved
	 * frame pointers and the frame pointer register are all checked. */
	if (!why) {
		struct image_stack st = {fd, count, ph, s->stack_lo, s->stack_hi};
		struct walked_frame *walk =
			landmark_outside_window((nframes + 1) * sizeof(struct walked_frame));
		int got = walk ? landmark_walk_with(pc, sp, fp, walk, (int)nframes + 1,
						    read_image_stack, &st)
			       : -1;
		if (!walk)
			why = "cannot allocate memory outside the migration window";
		else if (got != (int)nframes ||
			 memcmp(walk, f, nframes * sizeof(struct walked_frame)) != 0)
			why = "its stack does not walk to its recorded frames (a return address, "
			      "saved frame pointer or the frame pointer register is wrong)";
	}
	/* The frame table lives outside the window and must not outlast it. */
	landmark_frames_release();
	return why;
}

static void *outside_window(size_t len, const char *image)
{
	void *p = landmark_outside_window(len);
	if (!p)
		die(image, "cannot allocate memory outside the migration window");
	return p;
}

static int prot_of(Elf64_Word flags)
{
	return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) |
	       (flags & PF_X ? PROT_EXEC : 0);
}

/* Decimal digits of v at the end of buf; returns where they start. */
static char *digits(char *end, unsigned long long v)
{
	do
		*--end = (char)('0' + v % 10);
	while (v /= 10);
	return end;
}

static long long raw_now_ns(void)
{
	struct timespec ts;
	__landmark_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts, 0, 0, 0, 0);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Appends {"event":"restore","ns":T,"start":S} to the timing file: T ns
 * from this runtime's first instruction of restore (at S, CLOCK_MONOTONIC
 * ns) to the jump into the program. Raw system calls and no libc: it runs
 * after the point of no return. */
static void report_restore_timing(int out, long long start_ns)
{
	static const char head[] = "{\"event\":\"restore\",\"ns\":";
	static const char mid[] = ",\"start\":";
	char ns[32], start[32];
	char *ns_end = ns + sizeof ns, *start_end = start + sizeof start;
	char *n = digits(ns_end, (unsigned long long)(raw_now_ns() - start_ns));
	*--start_end = '\n';
	*--start_end = '}';
	char *s = digits(start_end, (unsigned long long)start_ns);
	__landmark_syscall(SYS_write, out, (long)head, sizeof head - 1, 0, 0, 0);
	__landmark_syscall(SYS_write, out, (long)n, ns_end - n, 0, 0, 0);
	__landmark_syscall(SYS_write, out, (long)mid, sizeof mid - 1, 0, 0, 0);
	__landmark_syscall(SYS_write, out, (long)s, start + sizeof start - s, 0, 0, 0);
	__landmark_syscall(SYS_close, out, 0, 0, 0, 0, 0);
}

/* Reads `len` bytes at `off` of `fd` to address `at` with raw system calls
 * (after the point of no return libc is not usable); 0 on success. */
static int read_in(int fd, uint64_t at, uint64_t len, uint64_t off)
{
	while (len) {
		long n = __landmark_syscall(SYS_pread64, fd, (long)at, (long)len, (long)off, 0, 0);
		if (n == -EINTR)
			continue;
		if (n <= 0)
			return -1;
		at += (uint64_t)n, off += (uint64_t)n, len -= (uint64_t)n;
	}
	return 0;
}

_Noreturn void landmark_restore(const char *image)
{
	long long start_ns = raw_now_ns();
	const char *timing = getenv(ENV_TIMING);
	int timing_fd = -1;
	if (timing && *timing) {
		int t = open(timing, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		timing_fd = t >= 0 ? fcntl(t, F_DUPFD_CLOEXEC, 600) : -1;
		if (t >= 0)
			close(t);
	}
	int fd0 = open(image, O_RDONLY | O_CLOEXEC);
	if (fd0 < 0)
		die(image, strerror(errno));
	/* Out of the way of the descriptors the program had. */
	int fd = fcntl(fd0, F_DUPFD_CLOEXEC, 512);
	close(fd0);
	struct stat st;
	Elf64_Ehdr eh;
	if (fd < 0 || fstat(fd, &st) != 0)
		die(image, strerror(errno));
	if (landmark_pread_all(fd, &eh, sizeof eh, 0) != 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_type != ET_CORE)
		die(image, "it is not an ELF core image (truncated or corrupt?)");
	if (eh.e_machine != landmark_elf_machine)
		die(image, "it was taken on another ISA (translate it first: migrate --to)");
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum < 2 || eh.e_phnum > MAX_SEGMENTS)
		die(image, "its program headers are corrupt");
	/* What is read from the image lives outside the window (the kernel's
	 * choice of address, not the arena's): the window is replaced below. */
	size_t ph_size = eh.e_phnum * sizeof(Elf64_Phdr);
	Elf64_Phdr *ph = outside_window(ph_size, image);
	if (landmark_pread_all(fd, ph, ph_size, eh.e_phoff) != 0)
		die(image, "it is truncated (program headers)");
	if (ph[0].p_type != PT_NOTE || !ph[0].p_filesz || ph[0].p_filesz > MAX_NOTES)
		die(image, "its notes are missing or too large");
	unsigned char *notes_buf = outside_window(ph[0].p_filesz, image);
	if (landmark_pread_all(fd, notes_buf, ph[0].p_filesz, ph[0].p_offset) != 0)
		die(image, "it is truncated (notes)");
	struct notes n;
	const char *why = check_integrity(&eh, ph, notes_buf, ph[0].p_filesz);
	if (!why)
		why = parse_notes(notes_buf, ph[0].p_filesz, &n);
	if (!why)
		why = check_segments(ph, eh.e_phnum, (uint64_t)st.st_size,
				     ph[0].p_offset + ph[0].p_filesz);
	if (why)
		die(image, why);
	size_t id_len;
	const unsigned char *own_id = landmark_build_id(&id_len);
	if (!own_id || id_len != n.id_len || memcmp(own_id, n.build_id, id_len))
		die(image, "it was taken from another build of this program (build-ids differ)");
	struct landmark_regs regs;
	if (landmark_regs_from_notes(&regs, n.prstatus, n.prsize, n.fpregs, n.fpsize) != 0)
		die(image, "its register notes have the wrong size");
#if defined(__x86_64__)
	why = check_resumable(fd, ph, eh.e_phnum, &n, regs.rip, regs.rsp, regs.rbp);
#else
	why = check_resumable(fd, ph, eh.e_phnum, &n, regs.pc, regs.sp, regs.x[10]);
#endif
	if (why)
		die(image, why);
	/* 0: none to keep (no vDSO where it was taken, or a translated image,
	 * whose musl vDSO pointer the translator reset). */
	if (n.state->vdso && n.state->vdso != getauxval(AT_SYSINFO_EHDR))
		die(image, "the kernel's vDSO is at another address here (another kernel?): musl "
			   "keeps a pointer into it");
	char err[512];
	const struct image_thread *thread = n.thread;
	if (landmark_thread_fits(thread, err, sizeof err) != 0)
		die(image, err);

	if (chdir(n.cwd) != 0) {
		landmark_format(err, sizeof err, "cannot enter its working directory %s: %s", n.cwd,
			 strerror(errno));
		die(image, err);
	}
	if (n.files && landmark_reopen_files(n.files, n.files_len, err, sizeof err) != 0)
		die(image, err);
	uint64_t brk_now = (uint64_t)syscall(SYS_brk, 0);
	if (brk_now != n.state->brk_start) {
		landmark_format(err, sizeof err,
			 "the heap starts at %#llx here and at %#llx in the image "
			 "(is address randomization on? `migrate restore` turns it off)",
			 (unsigned long long)brk_now, (unsigned long long)n.state->brk_start);
		die(image, err);
	}
	if ((uint64_t)syscall(SYS_brk, n.state->brk) != n.state->brk)
		die(image, "cannot set the heap break to the image's");

	/* Laid out at its addresses, the file as large as the window: its
	 * memory can all be mapped from it, and a checkpoint can write back
	 * only what the program changes (image.c). */
	int live = (uint64_t)st.st_size >= WINDOW_END;
	for (int i = 1; i < eh.e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_filesz && ph[i].p_offset != ph[i].p_vaddr)
			live = 0;

	/* Checkpoint triggers for the restored program (the image's runtime
	 * state has none pending). */
	struct landmark_triggers *wanted = outside_window(sizeof *wanted, image);
	landmark_triggers_read(wanted);

	/* What belongs to this process, not to the program. */
	size_t *auxv = __libc.auxv;
	size_t hwcap = __hwcap;
	/* The thread: this process's own, with the program's state put in
	 * after the mapping (thread.c). */
	struct thread_snapshot *own_thread;
	landmark_thread_keep(&own_thread);
	if (!own_thread)
		die(image, "cannot allocate memory outside the migration window");
	uint32_t umask_value = n.state->umask;
	uint64_t sigmask = n.state->sigmask;
	struct image_signal sigs[64];
	size_t nsig = n.signals_len / sizeof sigs[0];
	if (nsig > 64)
		nsig = 64;
	memcpy(sigs, n.signals, nsig * sizeof sigs[0]);

	/* The point of no return: from here on no libc, whose data (and the
	 * stack-protector canary) the image replaces; raw system calls only. */
	for (int i = 1; i < eh.e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		long prot = prot_of(ph[i].p_flags);
		/* The program's mmap arena is anonymous memory, read in: musl grows
		 * its large chunks with mremap, and a mapping of the image would
		 * grow past the file's end (SIGBUS on the new pages), or over
		 * the next segment's bytes. Not in an image laid out at its
		 * addresses: there the pages after a segment are its own, and
		 * the file reaches the window's end. */
		int arena = !live && ph[i].p_vaddr >= ARENA_START && ph[i].p_vaddr < ARENA_END;
		if (arena && ph[i].p_filesz) {
			long got = __landmark_syscall(SYS_mmap, (long)ph[i].p_vaddr, (long)ph[i].p_memsz,
						      PROT_READ | PROT_WRITE,
						      MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0);
			if ((uint64_t)got != ph[i].p_vaddr ||
			    read_in(fd, ph[i].p_vaddr, ph[i].p_filesz, ph[i].p_offset) != 0 ||
			    (prot != (PROT_READ | PROT_WRITE) &&
			     __landmark_syscall(SYS_mprotect, (long)ph[i].p_vaddr, (long)ph[i].p_memsz,
						prot, 0, 0, 0) != 0)) {
				static const char msg[] = "landmark-rt: cannot read the image's memory back\n";
				__landmark_syscall(SYS_write, 2, (long)msg, sizeof msg - 1, 0, 0, 0);
				__landmark_syscall(SYS_exit_group, RESTORE_FAILED, 0, 0, 0, 0, 0);
			}
			continue;
		}
		long got = ph[i].p_filesz
				   ? __landmark_syscall(SYS_mmap, (long)ph[i].p_vaddr, (long)ph[i].p_memsz,
							prot, MAP_PRIVATE | MAP_FIXED, fd,
							(long)ph[i].p_offset)
				   : __landmark_syscall(SYS_mmap, (long)ph[i].p_vaddr, (long)ph[i].p_memsz,
							prot,
							MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS |
								MAP_NORESERVE,
							-1, 0);
		if ((uint64_t)got != ph[i].p_vaddr) {
			static const char msg[] = "landmark-rt: cannot map the image's memory back\n";
			__landmark_syscall(SYS_write, 2, (long)msg, sizeof msg - 1, 0, 0, 0);
			__landmark_syscall(SYS_exit_group, RESTORE_FAILED, 0, 0, 0, 0, 0);
		}
	}
	__libc.auxv = auxv;
	__hwcap = hwcap;
	landmark_image_dev = (uint64_t)st.st_dev;
	landmark_image_ino = (uint64_t)st.st_ino;
	landmark_image_at_addresses = live;
	landmark_thread_restore(own_thread, thread, (const unsigned char *)(thread + 1));
	__landmark_syscall(SYS_umask, umask_value, 0, 0, 0, 0, 0);
	for (size_t i = 0; i < nsig; i++)
		__landmark_syscall(SYS_rt_sigaction, sigs[i].signo, (long)&sigs[i].handler, 0, 8, 0, 0);
	__landmark_syscall(SYS_rt_sigprocmask, SIG_SETMASK, (long)&sigmask, 0, 8, 0, 0);
	__landmark_syscall(SYS_close, fd, 0, 0, 0, 0, 0);
	landmark_triggers_apply(wanted);
	if (timing_fd >= 0)
		report_restore_timing(timing_fd, start_ns);
	__landmark_resume(&regs);
}
