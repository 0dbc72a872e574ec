/* landmark.c: what a landmark calls into.
 *
 * Every landmark the compiler inserted (llvm-pass, landmarks.rs) tests
 * __landmark_pending and, only when it is set, calls __landmark_hit with the
 * call-site ID of that call. Nothing sets the flag in a normal run, so landmarks cost one
 * load and one branch each.
 *
 * Statistics mode (LANDMARK_STATS=FILE in the environment, which
 * `migrate run --stats FILE` sets): the flag stays set, so every landmark
 * calls in; the runtime counts hits and the times between consecutive ones:
 * the longest (and the call-site IDs of the two landmarks around it), and the median and 99th
 * percentile from a histogram, and how many hits were at call sites
 * certified migratable. The times from start-up to the first hit and from
 * the last hit to exit are reported apart: no landmark can come sooner in
 * them (a request in the last one is never served; the program ends). It
 * writes them as JSON
 * to FILE at exit. The program's own output is unchanged; its speed is not
 * (every landmark reads the clock), so the intervals are upper bounds. */
#define _GNU_SOURCE
#include "landmark.h"
#include "rt.h"

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

/* The migratable-sites table (migrate-format's sites.rs): a struct
 * sites_header, then one bit per call-site ID, set when every record of
 * that call site is certified on both ISAs. The landmark pass reserves it
 * with every bit clear and `migrate cc` fills it in after linking. Weak: a
 * build without landmarks has none, and then nothing is migratable. */
extern const unsigned char sites_table[] __asm__(SITES_SYMBOL) __attribute__((weak));

/* The number of call sites the table covers (0 without one). */
static unsigned site_count(void)
{
	struct sites_header h;
	if (!sites_table)
		return 0;
	memcpy(&h, sites_table, sizeof h);
	return memcmp(h.magic, SITES_MAGIC, sizeof h.magic) == 0 ? h.count : 0;
}

int __landmark_site_migratable(unsigned id)
{
	return id < site_count() &&
	       (sites_table[sizeof(struct sites_header) + id / 8] >> (id % 8) & 1);
}

/* Intervals between hits are counted in logarithmic buckets, 8 per power of
 * two (each bucket spans 9%), from 1 ns to 2^40 ns (18 minutes). */
enum { SUB_BUCKETS = 8, OCTAVES = 40, BUCKETS = SUB_BUCKETS * OCTAVES };

static struct {
	const char *path;        /* where to write the statistics, or NULL */
	unsigned long long hits; /* landmark hits so far */
	unsigned long long migratable_hits; /* of those, at migratable call sites */
	long long last_ns;       /* time of the previous hit (or start-up) */
	long long max_gap_ns;    /* longest time between two hits */
	long long last_id;       /* landmark of the previous hit, -1 for start-up */
	long long max_gap_from, max_gap_to; /* the landmarks around the longest */
	long long startup_ns, exit_ns; /* start-up to first hit, last hit to exit */
	unsigned long long gaps; /* intervals recorded */
	unsigned long long histogram[BUCKETS];
} stats;

static int bucket_of(long long ns)
{
	if (ns < 1)
		return 0;
	int octave = 63 - __builtin_clzll((unsigned long long)ns);
	/* The SUB_BUCKETS-th fraction of the way from 2^octave to 2^(octave+1). */
	int sub = octave >= 3 ? (int)((ns >> (octave - 3)) & (SUB_BUCKETS - 1))
			      : (int)((ns << (3 - octave)) & (SUB_BUCKETS - 1));
	int b = octave * SUB_BUCKETS + sub;
	return b < BUCKETS ? b : BUCKETS - 1;
}

/* Upper bound, in ns, of the intervals in bucket b. */
static double bucket_top(int b)
{
	int octave = b / SUB_BUCKETS, sub = b % SUB_BUCKETS;
	return (double)(1ULL << octave) * (1.0 + (sub + 1) / (double)SUB_BUCKETS);
}

/* The interval below which a fraction q of all intervals lie, in ns. */
static double quantile(double q)
{
	unsigned long long want = (unsigned long long)(q * (double)stats.gaps), seen = 0;
	for (int b = 0; b < BUCKETS; b++) {
		seen += stats.histogram[b];
		if (seen > want)
			return bucket_top(b);
	}
	return (double)stats.max_gap_ns;
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* `id`: the landmark hit now, or -1 at exit. */
static void note_gap(long long id)
{
	long long t = now_ns(), gap = t - stats.last_ns;
	if (id < 0 || stats.last_id < 0) {
		if (id < 0)
			stats.exit_ns = gap;
		else
			stats.startup_ns = gap;
		stats.last_ns = t;
		stats.last_id = id;
		return;
	}
	if (gap > stats.max_gap_ns) {
		stats.max_gap_ns = gap;
		stats.max_gap_from = stats.last_id;
		stats.max_gap_to = id;
	}
	stats.histogram[bucket_of(gap)]++;
	stats.gaps++;
	stats.last_ns = t;
	stats.last_id = id;
}

/* Landmark hits so far (counted while __landmark_pending is set: in
 * statistics mode, or while a checkpoint at the N-th hit is wanted). */
unsigned long long landmark_hits;
int landmark_stats_mode;

/* Called by __landmark_hit (arch/<isa>/machine.S) with the registers the
 * program will have when the landmark call returns. */
void landmark_hit(unsigned id, const struct landmark_regs *regs)
{
	landmark_hits++;
	if (stats.path) {
		stats.hits++;
		if (__landmark_site_migratable(id))
			stats.migratable_hits++;
		note_gap(id);
	}
	if (landmark_checkpoint_wanted(landmark_hits))
		landmark_checkpoint_at(id, regs);
}

static void write_stats(void)
{
	/* No landmark ever called in: a build without landmarks. No file, which
	 * `migrate run` reports. */
	if (!stats.hits)
		return;
	note_gap(-1);
	/* Microseconds with three decimals, from whole nanoseconds (the
	 * runtime's formatter has no floating point). */
	long long ns[] = {stats.max_gap_ns, (long long)(quantile(0.50) + 0.5),
			  (long long)(quantile(0.99) + 0.5), stats.startup_ns, stats.exit_ns};
	char us[5][32];
	for (int i = 0; i < 5; i++) {
		long long magnitude = ns[i] < 0 ? -ns[i] : ns[i];
		landmark_format(us[i], sizeof us[i], "%s%lld.%03lld", ns[i] < 0 ? "-" : "",
				magnitude / 1000, magnitude % 1000);
	}
	char buf[512];
	int n = landmark_format(buf, sizeof buf,
				"{\"isa\":\"%s\",\"landmark_hits\":%llu,\"migratable_hits\":%llu,"
				"\"max_interval_us\":%s,\"max_interval_between\":[%lld,%lld],"
				"\"p50_interval_us\":%s,\"p99_interval_us\":%s,"
				"\"startup_us\":%s,\"exit_us\":%s}\n",
				LANDMARK_ISA, stats.hits, stats.migratable_hits, us[0], stats.max_gap_from,
				stats.max_gap_to, us[1], us[2], us[3], us[4]);
	int fd = open(stats.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, (size_t)n) != n)
		landmark_say("landmark-rt: cannot write statistics to ", stats.path, "\n");
	if (fd >= 0)
		close(fd);
}

__attribute__((constructor)) static void landmark_init(void)
{
	const char *path = getenv(ENV_STATS);
	if (!path || !*path)
		return;
	stats.path = path;
	landmark_stats_mode = 1;
	stats.last_ns = now_ns();
	stats.last_id = stats.max_gap_from = stats.max_gap_to = -1;
	__landmark_pending = 1;
	atexit(write_stats);
}
