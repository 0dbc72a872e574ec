#include "passthrough.h"
#include <sys/stat.h>

FORWARD(int, stat, (const char *p, struct stat *s), (p, s))
