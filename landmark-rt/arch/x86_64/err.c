#include "abi.h"
#include <err.h>

/* musl defines all four in one member (src/legacy/err.c); so do we. */
void __mig_vwarn(const char *f, a64_ap ap)
{
	va_list x;
	to_x86(x, ap);
	vwarn(f, x);
}

void __mig_vwarnx(const char *f, a64_ap ap)
{
	va_list x;
	to_x86(x, ap);
	vwarnx(f, x);
}

_Noreturn void __mig_verr(int e, const char *f, a64_ap ap)
{
	va_list x;
	to_x86(x, ap);
	verr(e, f, x);
}

_Noreturn void __mig_verrx(int e, const char *f, a64_ap ap)
{
	va_list x;
	to_x86(x, ap);
	verrx(e, f, x);
}
