/* machine.c (x86_64): the ELF core notes of this ISA and the musl details
 * the runtime needs. Layouts are the kernel's (elf_prstatus with
 * user_regs_struct, user_i387_struct), which gdb reads. */
#include <elf.h>
#include <string.h>

#include "../../src/rt.h"

const unsigned short landmark_elf_machine = EM_X86_64;

size_t landmark_prstatus(const struct landmark_regs *r, int pid, void *out)
{
	unsigned char *p = out;
	memset(p, 0, PRSTATUS_SIZE);
	memcpy(p + PR_PID, &pid, 4);
	uint64_t g[PR_NREGS] = {0};
	g[PR_R15] = r->r15, g[PR_R14] = r->r14, g[PR_R13] = r->r13, g[PR_R12] = r->r12;
	g[PR_RBP] = r->rbp, g[PR_RBX] = r->rbx, g[PR_RIP] = r->rip, g[PR_RSP] = r->rsp;
	g[PR_ORIG_RAX] = (uint64_t)-1;
	g[PR_CS] = 0x33, g[PR_SS] = 0x2b, g[PR_EFLAGS] = 0x246;
	g[PR_FS_BASE] = __landmark_thread_pointer();
	memcpy(p + PR_REG, g, sizeof g);
	int fpvalid = 1;
	memcpy(p + PR_REG + sizeof g, &fpvalid, 4);
	return PRSTATUS_SIZE;
}

size_t landmark_fpregset(const struct landmark_regs *r, void *out)
{
	unsigned char *p = out;
	memset(p, 0, FPREGSET_SIZE);
	memcpy(p + 0, &r->fcw, 2);    /* cwd */
	memcpy(p + 24, &r->mxcsr, 4); /* mxcsr */
	uint32_t mask = 0xffff;
	memcpy(p + 28, &mask, 4); /* mxcsr_mask */
	return FPREGSET_SIZE;
}

int landmark_regs_from_notes(struct landmark_regs *r, const void *prstatus, size_t prsize,
			     const void *fpregs, size_t fpsize)
{
	if (prsize != PRSTATUS_SIZE || fpsize != FPREGSET_SIZE)
		return -1;
	uint64_t g[PR_NREGS];
	memcpy(g, (const unsigned char *)prstatus + PR_REG, sizeof g);
	memset(r, 0, sizeof *r);
	r->r15 = g[PR_R15], r->r14 = g[PR_R14], r->r13 = g[PR_R13], r->r12 = g[PR_R12];
	r->rbp = g[PR_RBP], r->rbx = g[PR_RBX], r->rip = g[PR_RIP], r->rsp = g[PR_RSP];
	memcpy(&r->fcw, (const unsigned char *)fpregs + 0, 2);
	memcpy(&r->mxcsr, (const unsigned char *)fpregs + 24, 4);
	return 0;
}
