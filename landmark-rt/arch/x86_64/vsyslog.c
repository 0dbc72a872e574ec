#include "abi.h"
#include <syslog.h>

void __mig_vsyslog(int p, const char *f, a64_ap ap)
{
	va_list x;
	to_x86(x, ap);
	vsyslog(p, f, x);
}
