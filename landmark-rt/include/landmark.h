/* landmark.h: the interface a migratable program may use.
 * Only the version for now; triggers and checkpoint calls come with the
 * checkpoint runtime. */
#ifndef LANDMARK_H
#define LANDMARK_H

#define LANDMARK_RT_VERSION "0.1"

extern const char __landmark_rt_id[];

#endif
