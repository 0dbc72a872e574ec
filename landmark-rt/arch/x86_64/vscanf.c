#include "abi.h"
#include <stdio.h>

VA_WRAP(int, vscanf, (const char *f, a64_ap ap), (f, x))
