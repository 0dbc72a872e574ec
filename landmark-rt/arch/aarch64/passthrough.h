/* passthrough.h: the aarch64 half of the ABI bridge.
 *
 * The program's IR calls __mig_NAME instead of NAME for the libc functions
 * whose ABI differs between the ISAs (llvm-pass, src/shims.rs). On x86_64
 * those convert (arch/x86_64/); here, where the IR's ABI is libc's own, they
 * only forward. They exist so that a pointer to such a function stored in
 * memory (SQLite keeps `stat`, `fstat`, `fcntl` in a table) is the same
 * address in both executables: __mig_NAME is one unit of the layout.
 *
 * One wrapper per file, as on x86_64, so both executables link the same libc
 * members. */
#ifndef MIGRATE_PASSTHROUGH_H
#define MIGRATE_PASSTHROUGH_H

#define _GNU_SOURCE
#include <stdarg.h>

#define FORWARD(ret, name, params, args) \
	ret __mig_##name params { return name args; }

#endif
