/* Identifies the runtime version inside a built executable
 * (`strings prog.x86_64 | grep landmark-rt`). */
#include "landmark.h"

const char __landmark_rt_id[] = "landmark-rt " LANDMARK_RT_VERSION;
