/* machine.c (aarch64): the ELF core notes of this ISA and the musl details
 * the runtime needs. Layouts are the kernel's (elf_prstatus with
 * user_pt_regs, user_fpsimd_state), which gdb reads. */
#include <elf.h>
#include <string.h>

#include "../../src/rt.h"

const unsigned short landmark_elf_machine = EM_AARCH64;

size_t landmark_prstatus(const struct landmark_regs *r, int pid, void *out)
{
	unsigned char *p = out;
	memset(p, 0, PRSTATUS_SIZE);
	memcpy(p + PR_PID, &pid, 4);
	uint64_t g[PR_NREGS] = {0};
	for (int i = 0; i < 11; i++)
		g[PR_X19 + i] = r->x[i];
	g[PR_X30] = r->pc; /* the link register held the return address */
	g[PR_SP] = r->sp, g[PR_PC] = r->pc;
	memcpy(p + PR_REG, g, sizeof g);
	int fpvalid = 1;
	memcpy(p + PR_REG + sizeof g, &fpvalid, 4);
	return PRSTATUS_SIZE;
}

size_t landmark_fpregset(const struct landmark_regs *r, void *out)
{
	unsigned char *p = out;
	memset(p, 0, FPREGSET_SIZE);
	for (int i = 0; i < 8; i++)
		memcpy(p + (8 + i) * 16, &r->d[i], 8); /* low halves of v8..v15 */
	uint32_t fpsr = (uint32_t)r->fpsr, fpcr = (uint32_t)r->fpcr;
	memcpy(p + 512, &fpsr, 4);
	memcpy(p + 516, &fpcr, 4);
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
	for (int i = 0; i < 11; i++)
		r->x[i] = g[PR_X19 + i];
	r->sp = g[PR_SP], r->pc = g[PR_PC];
	const unsigned char *f = fpregs;
	for (int i = 0; i < 8; i++)
		memcpy(&r->d[i], f + (8 + i) * 16, 8);
	uint32_t fpsr, fpcr;
	memcpy(&fpsr, f + 512, 4);
	memcpy(&fpcr, f + 516, 4);
	r->fpsr = fpsr, r->fpcr = fpcr;
	return 0;
}
