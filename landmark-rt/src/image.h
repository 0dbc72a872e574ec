/* image.h: the checkpoint image format (DESIGN.md decision 6), the C side.
 * stack-translator's image.rs is the Rust side; change both together and
 * bump IMAGE_VERSION.
 *
 * An ELF64 core file (ET_CORE) of the checkpointing ISA:
 *   program header 0: PT_NOTE, with
 *     "CORE" NT_PRSTATUS   registers at the landmark (as if it returned)
 *     "CORE" NT_PRPSINFO   program name
 *     "CORE" NT_FPREGSET   floating-point registers and control state
 *     "GNU"  NT_GNU_BUILD_ID  the executable's build-id
 *     "LANDMARK" NOTE_STATE   struct image_state
 *     "LANDMARK" NOTE_EXE     the executable's path (NUL-terminated)
 *     "LANDMARK" NOTE_CWD     the working directory (NUL-terminated)
 *     "LANDMARK" NOTE_FILES   open files (files.c)
 *     "LANDMARK" NOTE_SIGNALS struct image_signal[] (kernel sigaction)
 *     "LANDMARK" NOTE_FRAMES  struct walked_frame[] (rt.h), innermost first:
 *                             the stack walk that found every frame at a
 *                             migratable call site
 *   then one PT_LOAD per mapping in the migration window (the executable's
 *   read-only segments excluded: they come from the executable), with
 *   p_filesz 0 for pages that are not saved (PROT_NONE, or the stack below
 *   the stack pointer), and p_offset = address mod IMAGE_ALIGN plus a
 *   multiple of IMAGE_ALIGN so restore can map the file.
 */
#ifndef LANDMARK_IMAGE_H
#define LANDMARK_IMAGE_H

#include <stdint.h>

#define IMAGE_VERSION 1
#define NOTE_NAME "LANDMARK"

enum {
	NOTE_STATE = 1,
	NOTE_EXE = 2,
	NOTE_CWD = 3,
	NOTE_FILES = 4,
	NOTE_SIGNALS = 5,
	NOTE_FRAMES = 6,
};

struct image_state {
	uint32_t version;      /* IMAGE_VERSION */
	uint32_t call_site;    /* the landmark's call-site ID */
	uint64_t hits;         /* landmark hits before this one, this one included */
	uint64_t brk_start;    /* the heap break when main started */
	uint64_t brk;          /* the heap break now */
	uint64_t stack_lo;     /* the program's stack mapping */
	uint64_t stack_hi;
	uint64_t thread_pointer;
	uint64_t sigmask;      /* blocked signals, bit n-1 for signal n */
	uint32_t umask;
	uint32_t pid;          /* of the checkpointed process */
	uint64_t vdso;         /* AT_SYSINFO_EHDR: musl caches clock_gettime's
	                        * address in it, so a restore needs the same */
};

struct image_signal {
	uint32_t signo, pad;
	uint64_t handler, flags, restorer, mask; /* the kernel's struct sigaction */
};

#endif
