#include "passthrough.h"
#include <syslog.h>

void __mig_vsyslog(int p, const char *f, va_list ap) { vsyslog(p, f, ap); }
