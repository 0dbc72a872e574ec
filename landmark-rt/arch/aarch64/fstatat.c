#include "passthrough.h"
#include <sys/stat.h>

FORWARD(int, fstatat, (int d, const char *p, struct stat *s, int fl), (d, p, s, fl))
