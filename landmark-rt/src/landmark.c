/* landmark.c: what a landmark calls into.
 *
 * Every landmark the compiler inserted (llvm-pass, landmarks.rs) tests
 * __landmark_pending and, only when it is set, calls __landmark_hit with the
 * landmark's ID. Nothing sets the flag in a normal run, so landmarks cost one
 * load and one branch each.
 *
 * Statistics mode (LANDMARK_STATS=FILE in the environment, which
 * `migrate run --stats FILE` sets): the flag stays set, so every landmark
 * calls in; the runtime counts hits and the longest time between two
 * consecutive ones (and from start-up to the first, and from the last to
 * exit), and writes them as JSON to FILE at exit. The program's own output
 * is unchanged. */
#define _GNU_SOURCE
#include "landmark.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#define LANDMARK_ISA "x86_64"
#elif defined(__aarch64__)
#define LANDMARK_ISA "aarch64"
#else
#error "unsupported ISA"
#endif

volatile int __landmark_pending;

static struct {
	const char *path;        /* where to write the statistics, or NULL */
	unsigned long long hits; /* landmark hits so far */
	long long last_ns;       /* time of the previous hit (or start-up) */
	long long max_gap_ns;    /* longest time between two hits */
} stats;

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void note_gap(void)
{
	long long t = now_ns();
	if (t - stats.last_ns > stats.max_gap_ns)
		stats.max_gap_ns = t - stats.last_ns;
	stats.last_ns = t;
}

void __landmark_hit(unsigned id)
{
	(void)id;
	stats.hits++;
	if (stats.path)
		note_gap();
}

static void write_stats(void)
{
	note_gap();
	char buf[256];
	int n = snprintf(buf, sizeof buf,
			 "{\"isa\":\"%s\",\"landmark_hits\":%llu,\"max_interval_us\":%.3f}\n",
			 LANDMARK_ISA, stats.hits, (double)stats.max_gap_ns / 1000.0);
	int fd = open(stats.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, (size_t)n) != n)
		fprintf(stderr, "landmark-rt: cannot write statistics to %s\n", stats.path);
	if (fd >= 0)
		close(fd);
}

__attribute__((constructor)) static void landmark_init(void)
{
	const char *path = getenv("LANDMARK_STATS");
	if (!path || !*path)
		return;
	stats.path = path;
	stats.last_ns = now_ns();
	__landmark_pending = 1;
	atexit(write_stats);
}
