#include "abi.h"
#include <stdio.h>

VA_WRAP(int, vdprintf, (int fd, const char *f, a64_ap ap), (fd, f, x))
