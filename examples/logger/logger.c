/* logger: user-defined variadic functions — a vfprintf/vsnprintf logger (with va_copy), va_arg over int/double/long long/char*, and calls with more than 8 arguments so some are passed on the stack. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

static unsigned long log_seq;
static uint32_t log_hash = 2166136261u;
static int log_echo = 1; /* print to stdout, or only hash the formatted text */

static uint32_t fnv_str(uint32_t h, const char *s)
{
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

/* Formats once with vsnprintf (sizing pass on a va_copy, then into a
 * buffer) and, when echoing, a third time with vfprintf to stdout or,
 * for errors, stderr. */
void logmsg(int level, const char *fmt, ...)
{
    va_list ap, ap2;
    char small[64];
    char *buf = small;
    int len;

    log_seq++;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    len = vsnprintf(small, sizeof small, fmt, ap2); /* also measures */
    va_end(ap2);
    if (len < 0) {
        va_end(ap);
        return;
    }
    if ((size_t)len >= sizeof small) {
        buf = malloc((size_t)len + 1);
        if (!buf) {
            va_end(ap);
            return;
        }
        {
            va_list ap3;
            va_start(ap3, fmt); /* restart instead of a second va_copy */
            vsnprintf(buf, (size_t)len + 1, fmt, ap3);
            va_end(ap3);
        }
    }
    log_hash = fnv_str(log_hash, buf);
    if (log_echo) {
        FILE *out = level >= LOG_ERROR ? stderr : stdout;
        fprintf(out, "[%06lu] %-5s ", log_seq, level_names[level]);
        vfprintf(out, fmt, ap);
        fprintf(out, " (%d chars%s)\n", len, buf == small ? "" : ", heap buffer");
    }
    va_end(ap);
    if (buf != small)
        free(buf);
}

/* sum of n ints */
long sum_ints(int n, ...)
{
    va_list ap;
    long s = 0;
    int i;
    va_start(ap, n);
    for (i = 0; i < n; i++)
        s += va_arg(ap, int);
    va_end(ap);
    return s;
}

/* average of n doubles (floats are promoted to double by the caller) */
double avg(int n, ...)
{
    va_list ap;
    double s = 0.0;
    int i;
    if (n <= 0)
        return 0.0;
    va_start(ap, n);
    for (i = 0; i < n; i++)
        s += va_arg(ap, double);
    va_end(ap);
    return s / n;
}

/* Takes a type string: i=int, u=unsigned, L=long long, d=double,
 * s=char*, c=char (promoted to int), p=pointer to long (written to).
 * Returns a hash and writes a rendering into out. */
uint32_t mixed(char *out, size_t outsz, const char *types, ...)
{
    va_list ap;
    uint32_t h = 2166136261u;
    size_t used = 0;
    const char *t;
    va_start(ap, types);
    for (t = types; *t; t++) {
        char item[64];
        switch (*t) {
        case 'i': {
            int v = va_arg(ap, int);
            snprintf(item, sizeof item, "i:%d ", v);
            break;
        }
        case 'u': {
            unsigned v = va_arg(ap, unsigned);
            snprintf(item, sizeof item, "u:%u ", v);
            break;
        }
        case 'L': {
            long long v = va_arg(ap, long long);
            snprintf(item, sizeof item, "L:%lld ", v);
            break;
        }
        case 'd': {
            double v = va_arg(ap, double);
            snprintf(item, sizeof item, "d:%.6g ", v);
            break;
        }
        case 's': {
            const char *v = va_arg(ap, const char *);
            snprintf(item, sizeof item, "s:%s ", v ? v : "(null)");
            break;
        }
        case 'c': {
            int v = va_arg(ap, int);
            snprintf(item, sizeof item, "c:%c ", (char)v);
            break;
        }
        case 'p': {
            long *v = va_arg(ap, long *);
            *v += 1000;
            snprintf(item, sizeof item, "p:%ld ", *v);
            break;
        }
        default:
            snprintf(item, sizeof item, "?:%c ", *t);
            break;
        }
        h = fnv_str(h, item);
        if (used + strlen(item) < outsz) {
            memcpy(out + used, item, strlen(item) + 1);
            used += strlen(item);
        }
    }
    va_end(ap);
    if (used > 0 && out[used - 1] == ' ')
        out[used - 1] = '\0';
    else if (used == 0 && outsz > 0)
        out[0] = '\0';
    return h;
}

/* a function taking a va_list, called through a variadic wrapper */
static double vweighted(int n, va_list ap)
{
    double s = 0.0;
    int i;
    for (i = 0; i < n; i++) {
        int w = va_arg(ap, int);
        double x = va_arg(ap, double);
        s += w * x;
    }
    return s;
}

static double weighted(int n, ...)
{
    va_list ap;
    double r;
    va_start(ap, n);
    r = vweighted(n, ap);
    va_end(ap);
    return r;
}

/* many fixed integer and floating arguments, then variadic ones */
static long long many_then_var(int a1, int a2, int a3, int a4, int a5, int a6, int a7, int a8, double f1, double f2,
                               double f3, double f4, double f5, double f6, double f7, double f8, double f9, int n, ...)
{
    va_list ap;
    long long s = (long long)a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8;
    double fs = f1 + f2 + f3 + f4 + f5 + f6 + f7 + f8 + f9;
    int i;
    va_start(ap, n);
    for (i = 0; i < n; i++)
        s = s * 3 + va_arg(ap, long long);
    va_end(ap);
    return s + (long long)(fs * 1000.0);
}

int main(void)
{
    char buf[512];
    long counter = 5;
    unsigned long i;
    short sh = -12;
    float fl = 2.5f;
    char ch = 'Q';
    unsigned char uc = 200;
    const char *nothing = NULL;

    puts("== sum_ints / avg ==");
    printf("sum_ints() = %ld\n", sum_ints(0));
    printf("sum_ints(1..5) = %ld\n", sum_ints(5, 1, 2, 3, 4, 5));
    printf("sum_ints(12 args) = %ld\n", sum_ints(12, 100, -200, 300, -400, 500, -600, 700, -800, 900, -1000, 1100, 1));
    printf("sum_ints(promoted short/char/uchar) = %ld\n", sum_ints(3, sh, ch, uc));
    printf("avg(1.5, 2.5, 3.25) = %.6f\n", avg(3, 1.5, 2.5, 3.25));
    printf("avg(10 doubles, float promoted) = %.6f\n",
           avg(10, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, (double)fl * 4));
    printf("avg(13 mixed-magnitude) = %.9f\n",
           avg(13, 1e-3, 2e3, -7.25, 0.5, 1.0 / 3.0, 2.0 / 3.0, 1e6, -1e6, 42.0, 17.5, -0.125, 3.0, 9.75));

    puts("== mixed ==");
    {
        uint32_t h = mixed(buf, sizeof buf, "iLdsicdLsupdiLdsc", 1, 2LL, 3.5, "four", -5, 'x', 6.25e-3,
                           -7000000000LL, "eight", 9u, &counter, 1e10, 11, 1LL << 40, -13.0, nothing, (int)ch);
        printf("%s\nhash=%08x counter=%ld\n", buf, (unsigned)h, counter);
        h = mixed(buf, sizeof buf, "ddddddddddiiiiiiiiiiLLs", 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 1, 2,
                  3, 4, 5, 6, 7, 8, 9, 10, 123456789012LL, -1LL, "end");
        printf("%s\nhash=%08x\n", buf, (unsigned)h);
    }
    printf("weighted = %.6f\n", weighted(6, 1, 0.5, 2, 0.25, 3, 0.125, 4, 1.0, 5, -2.0, 6, 3.5));
    printf("many_then_var = %lld\n", many_then_var(1, 2, 3, 4, 5, 6, 7, 8, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5,
                                                   5, 10LL, -20LL, 30LL, 1LL << 33, -(1LL << 35)));

    puts("== logger ==");
    logmsg(LOG_INFO, "starting logger test, %d levels", 4);
    logmsg(LOG_DEBUG, "int=%d unsigned=%u hex=%#x octal=%o", -42, 42u, 255u, 8u);
    logmsg(LOG_DEBUG, "double=%.3f sci=%e g=%g", 3.14159265, 6.02214076e23, 0.0001);
    logmsg(LOG_WARN, "string=%s padded=[%10s] left=[%-10s] precision=[%.3s]", "hello", "right", "left", "truncate");
    logmsg(LOG_INFO, "long long=%lld unsigned long long=%llu", -9000000000000LL, 18000000000000000000ULL);
    logmsg(LOG_INFO, "width from args: [%*d] [%-*d] [%.*f]", 8, 42, 6, 7, 2, 2.71828);
    logmsg(LOG_ERROR, "an error line goes to stderr: code=%d", 17);
    logmsg(LOG_INFO, "a long message that does not fit in the small stack buffer: %s %s %s %d %d %d", "alpha",
           "bravo", "charlie", 1, 2, 3);
    logmsg(LOG_WARN, "percent sign %% and char %c", 'z');

    /* many more messages, hashed but not printed */
    log_echo = 0;
    for (i = 0; i < 400000; i++) {
        switch (i % 5) {
        case 0:
            logmsg(LOG_DEBUG, "iteration %lu value %d", i, (int)(i * 7 % 1000));
            break;
        case 1:
            logmsg(LOG_INFO, "ratio %.4f and %g", (double)i / 3.0, (double)(i % 97) * 0.125);
            break;
        case 2:
            logmsg(LOG_WARN, "%s-%s-%lu", "prefix", i % 2 ? "odd" : "even", i);
            break;
        case 3:
            logmsg(LOG_INFO, "%08lx|%-6lu|%+ld", i, i % 1000, -(long)i);
            break;
        default:
            logmsg(LOG_DEBUG, "long padded field [%-70s] %lu", "x", i);
            break;
        }
    }
    log_echo = 1;
    logmsg(LOG_INFO, "done: %lu messages, hash so far %08x", log_seq, (unsigned)log_hash);
    printf("final log hash %08x\n", (unsigned)log_hash);
    return 0;
}
