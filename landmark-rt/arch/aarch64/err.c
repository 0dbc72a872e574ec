#include "passthrough.h"
#include <err.h>

/* musl defines all four in one member (src/legacy/err.c); so do we. */
void __mig_vwarn(const char *f, va_list ap) { vwarn(f, ap); }
void __mig_vwarnx(const char *f, va_list ap) { vwarnx(f, ap); }
_Noreturn void __mig_verr(int e, const char *f, va_list ap) { verr(e, f, ap); }
_Noreturn void __mig_verrx(int e, const char *f, va_list ap) { verrx(e, f, ap); }
