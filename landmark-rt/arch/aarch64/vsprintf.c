#include "passthrough.h"
#include <stdio.h>

FORWARD(int, vsprintf, (char *b, const char *f, va_list ap), (b, f, ap))
