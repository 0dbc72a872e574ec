#include "abi.h"
#include <stdio.h>

VA_WRAP(int, vasprintf, (char **b, const char *f, a64_ap ap), (b, f, x))
