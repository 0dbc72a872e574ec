#include "abi.h"
#include <stdio.h>

VA_WRAP(int, vprintf, (const char *f, a64_ap ap), (f, x))
