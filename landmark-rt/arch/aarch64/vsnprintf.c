#include "passthrough.h"
#include <stdio.h>

FORWARD(int, vsnprintf, (char *b, size_t n, const char *f, va_list ap), (b, n, f, ap))
