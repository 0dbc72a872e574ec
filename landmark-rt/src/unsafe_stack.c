/* unsafe_stack.c: the stack of the program's escaping stack objects.
 *
 * llvm-pass (unsafe_stack.rs) moves every stack object whose address
 * escapes (a local array passed down, a node linked from a global, a
 * setvbuf buffer, a jmp_buf) out of the machine stack into frames on this
 * second stack, addressed through __landmark_unsafe_sp and laid out once
 * for both ISAs. Mapped at the same address in the migration window on
 * both, it migrates as plain memory: no pointer into it is ever rewritten.
 *
 * It is mapped by the first constructor, before any of the program's own
 * (priority 100: the program's start at 101), as large as the machine stack
 * (startup.c). Until then, and if the mapping fails, frames go to a small
 * static area; a process that restores an image gets the image's unsafe
 * stack with the image's memory instead.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>

#include "rt.h"

/* For code that runs before the constructor: libc's own start-up does not
 * use this stack (libc.a is not compiled through the pass). */
static unsigned char early[4096] __attribute__((aligned(16)));

void *__landmark_unsafe_sp = early + sizeof early;
uint64_t landmark_unsafe_lo, landmark_unsafe_hi;

__attribute__((constructor(100))) static void map_unsafe_stack(void)
{
	if (landmark_restoring())
		return;
	size_t size = landmark_stack_size();
	uint64_t lo = UNSAFE_STACK_TOP - size;
	void *m = mmap((void *)lo, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m != (void *)lo) {
		/* qemu 7.2 may ignore the hint (DESIGN.md). Run anyway, on an
		 * unsafe stack anywhere: checkpoints are then refused. */
		if (m != MAP_FAILED)
			munmap(m, size);
		landmark_say("landmark-rt: ", "cannot map the unsafe stack in the migration window; "
			     "running without migration support", "\n");
		m = mmap(0, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m == MAP_FAILED) {
			landmark_say("landmark-rt: ", "cannot map the unsafe stack", "\n");
			_Exit(127);
		}
		__landmark_unsafe_sp = (char *)m + size;
		return;
	}
	landmark_unsafe_lo = lo;
	landmark_unsafe_hi = UNSAFE_STACK_TOP;
	__landmark_unsafe_sp = (void *)UNSAFE_STACK_TOP;
}
