/* rt.h: what the runtime's files share (not installed).
 *
 * Every format the runtime shares with the tools (the migration window,
 * image notes, the frame table, the migratable-sites table, environment
 * variable names) comes from migrate_format.h, which landmark-rt's build
 * script generates from the migrate-format crate: nothing here repeats it.
 */
#ifndef LANDMARK_RT_H
#define LANDMARK_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "migrate_format.h"

/* The registers of the program at a landmark, as if the landmark call had
 * just returned (decision 8): the callee-saved registers, the stack pointer
 * and the return address; the floating-point control state. Filled by the
 * per-ISA entry of __landmark_hit (arch/<isa>/machine.S); the layout is
 * that file's. */
struct landmark_regs {
#if defined(__x86_64__)
	uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
	uint32_t mxcsr;
	uint16_t fcw, pad[5];
#elif defined(__aarch64__)
	uint64_t x[11]; /* x19..x29 */
	uint64_t sp, pc; /* pc: the return address (x30 at the call) */
	uint64_t d[8];  /* d8..d15 */
	uint64_t fpcr, fpsr;
#endif
};

/* musl 1.2.3's struct tls_module and the start of its struct __libc
 * (src/internal/libc.h). */
struct musl_tls_module {
	struct musl_tls_module *next;
	void *image;
	size_t len, size, align, offset;
};
struct musl_libc {
	char can_do_threads, threaded, secure;
	volatile signed char need_locks;
	int threads_minus_1;
	size_t *auxv;
	struct musl_tls_module *tls_head;
	size_t tls_size, tls_align, tls_cnt;
};
extern struct musl_libc __libc;

/* musl 1.2.3's struct pthread (src/internal/pthread_impl.h): where its
 * fields are depends on the ISA's TLS variant (aarch64: TLS_ABOVE_TP). */
struct musl_pthread {
	struct musl_pthread *self;
#if !defined(__aarch64__)
	uintptr_t *dtv;
#endif
	struct musl_pthread *prev, *next;
	uintptr_t sysinfo;
#if !defined(__aarch64__)
	uintptr_t canary;
#endif
	int tid;
	int errno_val;
	volatile int detach_state;
	volatile int cancel;
	volatile unsigned char canceldisable, cancelasync;
	unsigned char tsd_used : 1;
	unsigned char dlerror_flag : 1;
	unsigned char *map_base;
	size_t map_size;
	void *stack;
	size_t stack_size;
	size_t guard_size;
	void *result;
	void *cancelbuf;
	void **tsd;
	struct {
		volatile void *volatile head;
		long off;
		volatile void *volatile pending;
	} robust_list;
	int h_errno_val;
	volatile int timer_id;
	void *locale;
	volatile int killlock[1];
	char *dlerror_buf;
	void *stdio_locks;
#if defined(__aarch64__)
	uintptr_t canary;
	uintptr_t *dtv;
#endif
};
_Static_assert(sizeof(struct musl_pthread) == 200, "musl 1.2.3's struct pthread");

/* thread.c: the thread's state in the form of NOTE_THREAD. */
struct thread_snapshot; /* this process's own TLS, kept across the mapping */
size_t landmark_thread_note(unsigned char *out, size_t cap);
int landmark_thread_fits(const struct image_thread *t, char *err, size_t errlen);
void landmark_thread_keep(struct thread_snapshot **keep);
void landmark_thread_restore(const struct thread_snapshot *keep, const struct image_thread *t,
			     const unsigned char *tls);

/* machine.S */
void __landmark_start_main(int argc, char **argv, char **envp, void *stack_top);
_Noreturn void __landmark_resume(const struct landmark_regs *regs);
uint64_t __landmark_thread_pointer(void);
long __landmark_syscall(long n, long a, long b, long c, long d, long e, long f);

/* arch/<isa>/machine.c: the ISA's ELF core notes and musl details. */
extern const unsigned short landmark_elf_machine;
size_t landmark_prstatus(const struct landmark_regs *r, int pid, void *out);
size_t landmark_fpregset(const struct landmark_regs *r, void *out);
int landmark_regs_from_notes(struct landmark_regs *r, const void *prstatus, size_t prsize,
			     const void *fpregs, size_t fpsize);

/* startup.c */
extern uint64_t landmark_stack_lo, landmark_stack_hi;
extern uint64_t landmark_brk_start;
/* The size of each of the two stacks: RLIMIT_STACK, within limits. */
size_t landmark_stack_size(void);

/* unsafe_stack.c: the escaping stack objects' stack; its bounds are 0
 * unless it is the one in the migration window. */
extern void *__landmark_unsafe_sp;
extern uint64_t landmark_unsafe_lo, landmark_unsafe_hi;

/* checkpoint.c */
struct landmark_triggers {
	char image[4096], timing[4096], report[4096]; /* PATH_MAX */
	unsigned long long at_hit, after_ms;
	int keep_running;
	int in_place; /* LANDMARK_IN_PLACE: images laid out at their addresses */
};
/* Reads the LANDMARK_* trigger variables (libc). */
void landmark_triggers_read(struct landmark_triggers *t);
/* Arms them; uses no libc, so restore can call it after the image replaced
 * libc's data. */
void landmark_triggers_apply(const struct landmark_triggers *t);
extern unsigned long long landmark_hits;
void landmark_checkpoint_at(unsigned id, const struct landmark_regs *regs);
int landmark_checkpoint_wanted(unsigned long long hits);
void landmark_triggers_init(void);

/* maps.c: the process's mappings inside the window. */
struct region {
	uint64_t start, end;
	int prot;       /* PROT_* */
	int shared;     /* a MAP_SHARED mapping */
	int executable; /* backed by the program's executable file, read-only */
	uint64_t offset, inode; /* the file shown (inode 0: anonymous), from where */
	unsigned dev_major, dev_minor;
};
int landmark_window_regions(struct region *out, int max);
/* True if the region shows the image file this process was restored from. */
int landmark_region_from_image(const struct region *r);

/* frames.c: the stack walk at a landmark (struct walked_frame). */
enum { MAX_FRAMES = 1 << 16 };
/* Fills `out` (innermost first) and returns the number of frames if every
 * frame from `pc` down to main is at a migratable call site; else -1. */
int landmark_walk(uint64_t pc, uint64_t sp, uint64_t fp, struct walked_frame *out, int max);
/* The same walk over a stack read by read(ctx, address, &word) (0, or -1
 * if the word is not there): restore walks an image's stack in its file. */
typedef int (*landmark_stack_reader)(void *ctx, uint64_t at, uint64_t *out);
int landmark_walk_with(uint64_t pc, uint64_t sp, uint64_t fp, struct walked_frame *out, int max,
		       landmark_stack_reader read, void *ctx);
/* A buffer for MAX_FRAMES frames outside the window, or NULL. */
struct walked_frame *landmark_frames_buffer(void);
/* True if `pc` is a return address of the frame table, at `call_site`
 * (restore checks an image's frames with it). */
int landmark_frame_known(uint64_t pc, uint32_t call_site);
/* Unmaps the frame table (before an image is written). */
void landmark_frames_release(void);
/* Hands the buffer over to the caller (the runtime forgets it), and frees it. */
struct walked_frame *landmark_frames_take(void);
void landmark_frames_free(struct walked_frame *frames);

/* image.c */
/* Writes the image to `path`; *written: the bytes written. With
 * `at_addresses`, each segment's bytes lie at the file offset equal to
 * their address (a sparse file of WINDOW_END bytes), and if this process
 * was restored from the file at `path` (landmark_image_*), only the memory
 * written since goes into it, in place (image.c). */
int landmark_write_image(const char *path, unsigned id, const struct landmark_regs *regs,
			 const struct walked_frame *frames, int nframes, int at_addresses,
			 uint64_t *written, char *err, size_t errlen);
/* The image file this process was restored from (its memory is mapped
 * from it), device and inode, and whether it is laid out at its addresses
 * (restore.c sets them); 0 in a process started fresh. */
extern uint64_t landmark_image_dev, landmark_image_ino;
extern int landmark_image_at_addresses;

/* restore.c */
_Noreturn void landmark_restore(const char *image);
/* True if this process is to become a checkpointed program
 * (LANDMARK_RESTORE, or LANDMARK_RESTORE_FROM_FD for a standby process). */
int landmark_restoring(void);

/* files.c */
int landmark_collect_files(char *buf, size_t cap, size_t *len, char *err, size_t errlen);
int landmark_reopen_files(const char *buf, size_t len, char *err, size_t errlen);

/* buildid.c */
const unsigned char *landmark_build_id(size_t *len);

/* memory.c: memory outside the migration window (not part of an image),
 * or NULL; and pread of exactly len bytes (0, or -1). */
void *landmark_outside_window(size_t len);
int landmark_pread_all(int fd, void *buf, size_t len, uint64_t off);

/* xxh64.c: XXH64 with seed 0, streaming (image checksums). */
struct landmark_xxh64 {
	uint64_t v[4], total;
	unsigned char buf[32];
	size_t buffered;
};
void landmark_xxh64_init(struct landmark_xxh64 *h);
void landmark_xxh64_update(struct landmark_xxh64 *h, const void *data, size_t len);
uint64_t landmark_xxh64_digest(const struct landmark_xxh64 *h);

/* Writes a message to stderr without stdio (whose buffers belong to the
 * program and must not change). */
void landmark_say(const char *a, const char *b, const char *c);

/* format.c: snprintf's conversions the runtime uses (without musl's
 * printf), and a decimal number's value (digits up to the first other
 * character; 0 for none). */
int landmark_format(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int landmark_vformat(char *buf, size_t cap, const char *fmt, va_list ap);
unsigned long long landmark_parse_u64(const char *s);

#endif
