/* churn: the program of `migrate mtd`'s benchmark (benches/mtd.rs).
 * Keeps argv[1] MiB of heap state, filled once, then runs argv[2] rounds:
 * each computes over a few registers, rewrites 64 bytes somewhere in the
 * first MiB of the state (its hot part: a long-running program writes a
 * small part of its state and reads the rest) and reads 8 bytes anywhere.
 * Prints a checksum of the whole state, so a bounced run can be compared
 * with one that never moved, byte for byte. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 10;
    long rounds = argc > 2 ? atol(argv[2]) : 100000;
    size_t n = mib << 20;
    unsigned char *state = malloc(n);
    if (!state)
        return 2;
    uint64_t x = 1;
    for (size_t i = 0; i < n; i += 8) {
        x = mix(x + i);
        memcpy(state + i, &x, 8);
    }
    size_t hot = n < (1u << 20) ? n : (1u << 20);
    uint64_t acc = 0;
    for (long r = 0; r < rounds; r++) {
        for (int k = 0; k < 100; k++)
            acc = mix(acc + (uint64_t)k);
        size_t at = (size_t)(acc % (hot / 64)) * 64;
        for (int k = 0; k < 64; k += 8) {
            uint64_t w;
            memcpy(&w, state + at + k, 8);
            w ^= acc;
            memcpy(state + at + k, &w, 8);
        }
        uint64_t w;
        memcpy(&w, state + (size_t)(mix(acc ^ (uint64_t)r) % (n / 8)) * 8, 8);
        acc += w;
    }
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w;
        memcpy(&w, state + i, 8);
        h = (h ^ w) * 1099511628211ull;
    }
    printf("%zu MiB, %ld rounds, %016llx, state checksum %016llx\n", mib, rounds,
           (unsigned long long)acc, (unsigned long long)h);
    return 0;
}
