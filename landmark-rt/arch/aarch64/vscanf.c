#include "passthrough.h"
#include <stdio.h>

FORWARD(int, vscanf, (const char *f, va_list ap), (f, ap))
