#include "abi.h"
#include <stdio.h>

VA_WRAP(int, vfprintf, (FILE *s, const char *f, a64_ap ap), (s, f, x))
