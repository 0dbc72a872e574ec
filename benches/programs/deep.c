/* deep: recursion to argv[1] frames (each with a little state of its own),
 * then a long loop with landmarks at the bottom, for the translation
 * benchmark (benches/translate.rs): a checkpoint there has that many
 * frames. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static long bottom(long n)
{
    long s = 0;
    for (long i = 0; i < n; i++)
        s += i * i % 13;
    return s;
}

__attribute__((noinline)) static long down(int depth, long acc)
{
    if (depth <= 1)
        return acc + bottom(1L << 22);
    long r = down(depth - 1, acc * 3 + depth);
    return r / 3 + acc; /* not an accumulator LLVM can turn into a loop */
}

int main(int argc, char **argv)
{
    int depth = argc > 1 ? atoi(argv[1]) : 32;
    printf("%ld\n", down(depth, 1));
    return 0;
}
