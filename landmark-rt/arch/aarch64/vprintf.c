#include "passthrough.h"
#include <stdio.h>

FORWARD(int, vprintf, (const char *f, va_list ap), (f, ap))
