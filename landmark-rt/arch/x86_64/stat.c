#include "abi.h"

int __mig_stat(const char *path, struct a64_stat *out)
{
	struct stat s;
	return stat_result(stat(path, &s), &s, out);
}
