/* checkpoint.c: when to checkpoint, and what happens after.
 *
 * Triggers (configured from the environment at start-up; `migrate run`
 * sets these variables, and the program never sees them in its own
 * environment):
 *   LANDMARK_IMAGE=PATH             where the image goes (default
 *                                   landmark-PID.core in the working directory)
 *   LANDMARK_CHECKPOINT_AT=N        at the N-th landmark hit
 *   LANDMARK_CHECKPOINT_AFTER_MS=T  T milliseconds after start (a timer that
 *                                   raises the checkpoint signal)
 *   LANDMARK_KEEP_RUNNING=1         keep running after writing the image
 *   LANDMARK_SIGNAL=N               the checkpoint signal (default SIGUSR2)
 *   LANDMARK_TIMING=FILE            append how long writing the image took
 *                                   (and restore.c: how long restoring took)
 *   LANDMARK_REPORT=FILE            if the program ends with a checkpoint
 *                                   still wanted, write why as JSON (see
 *                                   write_report)
 * (`migrate restore` passes the same variables but the signal; a restored
 * program counts LANDMARK_CHECKPOINT_AT from the restore), and, any time,
 * the checkpoint signal (`migrate checkpoint PID` sends it,
 * after writing the request file /tmp/landmark-rt-PID.request with
 * "image=PATH" and optionally "keep-running" lines), or a call to
 * landmark_request_checkpoint() (migrate.h).
 *
 * A trigger sets __landmark_pending; the checkpoint is taken at the next
 * landmark where every frame, down to main, is suspended at a call site
 * certified migratable (frames.c walks the stack). Then, by default, the
 * process ends at once with status 0 and without flushing stdio or running
 * atexit handlers: unflushed output is in the image and is written once, by
 * the restored program. If the image cannot be written the program keeps
 * running and the reason goes to stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "landmark.h"
#include "migrate.h"
#include "rt.h"

extern int landmark_stats_mode;

static struct {
	char image[PATH_MAX];	  /* "" until configured */
	unsigned long long at_hit; /* 0: no hit-count trigger */
	int keep_running;
	int in_place; /* LANDMARK_IN_PLACE: images laid out at their addresses */
	int signal;
	char timing[PATH_MAX]; /* LANDMARK_TIMING: where to append how long it took */
	char report[PATH_MAX]; /* LANDMARK_REPORT: where to say why none was taken */
	unsigned long long hits_base; /* landmark_hits when the triggers were armed */
	/* Since the checkpoint became wanted: landmark hits, and of those the
	 * hits at a call site certified migratable (where an older frame's call
	 * site was not, or the walk failed). */
	unsigned long long waited, waited_migratable;
	int failed; /* the last checkpoint could not be written */
	/* CLOCK_MONOTONIC ns when the checkpoint became wanted (the signal or
	 * the timer came, or the N-th hit); 0 until then. The timing report
	 * says how long the program then ran to a migratable landmark. */
	volatile long long wanted_ns;
	volatile sig_atomic_t signalled; /* the signal came: read the request file */
	volatile int requested;          /* a checkpoint is wanted */
} ck;

static void default_image(char *out, size_t len)
{
	landmark_format(out, len, "landmark-%d.core", (int)getpid());
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void on_signal(int sig)
{
	(void)sig;
	/* clock_gettime is async-signal-safe. */
	if (!ck.wanted_ns)
		ck.wanted_ns = now_ns();
	ck.signalled = 1;
	ck.requested = 1;
	__landmark_pending = 1;
}

static unsigned long long env_number(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? landmark_parse_u64(v) : 0;
}

/* Copies a NUL-terminated string without libc (restore calls this after
 * libc's data is replaced). */
static void copy_string(char *dst, const char *src, size_t cap)
{
	size_t i = 0;
	for (; src[i] && i + 1 < cap; i++)
		dst[i] = src[i];
	dst[i] = 0;
}

void landmark_triggers_read(struct landmark_triggers *t)
{
	const char *image = getenv(ENV_IMAGE);
	const char *timing = getenv(ENV_TIMING);
	const char *report = getenv(ENV_REPORT);
	copy_string(t->image, image ? image : "", sizeof t->image);
	copy_string(t->timing, timing ? timing : "", sizeof t->timing);
	copy_string(t->report, report ? report : "", sizeof t->report);
	t->at_hit = env_number(ENV_CHECKPOINT_AT);
	t->after_ms = env_number(ENV_CHECKPOINT_AFTER_MS);
	t->keep_running = env_number(ENV_KEEP_RUNNING) != 0;
	t->in_place = env_number(ENV_IN_PLACE) != 0;
}

void landmark_triggers_apply(const struct landmark_triggers *t)
{
	if (t->image[0])
		copy_string(ck.image, t->image, sizeof ck.image);
	if (t->timing[0])
		copy_string(ck.timing, t->timing, sizeof ck.timing);
	/* Always replaced: a restored program must not report to the path
	 * the checkpointed one was given. */
	copy_string(ck.report, t->report, sizeof ck.report);
	ck.hits_base = landmark_hits;
	ck.waited = ck.waited_migratable = 0;
	ck.wanted_ns = 0;
	ck.failed = 0;
	if (t->keep_running)
		ck.keep_running = 1;
	/* Always replaced: the restored program's images are laid out as
	 * whoever restored it asks. */
	ck.in_place = t->in_place;
	if (t->at_hit) {
		/* Counted from now: a restored program has hits behind it. */
		ck.at_hit = landmark_hits + t->at_hit;
		__landmark_pending = 1;
	}
	if (t->after_ms) {
		/* The system calls, not musl's timer_create: that one links in
		 * pthread_create for SIGEV_THREAD, and restore may not use libc. */
		int timer;
		struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = ck.signal};
		struct itimerspec when = {.it_value = {(time_t)(t->after_ms / 1000),
						       (long)(t->after_ms % 1000) * 1000000}};
		if (__landmark_syscall(SYS_timer_create, CLOCK_MONOTONIC, (long)&ev, (long)&timer, 0, 0,
				       0) != 0 ||
		    __landmark_syscall(SYS_timer_settime, timer, 0, (long)&when, 0, 0, 0) != 0) {
			static const char msg[] = "landmark-rt: cannot start the checkpoint timer\n";
			__landmark_syscall(SYS_write, 2, (long)msg, sizeof msg - 1, 0, 0, 0);
		}
	}
}

/* At exit, if a checkpoint is still wanted or the last one failed: writes
 * to LANDMARK_REPORT
 *   {"wanted":W,"reached":R,"hits":H,"waited":N,"waited_migratable":M,"failed":F}
 * W: 1 if a checkpoint was asked for; R: 1 if the trigger had fired (the
 * N-th hit came, the signal or the request); H: landmark hits counted since
 * the triggers were armed (all of them with a hit-count trigger); N: hits
 * since the trigger fired; M: of those, hits at call sites certified
 * migratable (each deferred because an older frame was not); F: 1 if the
 * last checkpoint could not be written (the reason went to stderr). `migrate`
 * turns it into its message. */
static void write_report(void)
{
	int wanted = ck.requested || ck.at_hit;
	if (!ck.report[0] || !(wanted || ck.failed))
		return;
	int reached = ck.requested || (ck.at_hit && landmark_hits >= ck.at_hit);
	char line[256];
	int n = landmark_format(line, sizeof line,
			 "{\"wanted\":%d,\"reached\":%d,\"hits\":%llu,\"waited\":%llu,"
			 "\"waited_migratable\":%llu,\"failed\":%d}\n",
			 wanted, reached, landmark_hits - ck.hits_base, ck.waited,
			 ck.waited_migratable, ck.failed);
	int fd = open(ck.report, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, (size_t)n) != n)
		landmark_say("landmark-rt: cannot write the report to ", ck.report, "\n");
	if (fd >= 0)
		close(fd);
}

void landmark_triggers_init(void)
{
	ck.signal = (int)env_number(ENV_SIGNAL);
	if (ck.signal <= 0 || ck.signal >= 65)
		ck.signal = SIGUSR2;
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
	sigaction(ck.signal, &sa, 0);
	struct landmark_triggers t;
	landmark_triggers_read(&t);
	landmark_triggers_apply(&t);
	/* The program's environment is the copy startup.c makes; these do not
	 * belong in it (nor in its children). */
	static const char *const names[] = {ENV_IMAGE,	      ENV_CHECKPOINT_AT, ENV_CHECKPOINT_AFTER_MS,
					    ENV_KEEP_RUNNING, ENV_SIGNAL,	 ENV_TIMING,
					    ENV_REPORT,	      ENV_IN_PLACE};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		unsetenv(names[i]);
	/* Registered in every process: a restored program inherits the
	 * checkpointed one's exit handlers with its memory. */
	atexit(write_report);
}

int landmark_request_checkpoint(const char *image, int keep_running)
{
	if (image) {
		if (strlen(image) >= sizeof ck.image)
			return -1;
		landmark_format(ck.image, sizeof ck.image, "%s", image);
	}
	ck.keep_running = keep_running;
	ck.requested = 1;
	__landmark_pending = 1;
	return 0;
}

/* Reads /tmp/landmark-rt-PID.request (written by `migrate checkpoint`),
 * accepted only if this user owns it, then removes it. */
static void read_request_file(void)
{
	char path[64], buf[PATH_MAX + 64];
	landmark_format(path, sizeof path, "/tmp/landmark-rt-%d.request", (int)getpid());
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	struct stat st;
	ssize_t n = -1;
	if (fstat(fd, &st) == 0 && st.st_uid == getuid())
		n = read(fd, buf, sizeof buf - 1);
	close(fd);
	unlink(path);
	if (n <= 0)
		return;
	buf[n] = 0;
	for (char *line = buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (!strncmp(line, "image=", 6))
			landmark_format(ck.image, sizeof ck.image, "%s", line + 6);
		else if (!strcmp(line, "keep-running"))
			ck.keep_running = 1;
	}
}

/* Appends
 *   {"event":"checkpoint","bytes":N,"ns":T,"start":S,"wanted":W,"waited":H}
 * to LANDMARK_TIMING (the benchmarks, `migrate mtd`): N bytes written in T
 * ns, starting at S (CLOCK_MONOTONIC ns, the clock `migrate` reads too;
 * qemu-user passes it through); W when the checkpoint became wanted (0 if
 * unknown), H landmark hits from then to this one (deferred: an older frame
 * was not at a migratable call site). */
static void report_timing(uint64_t bytes, long long start, long long ns, long long wanted,
			  unsigned long long waited)
{
	char line[256];
	int fd = open(ck.timing, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	int n = landmark_format(line, sizeof line,
			 "{\"event\":\"checkpoint\",\"bytes\":%lld,\"ns\":%lld,\"start\":%lld,"
			 "\"wanted\":%lld,\"waited\":%llu}\n",
			 (long long)bytes, ns, start, wanted, waited);
	if (write(fd, line, (size_t)n) != n)
		landmark_say("landmark-rt: ", "cannot write the timing report", "\n");
	close(fd);
}

/* Ends the process after its image is written, at the lowest scheduling
 * class (SCHED_IDLE; raw: musl's sched_setscheduler is a stub): tearing
 * down a large address space takes milliseconds (more under qemu-user), and
 * the program's next process, which the image is for, should not wait for
 * a core behind it. */
static _Noreturn void exit_yielding(void)
{
	struct {
		int priority;
	} idle = {0};
	syscall(SYS_sched_setscheduler, 0, 5 /* SCHED_IDLE */, &idle);
	_exit(0);
}

int landmark_checkpoint_wanted(unsigned long long hits)
{
	int wanted = ck.requested || (ck.at_hit && hits >= ck.at_hit);
	if (wanted && !ck.wanted_ns)
		ck.wanted_ns = now_ns();
	return wanted;
}

void landmark_checkpoint_at(unsigned id, const struct landmark_regs *regs)
{
	ck.waited++;
	if (!__landmark_site_migratable(id))
		return; /* a later landmark */
	ck.waited_migratable++;
	struct walked_frame *frames = landmark_frames_buffer();
#if defined(__x86_64__)
	int nframes = frames ? landmark_walk(regs->rip, regs->rsp, regs->rbp, frames, MAX_FRAMES) : -1;
#else
	int nframes = frames ? landmark_walk(regs->pc, regs->sp, regs->x[10], frames, MAX_FRAMES) : -1;
#endif
	if (nframes < 0)
		return; /* a frame is not at a migratable call site: a later landmark */
	/* Nothing in the image may point at memory outside the window. */
	landmark_frames_release();
	frames = landmark_frames_take();
	if (ck.signalled) {
		ck.signalled = 0;
		read_request_file();
	}
	char image[PATH_MAX];
	if (ck.image[0])
		landmark_format(image, sizeof image, "%s", ck.image);
	else
		default_image(image, sizeof image);
	/* The request is served (or refused) now: the image must not hold it,
	 * or the restored program would checkpoint again at once. */
	ck.requested = 0;
	ck.at_hit = 0;
	unsigned long long waited = ck.waited - 1; /* the hits before this one */
	long long wanted = ck.wanted_ns;
	ck.waited = ck.waited_migratable = 0;
	ck.wanted_ns = 0;
	__landmark_pending = landmark_stats_mode;
	char err[512];
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t written;
	int rc = landmark_write_image(image, id, regs, frames, nframes, ck.in_place, &written, err,
				      sizeof err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	landmark_frames_free(frames);
	if (rc == 0 && ck.timing[0])
		report_timing(written, t0.tv_sec * 1000000000LL + t0.tv_nsec,
			      (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec), wanted,
			      waited);
	ck.failed = rc != 0;
	if (rc != 0) {
		landmark_say("landmark-rt: checkpoint failed, the program keeps running: ", err, "\n");
		return;
	}
	if (ck.keep_running)
		return;
	/* migrate mtd does not wait for this exit; whoever else restores the
	 * image waits for it, and a process at SCHED_IDLE on a loaded machine
	 * could take long to end. */
	if (ck.in_place)
		exit_yielding();
	_exit(0);
}
