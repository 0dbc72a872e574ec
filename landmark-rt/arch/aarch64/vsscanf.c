#include "passthrough.h"
#include <stdio.h>

FORWARD(int, vsscanf, (const char *s, const char *f, va_list ap), (s, f, ap))
