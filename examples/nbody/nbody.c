/* nbody: classic 5-body (Sun + Jovian planets) simulation in doubles; energy printed with %.9f before/after N steps (argv[1], default 4000000). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define PI 3.141592653589793
#define SOLAR_MASS (4 * PI * PI)
#define DAYS_PER_YEAR 365.24
#define NBODIES 5

struct body {
    double x, y, z;
    double vx, vy, vz;
    double mass;
};

static struct body bodies[NBODIES] = {
    /* Sun */
    {0, 0, 0, 0, 0, 0, SOLAR_MASS},
    /* Jupiter */
    {4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
     1.66007664274403694e-03 * DAYS_PER_YEAR, 7.69901118419740425e-03 * DAYS_PER_YEAR,
     -6.90460016972063023e-05 * DAYS_PER_YEAR, 9.54791938424326609e-04 * SOLAR_MASS},
    /* Saturn */
    {8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
     -2.76742510726862411e-03 * DAYS_PER_YEAR, 4.99852801234917238e-03 * DAYS_PER_YEAR,
     2.30417297573763929e-05 * DAYS_PER_YEAR, 2.85885980666130812e-04 * SOLAR_MASS},
    /* Uranus */
    {1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
     2.96460137564761618e-03 * DAYS_PER_YEAR, 2.37847173959480950e-03 * DAYS_PER_YEAR,
     -2.96589568540237556e-05 * DAYS_PER_YEAR, 4.36624404335156298e-05 * SOLAR_MASS},
    /* Neptune */
    {1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
     2.68067772490389322e-03 * DAYS_PER_YEAR, 1.62824170038242295e-03 * DAYS_PER_YEAR,
     -9.51592254519715870e-05 * DAYS_PER_YEAR, 5.15138902046611451e-05 * SOLAR_MASS},
};

static const char *const names[NBODIES] = {"sun", "jupiter", "saturn", "uranus", "neptune"};

static void advance(int nbodies, struct body *b, double dt)
{
    int i, j;
    for (i = 0; i < nbodies; i++) {
        struct body *bi = &b[i];
        for (j = i + 1; j < nbodies; j++) {
            struct body *bj = &b[j];
            double dx = bi->x - bj->x;
            double dy = bi->y - bj->y;
            double dz = bi->z - bj->z;
            double d2 = dx * dx + dy * dy + dz * dz;
            double distance = sqrt(d2);
            double mag = dt / (d2 * distance);
            bi->vx -= dx * bj->mass * mag;
            bi->vy -= dy * bj->mass * mag;
            bi->vz -= dz * bj->mass * mag;
            bj->vx += dx * bi->mass * mag;
            bj->vy += dy * bi->mass * mag;
            bj->vz += dz * bi->mass * mag;
        }
    }
    for (i = 0; i < nbodies; i++) {
        struct body *bi = &b[i];
        bi->x += dt * bi->vx;
        bi->y += dt * bi->vy;
        bi->z += dt * bi->vz;
    }
}

static double energy(int nbodies, const struct body *b)
{
    double e = 0.0;
    int i, j;
    for (i = 0; i < nbodies; i++) {
        const struct body *bi = &b[i];
        e += 0.5 * bi->mass * (bi->vx * bi->vx + bi->vy * bi->vy + bi->vz * bi->vz);
        for (j = i + 1; j < nbodies; j++) {
            const struct body *bj = &b[j];
            double dx = bi->x - bj->x;
            double dy = bi->y - bj->y;
            double dz = bi->z - bj->z;
            e -= (bi->mass * bj->mass) / sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

static void offset_momentum(int nbodies, struct body *b)
{
    double px = 0.0, py = 0.0, pz = 0.0;
    int i;
    for (i = 0; i < nbodies; i++) {
        px += b[i].vx * b[i].mass;
        py += b[i].vy * b[i].mass;
        pz += b[i].vz * b[i].mass;
    }
    b[0].vx = -px / SOLAR_MASS;
    b[0].vy = -py / SOLAR_MASS;
    b[0].vz = -pz / SOLAR_MASS;
}

static void print_bodies(const char *label)
{
    int i;
    printf("%s\n", label);
    for (i = 0; i < NBODIES; i++)
        printf("  %-8s pos=(%.9f, %.9f, %.9f) vel=(%.9f, %.9f, %.9f)\n", names[i], bodies[i].x, bodies[i].y,
               bodies[i].z, bodies[i].vx, bodies[i].vy, bodies[i].vz);
}

int main(int argc, char **argv)
{
    long n = 4000000, i;
    if (argc > 1) {
        char *end;
        n = strtol(argv[1], &end, 10);
        if (*end != '\0' || n < 0) {
            fprintf(stderr, "usage: %s [steps]\n", argv[0]);
            return 2;
        }
    }

    offset_momentum(NBODIES, bodies);
    printf("steps: %ld\n", n);
    printf("%.9f\n", energy(NBODIES, bodies));
    print_bodies("initial state:");
    for (i = 1; i <= n; i++) {
        advance(NBODIES, bodies, 0.01);
        if (n >= 10 && i % (n / 10) == 0)
            printf("step %8ld energy %.9f\n", i, energy(NBODIES, bodies));
    }
    print_bodies("final state:");
    printf("%.9f\n", energy(NBODIES, bodies));
    return 0;
}
