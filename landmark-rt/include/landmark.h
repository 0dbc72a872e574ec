/* landmark.h: the interface between a migratable program and landmark-rt. */
#ifndef LANDMARK_H
#define LANDMARK_H

#define LANDMARK_RT_VERSION "0.1"

extern const char __landmark_rt_id[];

/* Set when landmarks should call in; every landmark tests it. */
extern volatile int __landmark_pending;

/* Called by a landmark, with the call-site ID of that call (the ID its
 * stackmap record and the side table use), when __landmark_pending is set.
 * Assembly (arch/<isa>/machine.S): it saves the registers the program will
 * have when the call returns, for a checkpoint taken here. */
void __landmark_hit(unsigned id);

/* 1 if a frame suspended at call site `id` can be translated to either ISA
 * (the build certified every record of it on both), else 0. A migration
 * requested while some frame is at a call site that is not migratable
 * waits for a later landmark. */
int __landmark_site_migratable(unsigned id);

#endif
