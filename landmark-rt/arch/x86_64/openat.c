#include "abi.h"
#include <fcntl.h>

int __mig_openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (flags & (O_CREAT | TMPFILE_BIT)) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return openat(dirfd, path, __mig_flags_to_x86(flags), mode);
}
