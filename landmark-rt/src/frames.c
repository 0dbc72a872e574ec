/* frames.c: walks the program's stack at a landmark to decide whether it
 * can migrate now: every frame must be suspended at a call site that is
 * certified migratable, down to main (DESIGN.md: libc frames on the stack
 * defer the migration to a later landmark).
 *
 * How to step from a frame to its caller comes from the executable's frame
 * table (section .migrate.frames, written by `migrate cc`; format in
 * stack-translator's frames.rs), read from the executable file on the
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

struct frame_rule {
	uint64_t return_address;
	uint32_t call_site;
	int32_t cfa_offset;
	uint8_t cfa_base; /* 0: stack pointer, 1: frame pointer */
	uint8_t fp_saved;
	int16_t ra_at, fp_at;
	uint16_t pad;
};

static struct {
	const struct frame_rule *rules;
	size_t count, mapped;
	int failed; /* no table: nothing can migrate */
	struct walked_frame *frames;
} table;

#define FRAMES_BYTES (MAX_FRAMES * sizeof(struct walked_frame))

/* Finds section `name` of the ELF file `fd`: its offset and size. */
static int find_section(int fd, const char *name, uint64_t *off, uint64_t *size)
{
	Elf64_Ehdr eh;
	if (landmark_pread_all(fd, &eh, sizeof eh, 0) || eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    eh.e_shstrndx >= eh.e_shnum)
		return -1;
	Elf64_Shdr strtab;
	if (landmark_pread_all(fd, &strtab, sizeof strtab, eh.e_shoff + eh.e_shstrndx * sizeof strtab))
		return -1;
	size_t want = strlen(name) + 1;
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh;
		char got[32];
		if (landmark_pread_all(fd, &sh, sizeof sh, eh.e_shoff + i * sizeof sh))
			return -1;
		if (sh.sh_name + want > strtab.sh_size ||
		    landmark_pread_all(fd, got, want, strtab.sh_offset + sh.sh_name))
			continue;
		if (!memcmp(got, name, want)) {
			*off = sh.sh_offset, *size = sh.sh_size;
			return 0;
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
	unsigned char head[16];
	int ok = !find_section(fd, ".migrate.frames", &off, &size) && size >= 16 &&
		 !landmark_pread_all(fd, head, 16, off) && !memcmp(head, "MIGFRAME", 8);
	uint32_t version, count;
	memcpy(&version, head + 8, 4);
	memcpy(&count, head + 12, 4);
	ok = ok && version == 1 && size == 16 + (uint64_t)count * sizeof(struct frame_rule);
	void *rules = ok && count ? landmark_outside_window(size) : 0;
	if (rules && !landmark_pread_all(fd, rules, size - 16, off + 16)) {
		table.rules = rules;
		table.count = count;
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

static int read_stack(uint64_t at, uint64_t *out)
{
	if (at < landmark_stack_lo || at + 8 > landmark_stack_hi || at % 8)
		return -1;
	memcpy(out, (const void *)at, 8);
	return 0;
}

int landmark_walk(uint64_t pc, uint64_t sp, uint64_t fp, struct walked_frame *out, int max)
{
	if (load_table() != 0)
		return -1;
	for (int n = 0; n < max; n++) {
		const struct frame_rule *r = rule_for(pc);
		if (!r || !__landmark_site_migratable(r->call_site))
			return -1;
		uint64_t cfa = (r->cfa_base ? fp : sp) + (int64_t)r->cfa_offset, ra;
		if (read_stack(cfa + r->ra_at, &ra) != 0)
			return -1;
		if (r->fp_saved && read_stack(cfa + r->fp_at, &fp) != 0)
			return -1;
		out[n] = (struct walked_frame){pc, sp, r->call_site};
		if (ra == (uint64_t)__landmark_main_returned)
			return n + 1;
		pc = ra, sp = cfa;
	}
	return -1;
}
