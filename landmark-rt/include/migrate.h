/* migrate.h: what a program built with `migrate cc` can ask of landmark-rt.
 * `migrate cc` puts this directory on the include path: #include <migrate.h>. */
#ifndef MIGRATE_H
#define MIGRATE_H

/* Asks for a checkpoint at the next migratable landmark after this call.
 * `image`: where to write it (NULL: the path given to `migrate run
 * --image`, else landmark-PID.core in the working directory). With
 * `keep_running` 0 the program ends once the image is written, as if killed
 * (no stdio flush, no atexit handlers: the restored program does those);
 * otherwise it continues. Returns 0, or -1 if `image` is too long. The
 * restored program continues from that landmark, not from this call. */
int landmark_request_checkpoint(const char *image, int keep_running);

#endif
