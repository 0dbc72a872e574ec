#include "abi.h"
#include <fenv.h>

/* aarch64 values (bits/fenv.h) and their x86_64 counterparts. */
static const struct {
	int a64, x86;
} except_map[] = {
	{1, FE_INVALID}, {2, FE_DIVBYZERO}, {4, FE_OVERFLOW}, {8, FE_UNDERFLOW}, {16, FE_INEXACT},
}, round_map[] = {
	{0, FE_TONEAREST}, {0x800000, FE_DOWNWARD}, {0x400000, FE_UPWARD}, {0xc00000, FE_TOWARDZERO},
};

static int excepts_to_x86(int e)
{
	int out = 0;
	for (int i = 0; i < 5; i++)
		if (e & except_map[i].a64)
			out |= except_map[i].x86;
	return out;
}

static int excepts_to_a64(int e)
{
	int out = 0;
	for (int i = 0; i < 5; i++)
		if (e & except_map[i].x86)
			out |= except_map[i].a64;
	return out;
}

int __mig_feclearexcept(int e) { return feclearexcept(excepts_to_x86(e)); }
int __mig_feraiseexcept(int e) { return feraiseexcept(excepts_to_x86(e)); }
int __mig_fetestexcept(int e) { return excepts_to_a64(fetestexcept(excepts_to_x86(e))); }

int __mig_fegetround(void)
{
	int r = fegetround();
	for (int i = 0; i < 4; i++)
		if (round_map[i].x86 == r)
			return round_map[i].a64;
	return -1;
}

int __mig_fesetround(int r)
{
	for (int i = 0; i < 4; i++)
		if (round_map[i].a64 == r)
			return fesetround(round_map[i].x86);
	return -1;
}
