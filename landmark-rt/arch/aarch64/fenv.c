#include "passthrough.h"
#include <fenv.h>

FORWARD(int, feclearexcept, (int e), (e))
FORWARD(int, feraiseexcept, (int e), (e))
FORWARD(int, fetestexcept, (int e), (e))
FORWARD(int, fegetround, (void), ())
FORWARD(int, fesetround, (int r), (r))
