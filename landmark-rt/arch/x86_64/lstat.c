#include "abi.h"

int __mig_lstat(const char *path, struct a64_stat *out)
{
	struct stat s;
	return stat_result(lstat(path, &s), &s, out);
}
