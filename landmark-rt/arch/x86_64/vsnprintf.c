#include "abi.h"
#include <stdio.h>

VA_WRAP(int, vsnprintf, (char *b, size_t n, const char *f, a64_ap ap), (b, n, f, x))
