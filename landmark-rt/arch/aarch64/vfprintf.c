#include "passthrough.h"
#include <stdio.h>

FORWARD(int, vfprintf, (FILE *s, const char *f, va_list ap), (s, f, ap))
