#include "passthrough.h"
#include <stdio.h>

FORWARD(int, vdprintf, (int fd, const char *f, va_list ap), (fd, f, ap))
