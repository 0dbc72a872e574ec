/* thread.c: the program's thread state in a form no ISA's layout shapes
 * (NOTE_THREAD, migrate-format's ImageThread), so that an image can be
 * resumed under the other ISA's TLS layout (x86_64 variant II, aarch64
 * variant I: the same struct pthread fields at other offsets, the TLS block
 * on the other side of the thread pointer).
 *
 * At a checkpoint the program's fields of musl's struct pthread and the
 * bytes of its TLS block are written to the note. At restore the process
 * keeps its own thread: its struct pthread, DTV and TLS bookkeeping (all in
 * the window, so the image's mapping replaces them) are copied aside before
 * the mapping and written back after it, and the note's fields and TLS
 * bytes are put into them. The thread pointer never changes. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "rt.h"

static struct musl_pthread *self(void)
{
	return (struct musl_pthread *)pthread_self();
}

/* The main thread's TLS block (the program's one module) and its size. */
static unsigned char *tls_block(size_t *size)
{
	struct musl_tls_module *m = __libc.tls_head;
	if (!m || __libc.tls_cnt < 1) {
		*size = 0;
		return 0;
	}
	*size = m->size;
	return (unsigned char *)self()->dtv[1];
}

size_t landmark_thread_note(unsigned char *out, size_t cap)
{
	struct musl_pthread *td = self();
	size_t size;
	unsigned char *block = tls_block(&size);
	struct image_thread t = {
		.errno_val = td->errno_val,
		.h_errno_val = td->h_errno_val,
		.cancel_disable = td->canceldisable,
		.cancel_async = td->cancelasync,
		.tsd_used = td->tsd_used,
		.tsd = (uint64_t)td->tsd,
		.locale = (uint64_t)td->locale,
		.dlerror_buf = (uint64_t)td->dlerror_buf,
		.stdio_locks = (uint64_t)td->stdio_locks,
		.canary = td->canary,
		.tls_size = size,
	};
	if (sizeof t + size > cap)
		return 0;
	memcpy(out, &t, sizeof t);
	if (size)
		memcpy(out + sizeof t, block, size);
	return sizeof t + size;
}

int landmark_thread_fits(const struct image_thread *t, char *err, size_t errlen)
{
	size_t size;
	tls_block(&size);
	if (t->tls_size != size) {
		landmark_format(err, errlen,
			 "its TLS block is %llu bytes and this executable's is %zu (another build?)",
			 (unsigned long long)t->tls_size, size);
		return -1;
	}
	return 0;
}

/* This process's own thread, kept across the mapping. Lives outside the
 * window (the caller allocates it there). */
struct thread_snapshot {
	struct musl_pthread td, *at;
	struct musl_tls_module module, *module_at;
	struct musl_libc libc;
	uintptr_t dtv[2], *dtv_at;
	unsigned char *block;
};

void landmark_thread_keep(struct thread_snapshot **keep)
{
	struct thread_snapshot *k = landmark_outside_window(sizeof *k);
	*keep = k;
	if (!k)
		return;
	k->at = self();
	k->td = *k->at;
	k->module_at = __libc.tls_head;
	if (k->module_at)
		k->module = *k->module_at;
	k->libc = __libc;
	k->dtv_at = k->at->dtv;
	memcpy(k->dtv, k->dtv_at, sizeof k->dtv);
	size_t size;
	k->block = tls_block(&size);
}

/* After the mapping: no libc calls (its data is the image's now), only
 * stores. */
void landmark_thread_restore(const struct thread_snapshot *k, const struct image_thread *t,
			     const unsigned char *tls)
{
	struct musl_pthread *td = k->at;
	*td = k->td;
	if (k->module_at)
		*k->module_at = k->module;
	__libc.tls_head = k->libc.tls_head;
	__libc.tls_size = k->libc.tls_size;
	__libc.tls_align = k->libc.tls_align;
	__libc.tls_cnt = k->libc.tls_cnt;
	for (int i = 0; i < 2; i++)
		k->dtv_at[i] = k->dtv[i];
	td->errno_val = t->errno_val;
	td->h_errno_val = t->h_errno_val;
	td->canceldisable = (unsigned char)t->cancel_disable;
	td->cancelasync = (unsigned char)t->cancel_async;
	td->tsd_used = t->tsd_used & 1;
	td->tsd = (void **)t->tsd;
	td->locale = (void *)t->locale;
	td->dlerror_buf = (char *)t->dlerror_buf;
	td->stdio_locks = (void *)t->stdio_locks;
	td->canary = t->canary;
	for (uint64_t i = 0; i < t->tls_size; i++)
		k->block[i] = tls[i];
}
