/* frames.c: walks the program's stack at a landmark to decide whether it
 * can migrate now: every frame must be suspended at a call site that is
 * certified migratable, down to main (DESIGN.md: libc frames on the stack
 * defer the migration to a later landmark).
 *
 * How to step from a frame to its caller comes from the executable's frame
 * table (section FRAMES_SECTION, written by `migrate cc`; format in
 * migrate-format's frames.rs), read from the executable file on the
 * first walk into memory outside the migration window. Both it and the
 * walk's buffer are let go of before an image is written, so that the
 * image never points at them (a restored process does not have them).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "landmark.h"
#include "rt.h"

extern const char __landmark_main_returned[];

static struct {
	const struct frame_rule *rules;
	size_t count, mapped;
	int failed; /* no table: nothing can migrate */
	struct walked_frame *frames;
} table;

#define FRAMES_BYTES (MAX_FRAMES * sizeof(struct walked_frame))

/* Finds section `name` of the ELF file `fd`: its offset and size. The
 * headers are read a batch at a time and the section names at once where
 * they fit: this runs at every restore and checkpoint, and a read per
 * header and per name cost ~70 system calls. */
static int find_section(int fd, const char *name, uint64_t *off, uint64_t *size)
{
	Elf64_Ehdr eh;
	if (landmark_pread_all(fd, &eh, sizeof eh, 0) || eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    eh.e_shstrndx >= eh.e_shnum)
		return -1;
	Elf64_Shdr strtab;
	if (landmark_pread_all(fd, &strtab, sizeof strtab, eh.e_shoff + eh.e_shstrndx * sizeof strtab))
		return -1;
	char names[2048];
	int names_read = strtab.sh_size <= sizeof names &&
			 !landmark_pread_all(fd, names, strtab.sh_size, strtab.sh_offset);
	size_t want = strlen(name) + 1;
	enum { BATCH = 16 };
	Elf64_Shdr batch[BATCH];
	for (unsigned first = 0; first < eh.e_shnum; first += BATCH) {
		unsigned n = eh.e_shnum - first < BATCH ? eh.e_shnum - first : BATCH;
		if (landmark_pread_all(fd, batch, n * sizeof batch[0],
				       eh.e_shoff + first * sizeof batch[0]))
			return -1;
		for (unsigned i = 0; i < n; i++) {
			const Elf64_Shdr *sh = &batch[i];
			char got[32];
			if (want > sizeof got || sh->sh_name + want > strtab.sh_size)
				continue;
			const char *at = names + sh->sh_name;
			if (!names_read) {
				if (landmark_pread_all(fd, got, want, strtab.sh_offset + sh->sh_name))
					continue;
				at = got;
			}
			if (!memcmp(at, name, want)) {
				*off = sh->sh_offset, *size = sh->sh_size;
				return 0;
			}
		}
	}
	return -1;
}

static int load_table(void)
{
	if (table.rules || table.failed)
		return table.rules ? 0 : -1;
	table.failed = 1;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	uint64_t off, size;
	struct frame_table_header head;
	int ok = !find_section(fd, FRAMES_SECTION, &off, &size) && size >= sizeof head &&
		 !landmark_pread_all(fd, &head, sizeof head, off) &&
		 !memcmp(head.magic, FRAMES_MAGIC, sizeof head.magic);
	ok = ok && head.version == FRAMES_VERSION &&
	     size == sizeof head + (uint64_t)head.count * sizeof(struct frame_rule);
	void *rules = ok && head.count ? landmark_outside_window(size) : 0;
	if (rules && !landmark_pread_all(fd, rules, size - sizeof head, off + sizeof head)) {
		table.rules = rules;
		table.count = head.count;
		table.mapped = size;
		table.failed = 0;
	} else if (rules) {
		syscall(SYS_munmap, rules, size);
	}
	close(fd);
	return table.failed ? -1 : 0;
}

struct walked_frame *landmark_frames_buffer(void)
{
	if (!table.frames)
		table.frames = landmark_outside_window(FRAMES_BYTES);
	return table.frames;
}

void landmark_frames_release(void)
{
	if (table.rules)
		syscall(SYS_munmap, table.rules, table.mapped);
	table.rules = 0;
	table.count = table.mapped = 0;
	table.failed = 0;
}

struct walked_frame *landmark_frames_take(void)
{
	struct walked_frame *f = table.frames;
	table.frames = 0;
	return f;
}

void landmark_frames_free(struct walked_frame *frames)
{
	if (frames)
		syscall(SYS_munmap, frames, FRAMES_BYTES);
}

static const struct frame_rule *rule_for(uint64_t ra)
{
	size_t lo = 0, hi = table.count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (table.rules[mid].return_address < ra)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < table.count && table.rules[lo].return_address == ra ? &table.rules[lo] : 0;
}

int landmark_frame_known(uint64_t pc, uint32_t call_site)
{
	if (load_table() != 0)
		return 0;
	const struct frame_rule *r = rule_for(pc);
	return r && r->call_site == call_site;
}

/* This process's own stack. */
static int read_own_stack(void *ctx, uint64_t at, uint64_t *out)
{
	(void)ctx;
	if (at < landmark_stack_lo || at + 8 > landmark_stack_hi || at % 8)
		return -1;
	memcpy(out, (const void *)at, 8);
	return 0;
}

int landmark_walk(uint64_t pc, uint64_t sp, uint64_t fp, struct walked_frame *out, int max)
{
	return landmark_walk_with(pc, sp, fp, out, max, read_own_stack, 0);
}

int landmark_walk_with(uint64_t pc, uint64_t sp, uint64_t fp, struct walked_frame *out, int max,
		       landmark_stack_reader read_stack, void *ctx)
{
	if (load_table() != 0)
		return -1;
	for (int n = 0; n < max; n++) {
		const struct frame_rule *r = rule_for(pc);
		if (!r || !__landmark_site_migratable(r->call_site))
			return -1;
		uint64_t cfa = (r->cfa_base == CFA_FRAME_POINTER ? fp : sp) + (int64_t)r->cfa_offset, ra;
		if (read_stack(ctx, cfa + r->ra_at, &ra) != 0)
			return -1;
		if (r->fp_saved && read_stack(ctx, cfa + r->fp_at, &fp) != 0)
			return -1;
		out[n] = (struct walked_frame){pc, sp, r->call_site, 0};
		if (ra == (uint64_t)__landmark_main_returned)
			return n + 1;
		pc = ra, sp = cfa;
	}
	return -1;
}
