#include "abi.h"

int __mig_fstatat(int dirfd, const char *path, struct a64_stat *out, int flags)
{
	struct stat s;
	return stat_result(fstatat(dirfd, path, &s, flags), &s, out);
}
