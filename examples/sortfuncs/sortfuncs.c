/* sortfuncs: function pointers — an operation dispatch table, comparator tables for qsort over an array of structs, bsearch, callbacks and libm functions via pointers. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NREC 60000
#define NAMELEN 12

/* ---------------------------------------------------------------- LCG */
static uint32_t lcg_state = 987654321u;
static uint32_t lcg(void)
{
    lcg_state = lcg_state * 1103515245u + 12345u;
    return (lcg_state >> 8) & 0xFFFFFFu;
}

static uint32_t fnv_u32(uint32_t h, uint32_t v)
{
    int i;
    for (i = 0; i < 4; i++) {
        h = (h ^ (v & 0xFFu)) * 16777619u;
        v >>= 8;
    }
    return h;
}

/* ------------------------------------------------- operation table */
typedef long (*binop_fn)(long, long);

static long op_add(long a, long b) { return a + b; }
static long op_sub(long a, long b) { return a - b; }
static long op_mul(long a, long b) { return a * b; }
static long op_div(long a, long b) { return b ? a / b : 0; }
static long op_mod(long a, long b) { return b ? a % b : 0; }
static long op_min(long a, long b) { return a < b ? a : b; }
static long op_max(long a, long b) { return a > b ? a : b; }
static long op_and(long a, long b) { return a & b; }
static long op_or(long a, long b) { return a | b; }
static long op_xor(long a, long b) { return a ^ b; }
static long op_gcd(long a, long b)
{
    if (a < 0)
        a = -a;
    if (b < 0)
        b = -b;
    while (b) {
        long t = a % b;
        a = b;
        b = t;
    }
    return a;
}
static long op_avg(long a, long b) { return (a + b) / 2; }

struct op {
    const char *name;
    binop_fn fn;
};

/* kept sorted by name so it can be searched with bsearch */
static const struct op op_table[] = {
    {"add", op_add}, {"and", op_and}, {"avg", op_avg}, {"div", op_div}, {"gcd", op_gcd}, {"max", op_max},
    {"min", op_min}, {"mod", op_mod}, {"mul", op_mul}, {"or", op_or},   {"sub", op_sub}, {"xor", op_xor},
};
#define NOPS (sizeof op_table / sizeof op_table[0])

static int cmp_op_key(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const struct op *)elem)->name);
}

static binop_fn find_op(const char *name)
{
    const struct op *o = bsearch(name, op_table, NOPS, sizeof op_table[0], cmp_op_key);
    return o ? o->fn : NULL;
}

/* ------------------------------------------------------ records */
typedef struct {
    uint32_t id;
    int score;
    double weight;
    char name[NAMELEN];
} Rec;

typedef int (*cmp_fn)(const void *, const void *);

#define CMP3(a, b) (((a) > (b)) - ((a) < (b)))

static int by_id(const void *a, const void *b)
{
    const Rec *x = a, *y = b;
    return CMP3(x->id, y->id);
}

static int by_score_desc(const void *a, const void *b)
{
    const Rec *x = a, *y = b;
    if (x->score != y->score)
        return CMP3(y->score, x->score);
    return CMP3(x->id, y->id);
}

static int by_name(const void *a, const void *b)
{
    const Rec *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : CMP3(x->id, y->id);
}

static int by_weight(const void *a, const void *b)
{
    const Rec *x = a, *y = b;
    if (x->weight != y->weight)
        return CMP3(x->weight, y->weight);
    return CMP3(x->id, y->id);
}

static int by_name_len_then_score(const void *a, const void *b)
{
    const Rec *x = a, *y = b;
    size_t lx = strlen(x->name), ly = strlen(y->name);
    if (lx != ly)
        return CMP3(lx, ly);
    if (x->score != y->score)
        return CMP3(x->score, y->score);
    return CMP3(y->id, x->id); /* id descending */
}

static const struct {
    const char *name;
    cmp_fn cmp;
} sorters[] = {
    {"id", by_id},
    {"score-desc", by_score_desc},
    {"name", by_name},
    {"weight", by_weight},
    {"namelen-score", by_name_len_then_score},
};
#define NSORTERS (sizeof sorters / sizeof sorters[0])

/* a function returning a function pointer */
static cmp_fn pick_comparator(const char *name)
{
    size_t i;
    for (i = 0; i < NSORTERS; i++)
        if (strcmp(sorters[i].name, name) == 0)
            return sorters[i].cmp;
    return NULL;
}

/* names only: several records may match, bsearch may return any of them */
static int cmp_name_only(const void *a, const void *b)
{
    return strcmp(((const Rec *)a)->name, ((const Rec *)b)->name);
}

static void make_records(Rec *r, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        int k, len = 3 + (int)(lcg() % 7u);
        /* odd multiplier: a bijection on uint32_t, so ids are unique */
        r[i].id = (uint32_t)(i + 1) * 2654435761u;
        r[i].score = (int)(lcg() % 2001u) - 1000;
        r[i].weight = (double)(lcg() % 1000000u) / 1000.0;
        for (k = 0; k < len; k++)
            r[i].name[k] = (char)('a' + lcg() % 6u); /* small alphabet: many duplicate names */
        r[i].name[len] = '\0';
    }
}

static uint32_t order_hash(const Rec *r, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < n; i++)
        h = fnv_u32(h, r[i].id);
    return h;
}

static int is_sorted(const Rec *r, size_t n, cmp_fn cmp)
{
    size_t i;
    for (i = 1; i < n; i++)
        if (cmp(&r[i - 1], &r[i]) > 0)
            return 0;
    return 1;
}

static void show(const char *label, const Rec *r)
{
    printf("    %-6s id=%10u score=%5d weight=%9.3f name=%s\n", label, (unsigned)r->id, r->score, r->weight, r->name);
}

/* ----------------------------------------------- generic callbacks */
typedef void (*visit_fn)(const Rec *, void *);

static void for_each(const Rec *r, size_t n, int (*pred)(const Rec *), visit_fn visit, void *ctx)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!pred || pred(&r[i]))
            visit(&r[i], ctx);
}

static int pred_positive(const Rec *r) { return r->score > 0; }
static int pred_heavy(const Rec *r) { return r->weight >= 900.0; }
static int pred_short_name(const Rec *r) { return r->name[3] == '\0'; }

struct stats {
    unsigned long count;
    long score_sum;
    double weight_sum;
};

static void visit_accumulate(const Rec *r, void *ctx)
{
    struct stats *s = ctx;
    s->count++;
    s->score_sum += r->score;
    s->weight_sum += r->weight;
}

/* --------------------------------------------------- libm table */
static const struct {
    const char *name;
    double (*fn)(double);
    int nonneg; /* domain is x >= 0 */
} math_table[] = {
    {"sin", sin, 0},   {"cos", cos, 0},   {"exp", exp, 0},     {"sqrt", sqrt, 1}, {"cbrt", cbrt, 0},
    {"tanh", tanh, 0}, {"fabs", fabs, 0}, {"floor", floor, 0}, {"ceil", ceil, 0},
};

int main(void)
{
    Rec *recs = malloc(NREC * sizeof *recs);
    Rec *work = malloc(NREC * sizeof *work);
    uint32_t total = 2166136261u;
    size_t i, s;

    if (!recs || !work) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    /* 1. dispatch through the operation table */
    puts("== operation table ==");
    {
        static const char *const program[] = {"add", "mul", "sub", "gcd", "xor", "max", "mod", "div",
                                              "and", "or", "min", "avg", "pow", "mul", "gcd"};
        for (s = 0; s < sizeof program / sizeof program[0]; s++) {
            binop_fn f = find_op(program[s]);
            long acc = 0;
            uint32_t h = 2166136261u;
            if (!f) {
                printf("  %-4s: unknown operation\n", program[s]);
                continue;
            }
            for (i = 0; i < 200000; i++) {
                long a = (long)(lcg() % 20001u) - 10000;
                long b = (long)(lcg() % 201u) - 100;
                long r = f(a, b);
                acc += r % 1000;
                h = fnv_u32(h, (uint32_t)r);
            }
            printf("  %-4s: f(12,-18)=%ld f(-7,3)=%ld sum=%ld hash=%08x\n", program[s], f(12, -18), f(-7, 3), acc,
                   (unsigned)h);
            total = fnv_u32(total, h);
        }
        /* direct indexing into the table, every op on one pair */
        printf("  table applied to (1000, 37):");
        for (s = 0; s < NOPS; s++)
            printf(" %s=%ld", op_table[s].name, op_table[s].fn(1000, 37));
        printf("\n");
    }

    /* 2. qsort with several comparators */
    puts("== qsort ==");
    make_records(recs, NREC);
    for (s = 0; s < NSORTERS; s++) {
        cmp_fn cmp = pick_comparator(sorters[s].name);
        uint32_t h;
        memcpy(work, recs, NREC * sizeof *work);
        qsort(work, NREC, sizeof *work, cmp);
        h = order_hash(work, NREC);
        printf("  sort by %-14s sorted=%s order hash=%08x\n", sorters[s].name, is_sorted(work, NREC, cmp) ? "yes" : "NO",
               (unsigned)h);
        show("first", &work[0]);
        show("middle", &work[NREC / 2]);
        show("last", &work[NREC - 1]);
        total = fnv_u32(total, h);
    }
    /* re-sort an already sorted array and a reversed one */
    qsort(work, NREC, sizeof *work, by_id);
    printf("  resorted by id: hash=%08x\n", (unsigned)order_hash(work, NREC));
    for (i = 0; i < NREC / 2; i++) {
        Rec t = work[i];
        work[i] = work[NREC - 1 - i];
        work[NREC - 1 - i] = t;
    }
    qsort(work, NREC, sizeof *work, by_id);
    printf("  reversed then sorted by id: hash=%08x\n", (unsigned)order_hash(work, NREC));

    /* 3. bsearch by id (array is now sorted by id) */
    puts("== bsearch ==");
    {
        unsigned long found = 0, missing = 0;
        long score_sum = 0;
        for (i = 0; i < 300000; i++) {
            Rec key;
            const Rec *hit;
            uint32_t k = (uint32_t)(lcg() % (2 * NREC)) + 1u;
            key.id = k * 2654435761u; /* ids 1..NREC exist, the rest do not */
            hit = bsearch(&key, work, NREC, sizeof *work, by_id);
            if (hit) {
                found++;
                score_sum += hit->score;
                if (hit->id != key.id) {
                    puts("bsearch returned wrong record");
                    return 1;
                }
            } else {
                missing++;
            }
        }
        printf("  by id: found=%lu missing=%lu score sum=%ld\n", found, missing, score_sum);
        total = fnv_u32(total, (uint32_t)found);
        total = fnv_u32(total, (uint32_t)score_sum);
    }
    {
        /* bsearch by name: which of several equal names bsearch lands on is
         * unspecified, so step back to the first match before using it */
        static const char *const names[] = {"abc", "fedcba", "aaaaaaaa", "zzz", "cafe", "bead", "ddd", "e"};
        qsort(work, NREC, sizeof *work, by_name);
        for (s = 0; s < sizeof names / sizeof names[0]; s++) {
            Rec key;
            const Rec *hit;
            size_t first, j, count = 0;
            memset(&key, 0, sizeof key);
            strcpy(key.name, names[s]);
            hit = bsearch(&key, work, NREC, sizeof *work, cmp_name_only);
            if (!hit) {
                printf("  name %-8s not found\n", names[s]);
                continue;
            }
            first = (size_t)(hit - work);
            while (first > 0 && strcmp(work[first - 1].name, names[s]) == 0)
                first--;
            for (j = first; j < NREC && strcmp(work[j].name, names[s]) == 0; j++)
                count++;
            printf("  name %-8s found: %lu records, first id=%u score=%d\n", names[s], (unsigned long)count,
                   (unsigned)work[first].id, work[first].score);
            total = fnv_u32(total, work[first].id);
        }
    }

    /* 4. callbacks */
    puts("== callbacks ==");
    {
        static const struct {
            const char *name;
            int (*pred)(const Rec *);
        } preds[] = {{"all", NULL}, {"positive", pred_positive}, {"heavy", pred_heavy}, {"short-name", pred_short_name}};
        for (s = 0; s < sizeof preds / sizeof preds[0]; s++) {
            struct stats st = {0, 0, 0.0};
            for_each(recs, NREC, preds[s].pred, visit_accumulate, &st);
            printf("  %-10s count=%6lu score sum=%9ld weight sum=%.3f\n", preds[s].name, st.count, st.score_sum,
                   st.weight_sum);
            total = fnv_u32(total, (uint32_t)st.count);
        }
    }

    /* 5. libm through function pointers */
    puts("== math table ==");
    for (s = 0; s < sizeof math_table / sizeof math_table[0]; s++) {
        double acc = 0.0;
        for (i = 0; i < 20000; i++) {
            double x = ((double)i - 10000.0) / 2500.0; /* -4 .. 4 */
            if (math_table[s].nonneg)
                x = fabs(x);
            acc += math_table[s].fn(x);
        }
        printf("  %-5s f(0.5)=%.12f f(-1.75)=%.12f sum=%.9f\n", math_table[s].name, math_table[s].fn(0.5),
               math_table[s].nonneg ? 0.0 : math_table[s].fn(-1.75), acc);
    }

    printf("checksum %08x\n", (unsigned)total);
    free(recs);
    free(work);
    return 0;
}
