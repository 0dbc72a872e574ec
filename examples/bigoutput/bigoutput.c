/* bigoutput: ~2.5 MB of buffered stdout via printf, fputs, putchar and fwrite (stdout given a custom setvbuf buffer), progress lines on stderr. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static char stdout_buffer[1 << 16]; /* static: must outlive all output */
static unsigned long total_bytes;

static uint32_t lcg_state = 424242u;
static uint32_t lcg(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state >> 8;
}

/* ---------------------------------------------- phase 1: printf table */
static unsigned long phase_printf(void)
{
    unsigned long bytes = 0;
    int i;
    for (i = 0; i < 10000; i++) {
        int a = (int)(lcg() % 200001u) - 100000;
        unsigned b = lcg();
        long long c = (long long)a * 104729LL * (long long)(i + 1);
        double d = (double)a / 7.0;
        double e = (double)b * 1.0e-5 + (double)i;
        const char *tag = (i % 3 == 0) ? "alpha" : (i % 3 == 1) ? "be" : "gamma-ray";
        int r = printf("%6d|%+7d|%-8x|%08X|%#o|%lld|%12.4f|%.3e|%g|%-9s|%.*s|%c|%*d%%\n", i, a, b, b, b & 0777u, c, d,
                       e, d * d, tag, 2 + i % 4, "precision", 'A' + i % 26, 1 + i % 6, i % 100);
        if (r < 0)
            return bytes;
        bytes += (unsigned long)r;
    }
    return bytes;
}

/* --------------------------------- phase 2: fputs of numbers in words */
static const char *const ones[] = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                                   "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
                                   "seventeen", "eighteen", "nineteen"};
static const char *const tens[] = {"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};

static void words_below_1000(char *out, unsigned n)
{
    if (n >= 100) {
        strcat(out, ones[n / 100]);
        strcat(out, " hundred");
        n %= 100;
        if (n == 0)
            return;
        strcat(out, " and ");
    }
    if (n >= 20) {
        strcat(out, tens[n / 10]);
        if (n % 10) {
            strcat(out, "-");
            strcat(out, ones[n % 10]);
        }
    } else {
        strcat(out, ones[n]);
    }
}

static void number_words(char *out, unsigned long n)
{
    out[0] = '\0';
    if (n == 0) {
        strcpy(out, "zero");
        return;
    }
    if (n >= 1000000) {
        words_below_1000(out, (unsigned)(n / 1000000));
        strcat(out, " million");
        n %= 1000000;
        if (n)
            strcat(out, " ");
    }
    if (n >= 1000) {
        words_below_1000(out, (unsigned)(n / 1000));
        strcat(out, " thousand");
        n %= 1000;
        if (n)
            strcat(out, " ");
    }
    if (n)
        words_below_1000(out, (unsigned)n);
}

static unsigned long phase_fputs(void)
{
    unsigned long bytes = 0, n = 1;
    char line[256];
    int i;
    for (i = 0; i < 9000; i++) {
        number_words(line, n);
        strcat(line, "\n");
        if (fputs(line, stdout) < 0)
            return bytes;
        bytes += strlen(line);
        n = n * 3 + (unsigned long)i;
        if (n >= 1000000000UL)
            n %= 999999937UL;
    }
    return bytes;
}

/* ------------------------------ phase 3: putchar Mandelbrot frames */
static unsigned long phase_putchar(void)
{
    static const char shades[] = " .:-=+*#%@";
    const int W = 150, H = 60, FRAMES = 24, MAXIT = 600;
    unsigned long bytes = 0;
    double cx = -0.743643887037151, cy = 0.131825904205330, scale = 3.0;
    int f, x, y;
    for (f = 0; f < FRAMES; f++) {
        int n = printf("frame %d scale %.6e\n", f, scale);
        if (n > 0)
            bytes += (unsigned long)n;
        for (y = 0; y < H; y++) {
            for (x = 0; x < W; x++) {
                double c_re = cx + ((double)x - W / 2.0) * scale / W;
                double c_im = cy + ((double)y - H / 2.0) * scale / W * 2.0;
                double zr = 0.0, zi = 0.0;
                int it = 0;
                while (it < MAXIT && zr * zr + zi * zi <= 4.0) {
                    double t = zr * zr - zi * zi + c_re;
                    zi = 2.0 * zr * zi + c_im;
                    zr = t;
                    it++;
                }
                putchar(it == MAXIT ? '@' : shades[it % 9]);
                bytes++;
            }
            putchar('\n');
            bytes++;
        }
        scale *= 0.7;
    }
    return bytes;
}

/* ------------------------------------------- phase 4: fwrite hexdump */
static unsigned long phase_fwrite(void)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char data[16];
    char line[80];
    unsigned long bytes = 0;
    unsigned off;
    for (off = 0; off < 9000u * 16u; off += 16) {
        int k, n;
        for (k = 0; k < 16; k++)
            data[k] = (unsigned char)(lcg() >> 4);
        n = snprintf(line, sizeof line, "%08x: ", off);
        for (k = 0; k < 16; k++) {
            line[n++] = hex[data[k] >> 4];
            line[n++] = hex[data[k] & 15];
            if (k & 1)
                line[n++] = ' ';
        }
        line[n++] = ' ';
        for (k = 0; k < 16; k++)
            line[n++] = (data[k] >= 32 && data[k] < 127) ? (char)data[k] : '.';
        line[n++] = '\n';
        if (fwrite(line, 1, (size_t)n, stdout) != (size_t)n)
            return bytes;
        bytes += (unsigned long)n;
    }
    return bytes;
}

int main(void)
{
    static const struct {
        const char *name;
        unsigned long (*run)(void);
    } phases[] = {
        {"printf", phase_printf}, {"fputs", phase_fputs}, {"putchar", phase_putchar}, {"fwrite", phase_fwrite}};
    size_t i;

    /* must happen before any other operation on stdout */
    if (setvbuf(stdout, stdout_buffer, _IOFBF, sizeof stdout_buffer) != 0) {
        fputs("setvbuf failed\n", stderr);
        return 1;
    }
    for (i = 0; i < sizeof phases / sizeof phases[0]; i++) {
        unsigned long n;
        fprintf(stderr, "bigoutput: phase %lu (%s) starting\n", (unsigned long)(i + 1), phases[i].name);
        printf("==== phase %lu: %s ====\n", (unsigned long)(i + 1), phases[i].name);
        n = phases[i].run();
        total_bytes += n;
        fprintf(stderr, "bigoutput: phase %lu (%s) wrote %lu bytes\n", (unsigned long)(i + 1), phases[i].name, n);
    }
    printf("total payload bytes: %lu\n", total_bytes);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fputs("bigoutput: write error on stdout\n", stderr);
        return 1;
    }
    fprintf(stderr, "bigoutput: done, %lu payload bytes\n", total_bytes);
    return 0;
}
