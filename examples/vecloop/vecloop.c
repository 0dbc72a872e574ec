/* vecloop: vectorizable loops over 1M-element int32/float/double arrays — saxpy, daxpy, dot products, prefix sums, min/max, conversions — repeated, with checksums. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#define LEN (1 << 20)
#define REPS 12

static float fx[LEN], fy[LEN];
static double dx[LEN], dy[LEN];
static int32_t ix[LEN], iy[LEN];
static int64_t prefix[LEN];

static uint32_t lcg_state = 31337u;
static uint32_t lcg(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state >> 8;
}

static void init(void)
{
    int i;
    for (i = 0; i < LEN; i++) {
        uint32_t r = lcg();
        ix[i] = (int32_t)(r % 2001u) - 1000;
        iy[i] = (int32_t)(lcg() % 65536u) - 32768;
        fx[i] = (float)(r % 10000u) / 1024.0f - 4.0f;
        fy[i] = (float)(i % 997) / 256.0f;
        dx[i] = (double)(r % 100000u) / 4096.0 - 12.0;
        dy[i] = (double)(i % 1009) / 512.0 - 1.0;
    }
}

/* ---------------------------------------------------------- kernels */
static void saxpy(int n, float a, const float *x, float *y)
{
    int i;
    for (i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}

static void daxpy(int n, double a, const double *x, double *y)
{
    int i;
    for (i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}

/* sequential accumulation: without -ffast-math the order is fixed */
static float sdot(int n, const float *x, const float *y)
{
    float s = 0.0f;
    int i;
    for (i = 0; i < n; i++)
        s += x[i] * y[i];
    return s;
}

static double ddot(int n, const double *x, const double *y)
{
    double s = 0.0;
    int i;
    for (i = 0; i < n; i++)
        s += x[i] * y[i];
    return s;
}

/* float data, double accumulator */
static double sdot_wide(int n, const float *x, const float *y)
{
    double s = 0.0;
    int i;
    for (i = 0; i < n; i++)
        s += (double)x[i] * (double)y[i];
    return s;
}

/* integer reductions: associative, so these really do vectorize */
static int64_t isum(int n, const int32_t *x)
{
    int64_t s = 0;
    int i;
    for (i = 0; i < n; i++)
        s += x[i];
    return s;
}

static int64_t idot(int n, const int32_t *x, const int32_t *y)
{
    int64_t s = 0;
    int i;
    for (i = 0; i < n; i++)
        s += (int64_t)x[i] * y[i];
    return s;
}

static uint32_t uhash_mix(int n, const int32_t *x)
{
    uint32_t s = 0;
    int i;
    for (i = 0; i < n; i++)
        s += (uint32_t)x[i] * 2654435761u ^ (uint32_t)i;
    return s;
}

static void iaxpy(int n, int32_t a, const int32_t *x, int32_t *y)
{
    int i;
    for (i = 0; i < n; i++)
        y[i] = (int32_t)((uint32_t)a * (uint32_t)x[i] + (uint32_t)y[i]); /* wrapping, no UB */
}

static void prefix_sum(int n, const int32_t *x, int64_t *out)
{
    int64_t s = 0;
    int i;
    for (i = 0; i < n; i++) {
        s += x[i];
        out[i] = s;
    }
}

static void prefix_sum_double(int n, double *x)
{
    int i;
    for (i = 1; i < n; i++)
        x[i] += x[i - 1];
}

static void minmax_i(int n, const int32_t *x, int32_t *mn, int32_t *mx)
{
    int32_t lo = x[0], hi = x[0];
    int i;
    for (i = 1; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    *mn = lo;
    *mx = hi;
}

static void minmax_d(int n, const double *x, double *mn, double *mx)
{
    double lo = x[0], hi = x[0];
    int i;
    for (i = 1; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    *mn = lo;
    *mx = hi;
}

/* element-wise sqrt/fabs/floor: exactly rounded operations */
static void elementwise(int n, const double *x, double *y)
{
    int i;
    for (i = 0; i < n; i++)
        y[i] = sqrt(fabs(x[i])) + floor(x[i] * 0.5) - ceil(y[i] * 0.25);
}

static void convert(int n, const int32_t *x, float *f, double *d)
{
    int i;
    for (i = 0; i < n; i++) {
        f[i] = (float)x[i] * 0.001f;
        d[i] = (double)x[i] * 0.001;
    }
}

/* clamp then convert back to int: values stay in range, so no UB */
static void quantize(int n, const double *x, int32_t *out)
{
    int i;
    for (i = 0; i < n; i++) {
        double v = x[i] * 100.0;
        v = v > 1.0e6 ? 1.0e6 : (v < -1.0e6 ? -1.0e6 : v);
        out[i] = (int32_t)v;
    }
}

static void stencil(int n, const float *x, float *y)
{
    int i;
    y[0] = x[0];
    y[n - 1] = x[n - 1];
    for (i = 1; i < n - 1; i++)
        y[i] = 0.25f * x[i - 1] + 0.5f * x[i] + 0.25f * x[i + 1];
}

int main(void)
{
    int r;
    uint32_t check = 0;
    init();
    printf("arrays: %d elements, %d repetitions\n", LEN, REPS);
    printf("initial: isum(ix)=%lld isum(iy)=%lld sdot=%.6f ddot=%.6f\n", (long long)isum(LEN, ix),
           (long long)isum(LEN, iy), (double)sdot(LEN, fx, fy), ddot(LEN, dx, dy));

    for (r = 1; r <= REPS; r++) {
        float fa = 0.5f / (float)r;
        double da = 1.0 / (double)(r + 1);
        int32_t mn, mx;
        double dmn, dmx;
        float s1;
        double s2, s3;
        int64_t i1, i2;

        saxpy(LEN, fa, fx, fy);
        daxpy(LEN, da, dx, dy);
        iaxpy(LEN, (int32_t)(r % 5) - 2, ix, iy);
        s1 = sdot(LEN, fx, fy);
        s2 = ddot(LEN, dx, dy);
        s3 = sdot_wide(LEN, fx, fy);
        i1 = isum(LEN, iy);
        i2 = idot(LEN, ix, iy);
        prefix_sum(LEN, iy, prefix);
        minmax_i(LEN, iy, &mn, &mx);
        minmax_d(LEN, dy, &dmn, &dmx);
        stencil(LEN, fy, fx);   /* fx <- smoothed fy */
        stencil(LEN, fx, fy);   /* fy <- smoothed fx */
        elementwise(LEN, dx, dy);
        if (r % 4 == 0) {
            quantize(LEN, dy, ix);
            convert(LEN, iy, fx, dx);
        }
        printf("rep %2d: sdot=%.6f ddot=%.6f sdotw=%.6f isum=%lld idot=%lld prefix[mid]=%lld prefix[end]=%lld\n", r,
               (double)s1, s2, s3, (long long)i1, (long long)i2, (long long)prefix[LEN / 2],
               (long long)prefix[LEN - 1]);
        printf("        min=%d max=%d dmin=%.6f dmax=%.6f hash=%08x\n", (int)mn, (int)mx, dmn, dmx,
               (unsigned)uhash_mix(LEN, iy));
        check = check * 31u + uhash_mix(LEN, ix) + (uint32_t)i2;
    }

    {
        double *dcopy = dy;
        prefix_sum_double(LEN, dcopy);
        printf("double prefix sum: [0]=%.6f [1000]=%.6f [mid]=%.6f [end]=%.6f\n", dcopy[0], dcopy[1000],
               dcopy[LEN / 2], dcopy[LEN - 1]);
    }
    printf("final: sdot=%.6f ddot=%.6f isum(ix)=%lld\n", (double)sdot(LEN, fx, fy), ddot(LEN, dx, dy),
           (long long)isum(LEN, ix));
    printf("checksum %08x\n", (unsigned)check);
    return 0;
}
