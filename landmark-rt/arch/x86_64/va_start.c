#include "abi.h"

/* Called right after llvm.va_start: rewrites the x86_64 list in place as the
 * AAPCS64 list over the same register save area. Both ABIs use 8-byte GP
 * slots and 16-byte vector slots with the value in the low bytes, and 8-byte
 * stack slots, so the aarch64 va_arg code then reads the right values. */
void __mig_va_start_x86(void *ap)
{
	struct x86_va_list x = *(struct x86_va_list *)ap;
	struct a64_va_list *a = ap;
	a->stack = x.overflow_arg_area;
	a->gr_top = x.reg_save_area + GP_AREA;
	a->vr_top = x.reg_save_area + REG_AREA;
	a->gr_offs = (int)x.gp_offset - GP_AREA;
	a->vr_offs = (int)x.fp_offset - REG_AREA;
}
