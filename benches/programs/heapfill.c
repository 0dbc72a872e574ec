/* heapfill: the checkpoint benchmark's program. Allocates argv[1] MiB of
 * heap (one malloc: an mmap in landmark-rt's arena), writes every byte,
 * then (with argv[2] = "checkpoint") asks landmark-rt for a checkpoint,
 * which comes at the next landmark, in a short loop, and exits without touching the heap again: restoring it costs the
 * restore and little else. */
#include <migrate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static unsigned step(unsigned x)
{
    return x * 1103515245u + 12345u;
}

/* Escapes the heap, so the compiler keeps every store to it. */
unsigned char *volatile heap_seen;

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 1;
    size_t n = mib << 20;
    unsigned char *heap = malloc(n);
    if (!heap)
        return 2;
    heap_seen = heap;
    unsigned x = 1;
    for (size_t i = 0; i < n; i += 64) {
        x = step(x);
        for (size_t k = 0; k < 64 && i + k < n; k++)
            heap[i + k] = (unsigned char)(x >> (k % 24));
    }
    if (argc > 2 && !strcmp(argv[2], "checkpoint"))
        landmark_request_checkpoint(0, 0);
    for (int i = 0; i < 1000; i++)
        x = step(x);
    printf("%zu MiB, %u, middle byte %u\n", mib, x, heap_seen[n / 2]);
    return 0;
}
