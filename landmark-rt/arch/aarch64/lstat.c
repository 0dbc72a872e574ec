#include "passthrough.h"
#include <sys/stat.h>

FORWARD(int, lstat, (const char *p, struct stat *s), (p, s))
