/* stackarrays: large local arrays (64-384 KiB per frame) passed down by pointer through several call levels; stack matrix multiply, LU solve, integer sieves and histograms. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define N 128 /* 128x128 doubles = 128 KiB per matrix */

static uint32_t lcg_state = 777u;
static uint32_t lcg(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state >> 8;
}

/* ------------------------------------------------ level 3: leaves */
static void matmul(double (*c)[N], const double (*a)[N], const double (*b)[N])
{
    int i, j, k;
    for (i = 0; i < N; i++) {
        for (j = 0; j < N; j++)
            c[i][j] = 0.0;
        for (k = 0; k < N; k++) {
            double aik = a[i][k];
            for (j = 0; j < N; j++)
                c[i][j] += aik * b[k][j];
        }
    }
}

/* Orthogonal matrix built from random Givens rotations: its powers stay
 * bounded (|P| = sqrt(N)) but do not converge, so they stay interesting. */
static void fill_orthogonal(double (*m)[N], uint32_t seed, int rotations)
{
    int i, j, r;
    for (i = 0; i < N; i++)
        for (j = 0; j < N; j++)
            m[i][j] = (i == j) ? 1.0 : 0.0;
    for (r = 0; r < rotations; r++) {
        int p, q, ia, ib;
        double norm, c, s;
        seed = seed * 1103515245u + 12345u;
        p = (int)((seed >> 8) % N);
        seed = seed * 1103515245u + 12345u;
        q = (int)((seed >> 8) % N);
        seed = seed * 1103515245u + 12345u;
        ia = (int)((seed >> 8) % 2001u) - 1000;
        seed = seed * 1103515245u + 12345u;
        ib = (int)((seed >> 8) % 2001u) - 1000;
        if (p == q || (ia == 0 && ib == 0))
            continue;
        /* cos/sin of the angle of (ia, ib), via the correctly rounded sqrt
         * (libm sin/cos may differ in the last bit between C libraries) */
        norm = sqrt((double)(ia * ia + ib * ib));
        c = (double)ia / norm;
        s = (double)ib / norm;
        for (j = 0; j < N; j++) {
            double mp = m[p][j], mq = m[q][j];
            m[p][j] = c * mp - s * mq;
            m[q][j] = s * mp + c * mq;
        }
    }
}

static void transpose(double (*t)[N], const double (*m)[N])
{
    int i, j;
    for (i = 0; i < N; i++)
        for (j = 0; j < N; j++)
            t[j][i] = m[i][j];
}

/* |P^T P - I| in the Frobenius norm, using two more stack matrices */
static double orthogonality_error(const double (*p)[N])
{
    double pt[N][N], prod[N][N]; /* 256 KiB */
    double e = 0.0;
    int i, j;
    transpose(pt, p);
    matmul(prod, (const double (*)[N])pt, p);
    for (i = 0; i < N; i++)
        for (j = 0; j < N; j++) {
            double d = prod[i][j] - (i == j ? 1.0 : 0.0);
            e += d * d;
        }
    return sqrt(e);
}

static double trace(const double (*m)[N])
{
    double t = 0.0;
    int i;
    for (i = 0; i < N; i++)
        t += m[i][i];
    return t;
}

static double frobenius(const double (*m)[N])
{
    double s = 0.0;
    int i, j;
    for (i = 0; i < N; i++)
        for (j = 0; j < N; j++)
            s += m[i][j] * m[i][j];
    return sqrt(s);
}

/* ---------------------------------- level 2: matrix power on stack */
static void matrix_power(double (*result)[N], const double (*base)[N], int exponent)
{
    double tmp[N][N];   /* 72 KiB */
    double power[N][N]; /* 72 KiB */
    int i;
    memset(result, 0, sizeof(double[N][N]));
    for (i = 0; i < N; i++)
        result[i][i] = 1.0;
    memcpy(power, base, sizeof power);
    while (exponent > 0) {
        if (exponent & 1) {
            matmul(tmp, (const double (*)[N])result, (const double (*)[N])power);
            memcpy(result, tmp, sizeof tmp);
        }
        matmul(tmp, (const double (*)[N])power, (const double (*)[N])power);
        memcpy(power, tmp, sizeof tmp);
        exponent >>= 1;
    }
}

/* LU decomposition with partial pivoting, then solve A x = b. */
static int lu_solve(double (*a)[N], double *x, const double *b)
{
    int perm[N];
    double y[N];
    int i, j, k;
    for (i = 0; i < N; i++)
        perm[i] = i;
    for (k = 0; k < N; k++) {
        int p = k;
        double best = fabs(a[k][k]);
        for (i = k + 1; i < N; i++)
            if (fabs(a[i][k]) > best) {
                best = fabs(a[i][k]);
                p = i;
            }
        if (best == 0.0)
            return -1;
        if (p != k) {
            double rowtmp[N];
            int t = perm[k];
            memcpy(rowtmp, a[k], sizeof rowtmp);
            memcpy(a[k], a[p], sizeof rowtmp);
            memcpy(a[p], rowtmp, sizeof rowtmp);
            perm[k] = perm[p];
            perm[p] = t;
        }
        for (i = k + 1; i < N; i++) {
            double f = a[i][k] / a[k][k];
            a[i][k] = f;
            for (j = k + 1; j < N; j++)
                a[i][j] -= f * a[k][j];
        }
    }
    for (i = 0; i < N; i++) {
        double s = b[perm[i]];
        for (j = 0; j < i; j++)
            s -= a[i][j] * y[j];
        y[i] = s;
    }
    for (i = N - 1; i >= 0; i--) {
        double s = y[i];
        for (j = i + 1; j < N; j++)
            s -= a[i][j] * x[j];
        x[i] = s / a[i][i];
    }
    return 0;
}

/* ------------------------------------- level 1: matrix experiments */
static void matrix_experiments(uint32_t seed)
{
    static const int exponents[] = {37, 250, 1001, 4097};
    double a[N][N], p[N][N], lu[N][N]; /* 384 KiB in this frame */
    double x[N], b[N];
    int i, j, e;
    double resid = 0.0;

    fill_orthogonal(a, seed, 600);
    printf("seed %u: trace(A)=%.12f orth.err(A)=%.6e\n", (unsigned)seed, trace((const double (*)[N])a),
           orthogonality_error((const double (*)[N])a));
    for (e = 0; e < 4; e++) {
        matrix_power(p, (const double (*)[N])a, exponents[e]);
        printf("  A^%-5d trace=%.12f |P|=%.12f orth.err=%.6e p[3][5]=%.12f\n", exponents[e],
               trace((const double (*)[N])p), frobenius((const double (*)[N])p),
               orthogonality_error((const double (*)[N])p), p[3][5]);
    }

    /* solve (A + 3I) x = b and measure the residual */
    memcpy(lu, a, sizeof lu);
    for (i = 0; i < N; i++) {
        lu[i][i] += 3.0;
        b[i] = (double)(i % 7) - 3.0;
    }
    if (lu_solve(lu, x, b) != 0) {
        printf("  singular\n");
        return;
    }
    for (i = 0; i < N; i++) {
        double s = 3.0 * x[i];
        for (j = 0; j < N; j++)
            s += a[i][j] * x[j];
        resid += fabs(s - b[i]);
    }
    printf("  solve (A+3I)x=b: x[0]=%.12f x[%d]=%.12f x[%d]=%.12f residual=%.6e\n", x[0], N / 2, x[N / 2], N - 1,
           x[N - 1], resid);
}

/* ----------------------------- integer work on a 256 KiB stack array */
static void sieve_mark(unsigned char *composite, int n)
{
    int i, j;
    composite[0] = composite[1] = 1;
    for (i = 2; (long)i * i < n; i++)
        if (!composite[i])
            for (j = i * i; j < n; j += i)
                composite[j] = 1;
}

static void histogram(const uint32_t *vals, int n, uint32_t *bins, int nbins)
{
    int i;
    for (i = 0; i < n; i++)
        bins[vals[i] % (uint32_t)nbins]++;
}

static uint32_t reduce_level3(const uint32_t *vals, int n)
{
    uint32_t h = 2166136261u;
    int i;
    for (i = 0; i < n; i++)
        h = (h ^ vals[i]) * 16777619u;
    return h;
}

static uint32_t reduce_level2(uint32_t *vals, int n, const unsigned char *composite, int limit)
{
    uint32_t bins[1024]; /* 4 KiB */
    int i, primes = 0;
    memset(bins, 0, sizeof bins);
    for (i = 0; i < n; i++) {
        uint32_t v = vals[i] % (uint32_t)limit;
        if (!composite[v])
            primes++;
        vals[i] = v;
    }
    histogram(vals, n, bins, 1024);
    {
        uint32_t maxbin = 0;
        for (i = 0; i < 1024; i++)
            if (bins[i] > maxbin)
                maxbin = bins[i];
        return reduce_level3(vals, n) ^ (uint32_t)primes ^ (maxbin << 20);
    }
}

static uint32_t integer_pass(int round, const unsigned char *composite, int limit)
{
    uint32_t vals[65536]; /* 256 KiB */
    int i;
    for (i = 0; i < 65536; i++)
        vals[i] = lcg() ^ (uint32_t)(i * round);
    return reduce_level2(vals, 65536, composite, limit);
}

static uint32_t integer_experiments(void)
{
    unsigned char composite[131072]; /* 128 KiB */
    uint32_t h = 0;
    int r, count = 0, i;
    memset(composite, 0, sizeof composite);
    sieve_mark(composite, (int)sizeof composite);
    for (i = 0; i < (int)sizeof composite; i++)
        count += !composite[i];
    printf("primes below %d: %d\n", (int)sizeof composite, count);
    for (r = 1; r <= 40; r++) {
        uint32_t v = integer_pass(r, composite, (int)sizeof composite);
        if (r % 8 == 0)
            printf("integer pass %2d: %08x\n", r, (unsigned)v);
        h = h * 31u + v;
    }
    return h;
}

/* ------------------- recursion where each frame carries a 64 KiB array */
static uint32_t nested_frames(int level, const uint32_t *parent)
{
    uint32_t local[16384]; /* 64 KiB per level */
    uint32_t h;
    int i;
    for (i = 0; i < 16384; i++)
        local[i] = (parent ? parent[(i * 7 + level) % 16384] : (uint32_t)i) * 2654435761u + (uint32_t)level;
    if (level == 0)
        return reduce_level3(local, 16384);
    h = nested_frames(level - 1, local);
    /* use the array again after the callee returned: it must be intact */
    return h ^ reduce_level3(local, 16384);
}

int main(void)
{
    uint32_t total = 0, h;
    int s;

    puts("== matrices on the stack ==");
    for (s = 1; s <= 4; s++)
        matrix_experiments((uint32_t)s * 7919u);

    puts("== integer arrays on the stack ==");
    h = integer_experiments();
    printf("integer hash %08x\n", (unsigned)h);
    total = total * 31u + h;

    puts("== nested 64 KiB frames ==");
    for (s = 1; s <= 24; s += 5) {
        h = nested_frames(s, NULL);
        printf("depth %2d (%4d KiB of arrays): %08x\n", s + 1, (s + 1) * 64, (unsigned)h);
        total = total * 31u + h;
    }

    printf("checksum %08x\n", (unsigned)total);
    return 0;
}
