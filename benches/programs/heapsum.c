/* heapsum: the migration latency benchmark's program (benches/migration.rs).
 * Fills argv[1] MiB of heap (one malloc),
 * then (with argv[2] = "checkpoint") asks landmark-rt for a checkpoint,
 * taken at the next landmark, in a short loop. After that loop it prints
 * "resumed" at once (the benchmark times a restore to that line), then a
 * checksum of the whole heap, so a migrated run can be compared with an
 * unmigrated one byte for byte. */
#include <migrate.h>
#include <stdint.h>
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
        for (size_t k = 0; k < 64; k++)
            heap[i + k] = (unsigned char)(x >> (k % 24));
    }
    if (argc > 2 && !strcmp(argv[2], "checkpoint"))
        landmark_request_checkpoint(0, 0);
    for (int i = 0; i < 1000; i++)
        x = step(x);
    puts("resumed");
    fflush(stdout);
    /* 64-bit FNV-1a over 8-byte words: every byte counts, and it is quick. */
    uint64_t h = 14695981039346656037ull;
    const unsigned char *p = heap_seen;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 1099511628211ull;
    }
    printf("%zu MiB, %u, heap checksum %016llx\n", mib, x, (unsigned long long)h);
    return 0;
}
