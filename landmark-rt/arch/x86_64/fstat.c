#include "abi.h"

int __mig_fstat(int fd, struct a64_stat *out)
{
	struct stat s;
	return stat_result(fstat(fd, &s), &s, out);
}
