/* Replaces musl's src/internal/atomic.h for the libc sources compiled
 * through the landmark pipeline (../SOURCES). musl's version pulls in
 * arch/<isa>/atomic_arch.h, whose inline asm cannot run on both ISAs; the
 * sources we compile only need counting trailing zeros, which has a
 * builtin with the same result on both. A source that needs more from
 * atomic.h fails to compile here, not silently. */
#ifndef LANDMARK_MUSL_ATOMIC_H
#define LANDMARK_MUSL_ATOMIC_H

#define a_ctz_32(x) __builtin_ctz(x)
#define a_ctz_64(x) __builtin_ctzll(x)
#define a_ctz_l(x) __builtin_ctzl(x)

#endif
