#include "abi.h"
#include <fcntl.h>

int __mig_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	unsigned long arg = va_arg(ap, unsigned long);
	va_end(ap);
	if (cmd == F_SETFL)
		arg = (unsigned long)__mig_flags_to_x86((int)arg);
	int r = fcntl(fd, cmd, arg);
	if (cmd == F_GETFL && r >= 0)
		r = __mig_flags_to_a64(r);
	return r;
}
