/* machine.c (x86_64): the ELF core notes of this ISA and the musl details
 * the runtime needs. Layouts are the kernel's (elf_prstatus with
 * user_regs_struct, user_i387_struct), which gdb reads. */
#include <elf.h>
#include <string.h>

#include "../../src/rt.h"

const unsigned short landmark_elf_machine = EM_X86_64;

/* musl 1.2.3, src/internal/pthread_impl.h: self, dtv, prev, next, sysinfo,
 * canary, then tid. */
const size_t landmark_tid_offset = 6 * sizeof(void *);

enum { PR_REG = 112, NREGS = 27, PRSTATUS_SIZE = PR_REG + NREGS * 8 + 8 };
enum { R15, R14, R13, R12, RBP, RBX, R11, R10, R9, R8, RAX, RCX, RDX, RSI, RDI, ORIG_RAX,
       RIP, CS, EFLAGS, RSP, SS, FS_BASE, GS_BASE, DS, ES, FS, GS };

size_t landmark_prstatus(const struct landmark_regs *r, int pid, void *out)
{
	unsigned char *p = out;
	memset(p, 0, PRSTATUS_SIZE);
	memcpy(p + 32, &pid, 4); /* pr_pid */
	uint64_t g[NREGS] = {0};
	g[R15] = r->r15, g[R14] = r->r14, g[R13] = r->r13, g[R12] = r->r12;
	g[RBP] = r->rbp, g[RBX] = r->rbx, g[RIP] = r->rip, g[RSP] = r->rsp;
	g[ORIG_RAX] = (uint64_t)-1;
	g[CS] = 0x33, g[SS] = 0x2b, g[EFLAGS] = 0x246;
	g[FS_BASE] = __landmark_thread_pointer();
	memcpy(p + PR_REG, g, sizeof g);
	int fpvalid = 1;
	memcpy(p + PR_REG + sizeof g, &fpvalid, 4);
	return PRSTATUS_SIZE;
}

size_t landmark_fpregset(const struct landmark_regs *r, void *out)
{
	unsigned char *p = out;
	memset(p, 0, 512);
	memcpy(p + 0, &r->fcw, 2);    /* cwd */
	memcpy(p + 24, &r->mxcsr, 4); /* mxcsr */
	uint32_t mask = 0xffff;
	memcpy(p + 28, &mask, 4); /* mxcsr_mask */
	return 512;
}

int landmark_regs_from_notes(struct landmark_regs *r, const void *prstatus, size_t prsize,
			     const void *fpregs, size_t fpsize)
{
	if (prsize != PRSTATUS_SIZE || fpsize != 512)
		return -1;
	uint64_t g[NREGS];
	memcpy(g, (const unsigned char *)prstatus + PR_REG, sizeof g);
	memset(r, 0, sizeof *r);
	r->r15 = g[R15], r->r14 = g[R14], r->r13 = g[R13], r->r12 = g[R12];
	r->rbp = g[RBP], r->rbx = g[RBX], r->rip = g[RIP], r->rsp = g[RSP];
	memcpy(&r->fcw, (const unsigned char *)fpregs + 0, 2);
	memcpy(&r->mxcsr, (const unsigned char *)fpregs + 24, 4);
	return 0;
}
