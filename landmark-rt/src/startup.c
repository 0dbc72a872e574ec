/* startup.c: makes the process migratable before main runs.
 *
 * `migrate cc` links a copy of musl's crt1.o whose call of main calls
 * __landmark_main instead. It
 *   1. turns address randomization off (personality ADDR_NO_RANDOMIZE) and
 *      re-executes the program if it was on, so that the brk heap starts
 *      right after bss in every run (DESIGN.md, the heap trap); `migrate run`
 *      and `migrate restore` set the personality themselves, and under
 *      qemu-user (which cannot re-execute a foreign binary) the guest's
 *      layout does not depend on it;
 *   2. maps the program's stack at the top of the migration window (rt.h),
 *      as large as RLIMIT_STACK allows (8 MiB by default, at most 1 GiB);
 *   3. copies argv and envp there and points __environ and __progname at
 *      the copies;
 *   4. starts the checkpoint triggers (checkpoint.c), then runs main on the
 *      new stack through __landmark_start_main (machine.S), which exits
 *      with main's result.
 * If the window stack cannot be mapped, main runs where it is and the
 * process is not migratable (checkpoints are refused, saying why).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rt.h"

extern char **__environ;
extern char *__progname, *__progname_full;
int main(int, char **, char **);

uint64_t landmark_stack_lo, landmark_stack_hi;
uint64_t landmark_brk_start;

enum { MIN_STACK = 1 << 20 };

size_t landmark_stack_size(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_STACK, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return 8 << 20;
	size_t size = rl.rlim_cur;
	if (size < MIN_STACK)
		size = MIN_STACK;
	if (size > MAX_STACK_SIZE)
		size = MAX_STACK_SIZE;
	return (size + 0xffff) & ~(size_t)0xffff;
}

/* 1 if the kernel randomizes addresses for this process. */
static int randomized(void)
{
	int persona = personality(0xffffffff);
	if (persona != -1 && (persona & ADDR_NO_RANDOMIZE))
		return 0;
	char c = '2';
	int fd = open("/proc/sys/kernel/randomize_va_space", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = '2';
		close(fd);
	}
	return c != '0';
}

static void disable_randomization(char **argv, char **envp)
{
	if (!randomized())
		return;
	int persona = personality(0xffffffff);
	if (persona == -1 || personality((unsigned long)persona | ADDR_NO_RANDOMIZE) == -1)
		return;
	if (!(personality(0xffffffff) & ADDR_NO_RANDOMIZE))
		return; /* not settable here: never loop */
	execve("/proc/self/exe", argv, envp);
	/* qemu-user, or no /proc: carry on (see above). */
}

/* Copies the NULL-terminated string vector `v` below *top; returns the
 * copies' vector (also below *top). */
static char **copy_vector(char **v, char **top)
{
	size_t n = 0;
	while (v[n])
		n++;
	char *p = *top;
	char *strings[n ? n : 1];
	for (size_t i = n; i-- > 0;) {
		size_t len = strlen(v[i]) + 1;
		p -= len;
		memcpy(p, v[i], len);
		strings[i] = p;
	}
	p = (char *)((uintptr_t)p & ~(uintptr_t)15);
	char **out = (char **)p - (n + 1);
	for (size_t i = 0; i < n; i++)
		out[i] = strings[i];
	out[n] = 0;
	*top = (char *)out;
	return out;
}

int landmark_restoring(void)
{
	const char *image = getenv(ENV_RESTORE), *fd = getenv(ENV_RESTORE_FROM_FD);
	return (image && *image) || (fd && *fd);
}

/* LANDMARK_RESTORE_FROM_FD: waits for one line on that descriptor, the
 * image's path, into `path` (on this constructor's stack, the kernel's,
 * which a restore leaves alone); exits 0 at end of file without one (the
 * standby process was not needed). */
static void wait_for_image(const char *fd_text, char *path, size_t cap)
{
	int fd = (int)landmark_parse_u64(fd_text);
	size_t n = 0;
	for (;;) {
		ssize_t got = read(fd, path + n, cap - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
		if (memchr(path, '\n', n) || n == cap - 1)
			break;
	}
	close(fd);
	path[n] = 0;
	char *nl = strchr(path, '\n');
	if (nl)
		*nl = 0;
	if (!path[0])
		_exit(0);
}

/* The first constructor (here, in the file every build links, so that the
 * linker keeps it): a process started by `migrate restore` becomes the
 * checkpointed program before any of the program's own constructors run. */
__attribute__((constructor(101))) static void restore_if_asked(void)
{
	const char *image = getenv(ENV_RESTORE);
	const char *fd = getenv(ENV_RESTORE_FROM_FD);
	if (image && *image)
		landmark_restore(image);
	if (fd && *fd) {
		char path[PATH_MAX];
		wait_for_image(fd, path, sizeof path);
		landmark_restore(path);
	}
}

int __landmark_main(int argc, char **argv, char **envp)
{
	disable_randomization(argv, envp);
	landmark_brk_start = (uint64_t)syscall(SYS_brk, 0);
	size_t size = landmark_stack_size();
	uint64_t lo = STACK_TOP - size;
	void *m = mmap((void *)lo, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m != (void *)lo) {
		/* qemu 7.2 may ignore the hint: always compare (DESIGN.md). */
		if (m != MAP_FAILED)
			munmap(m, size);
		landmark_say("landmark-rt: ", "cannot map the program's stack in the migration window; "
			     "running without migration support", "\n");
		landmark_triggers_init();
		return main(argc, argv, envp);
	}
	landmark_stack_lo = lo;
	landmark_stack_hi = STACK_TOP;
	char *top = (char *)STACK_TOP;
	char **new_envp = copy_vector(envp, &top);
	char **new_argv = copy_vector(argv, &top);
	__environ = new_envp;
	if (argc > 0) {
		__progname_full = new_argv[0];
		char *slash = strrchr(new_argv[0], '/');
		__progname = slash ? slash + 1 : new_argv[0];
	}
	landmark_triggers_init();
	/* 16 bytes of zeros above the first frame, as the kernel leaves them. */
	top = (char *)(((uintptr_t)top - 16) & ~(uintptr_t)15);
	__landmark_start_main(argc, new_argv, new_envp, top);
	__builtin_unreachable();
}

void landmark_say(const char *a, const char *b, const char *c)
{
	const char *parts[] = {a, b, c};
	for (int i = 0; i < 3; i++)
		if (parts[i] && *parts[i]) {
			ssize_t n = write(2, parts[i], strlen(parts[i]));
			(void)n;
		}
}
