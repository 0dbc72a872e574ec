#include "passthrough.h"
#include <sys/stat.h>

FORWARD(int, fstat, (int fd, struct stat *s), (fd, s))
