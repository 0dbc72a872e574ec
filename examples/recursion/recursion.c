/* recursion: deep recursion — Ackermann, N-Queens, Hanoi, a recursive-descent parser over generated expressions, and a >100000-frame flood fill. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- LCG */
static uint32_t lcg_state = 12345u;
static uint32_t lcg(void)
{
    lcg_state = lcg_state * 1103515245u + 12345u;
    return (lcg_state >> 8) & 0xFFFFFFu; /* 24 random bits */
}

/* ---------------------------------------------------------- Ackermann */
static unsigned long long ack_calls;
static unsigned ack_depth, ack_maxdepth;

static unsigned long ackermann(unsigned long m, unsigned long n)
{
    unsigned long r;
    ack_calls++;
    if (++ack_depth > ack_maxdepth)
        ack_maxdepth = ack_depth;
    if (m == 0)
        r = n + 1;
    else if (n == 0)
        r = ackermann(m - 1, 1);
    else
        r = ackermann(m - 1, ackermann(m, n - 1));
    ack_depth--;
    return r;
}

/* ----------------------------------------------------------- N-Queens */
static unsigned long queens(int n, int row, unsigned cols, unsigned d1, unsigned d2)
{
    unsigned long count = 0;
    unsigned avail;
    if (row == n)
        return 1;
    avail = ~(cols | d1 | d2) & ((1u << n) - 1u);
    while (avail) {
        unsigned bit = avail & (0u - avail);
        avail &= avail - 1u;
        count += queens(n, row + 1, cols | bit, ((d1 | bit) << 1) & ((1u << n) - 1u), (d2 | bit) >> 1);
    }
    return count;
}

/* -------------------------------------------------------------- Hanoi */
static uint32_t hanoi_hash;
static unsigned long hanoi_moves;

static void hanoi(int n, int from, int to, int via)
{
    if (n == 0)
        return;
    hanoi(n - 1, from, via, to);
    hanoi_moves++;
    hanoi_hash = (hanoi_hash ^ (uint32_t)(n * 9 + from * 3 + to)) * 16777619u;
    hanoi(n - 1, via, to, from);
}

/* --------------------------------------- expression generator / parser */
/* Arithmetic is on uint32_t (wrapping, well defined). Division or modulo
 * by zero is defined by this language to yield the left operand. */
static char *gen_buf;
static size_t gen_len, gen_cap;

static void gen_putc(char c)
{
    if (gen_len + 1 >= gen_cap) {
        gen_cap = gen_cap ? gen_cap * 2 : 1024;
        gen_buf = realloc(gen_buf, gen_cap);
        if (!gen_buf) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
    }
    gen_buf[gen_len++] = c;
    gen_buf[gen_len] = '\0';
}

static void gen_number(void)
{
    char tmp[16];
    int i, n = snprintf(tmp, sizeof tmp, "%u", (unsigned)(lcg() % 1000u));
    for (i = 0; i < n; i++)
        gen_putc(tmp[i]);
}

static void gen_expr(int depth);

static void gen_factor(int depth)
{
    uint32_t r = lcg() % 10u;
    if (depth <= 0 || r < 5) {
        gen_number();
    } else if (r < 8) {
        gen_putc('(');
        gen_expr(depth - 1);
        gen_putc(')');
    } else {
        gen_putc('-');
        gen_factor(depth - 1);
    }
}

static void gen_term(int depth)
{
    static const char ops[] = "*/%";
    int i, n = (int)(lcg() % 3u);
    gen_factor(depth);
    for (i = 0; i < n; i++) {
        gen_putc(ops[lcg() % 3u]);
        gen_factor(depth);
    }
}

static void gen_expr(int depth)
{
    int i, n = (int)(lcg() % 4u);
    gen_term(depth);
    for (i = 0; i < n; i++) {
        gen_putc((lcg() & 1u) ? '+' : '-');
        gen_term(depth);
    }
}

static const char *pp;
static unsigned parse_depth, parse_maxdepth, parse_divzero;

static uint32_t parse_expr(void);

static uint32_t parse_factor(void)
{
    uint32_t v;
    if (++parse_depth > parse_maxdepth)
        parse_maxdepth = parse_depth;
    if (*pp == '(') {
        pp++;
        v = parse_expr();
        if (*pp == ')')
            pp++;
    } else if (*pp == '-') {
        pp++;
        v = 0u - parse_factor();
    } else {
        v = 0;
        while (*pp >= '0' && *pp <= '9') {
            v = v * 10u + (uint32_t)(*pp - '0');
            pp++;
        }
    }
    parse_depth--;
    return v;
}

static uint32_t parse_term(void)
{
    uint32_t v = parse_factor();
    while (*pp == '*' || *pp == '/' || *pp == '%') {
        char op = *pp++;
        uint32_t r = parse_factor();
        if (op == '*')
            v *= r;
        else if (r == 0)
            parse_divzero++;
        else if (op == '/')
            v /= r;
        else
            v %= r;
    }
    return v;
}

static uint32_t parse_expr(void)
{
    uint32_t v = parse_term();
    while (*pp == '+' || *pp == '-') {
        char op = *pp++;
        uint32_t r = parse_term();
        v = (op == '+') ? v + r : v - r;
    }
    return v;
}

/* --------------------------------------------------------- flood fill */
#define FW 560
#define FH 400
enum { WALL = 0, OPEN = 1, FILLED = 2 };
static unsigned char grid[FH][FW];
static unsigned long fill_count;
static unsigned long fill_depth, fill_maxdepth;

static void fill(int x, int y)
{
    if (grid[y][x] != OPEN)
        return;
    grid[y][x] = FILLED;
    fill_count++;
    if (++fill_depth > fill_maxdepth)
        fill_maxdepth = fill_depth;
    fill(x + 1, y);
    fill(x - 1, y);
    fill(x, y + 1);
    fill(x, y - 1);
    fill_depth--;
}

/* Serpentine corridor: the depth-first fill follows the whole snake, so
 * the recursion depth equals the corridor length (> 100000 cells). */
static unsigned long build_grid(void)
{
    int x, y;
    unsigned long open = 0;
    memset(grid, WALL, sizeof grid);
    for (y = 1; y < FH - 1; y += 2) {
        for (x = 1; x < FW - 1; x++)
            grid[y][x] = OPEN;
        if (y + 2 < FH - 1)
            grid[y + 1][((y / 2) % 2 == 0) ? FW - 2 : 1] = OPEN;
    }
    for (y = 0; y < FH; y++)
        for (x = 0; x < FW; x++)
            open += grid[y][x] == OPEN;
    return open;
}

static uint32_t grid_hash(void)
{
    uint32_t h = 2166136261u;
    int x, y;
    for (y = 0; y < FH; y++)
        for (x = 0; x < FW; x++)
            h = (h ^ grid[y][x]) * 16777619u;
    return h;
}

/* ------------------------------------------------------------- main */
int main(void)
{
    unsigned long m, n;
    uint32_t total = 0;
    int i;

    puts("== Ackermann ==");
    for (m = 0; m <= 3; m++) {
        unsigned long nmax = (m < 2) ? 20 : (m == 2 ? 60 : 9);
        for (n = 0; n <= nmax; n += (m < 3 ? 5 : 1)) {
            unsigned long r;
            ack_calls = 0;
            ack_maxdepth = 0;
            r = ackermann(m, n);
            printf("A(%lu,%lu) = %lu  calls=%llu maxdepth=%u\n", m, n, r, ack_calls, ack_maxdepth);
            total = total * 31u + (uint32_t)r;
        }
    }

    puts("== N-Queens ==");
    for (i = 1; i <= 11; i++) {
        unsigned long s = queens(i, 0, 0, 0, 0);
        printf("queens(%d) = %lu\n", i, s);
        total = total * 31u + (uint32_t)s;
    }

    puts("== Hanoi ==");
    for (i = 1; i <= 20; i += 3) {
        hanoi_hash = 2166136261u;
        hanoi_moves = 0;
        hanoi(i, 0, 2, 1);
        printf("hanoi(%d): moves=%lu hash=%08x\n", i, hanoi_moves, (unsigned)hanoi_hash);
        total = total * 31u + hanoi_hash;
    }

    puts("== Expression parser ==");
    {
        uint32_t ehash = 0;
        unsigned long chars = 0;
        unsigned maxd = 0, shown = 0;
        for (i = 0; i < 6000; i++) {
            uint32_t v;
            gen_len = 0;
            gen_expr(2 + (int)(lcg() % 9u));
            pp = gen_buf;
            parse_depth = 0;
            parse_maxdepth = 0;
            v = parse_expr();
            if (*pp != '\0') {
                printf("parse error in expression %d at offset %ld\n", i, (long)(pp - gen_buf));
                return 1;
            }
            if (parse_maxdepth > maxd)
                maxd = parse_maxdepth;
            chars += gen_len;
            ehash = (ehash ^ v) * 16777619u;
            if (shown < 8 && gen_len < 60) {
                shown++;
                printf("  %s = %u\n", gen_buf, (unsigned)v);
            } else if (i % 1000 == 0)
                printf("  expr %d: length %lu value %u\n", i, (unsigned long)gen_len, (unsigned)v);
        }
        printf("expressions=6000 chars=%lu maxdepth=%u divzero=%u hash=%08x\n", chars, maxd, parse_divzero,
               (unsigned)ehash);
        total = total * 31u + ehash;

        /* one very deeply nested expression: 20000 parens + 20000 unary minus */
        gen_len = 0;
        for (i = 0; i < 20000; i++) {
            gen_putc('(');
            gen_putc('-');
        }
        gen_putc('7');
        for (i = 0; i < 20000; i++) {
            gen_putc('+');
            gen_putc('1');
            gen_putc(')');
        }
        pp = gen_buf;
        parse_depth = 0;
        parse_maxdepth = 0;
        {
            uint32_t v = parse_expr();
            printf("deep expression: length=%lu value=%u maxdepth=%u\n", (unsigned long)gen_len, (unsigned)v,
                   parse_maxdepth);
            total = total * 31u + v;
        }
        free(gen_buf);
    }

    puts("== Flood fill ==");
    {
        unsigned long open = build_grid();
        fill_count = 0;
        fill_depth = 0;
        fill_maxdepth = 0;
        fill(1, 1);
        printf("grid %dx%d open=%lu filled=%lu maxdepth=%lu hash=%08x\n", FW, FH, open, fill_count, fill_maxdepth,
               (unsigned)grid_hash());
        if (fill_count != open) {
            puts("flood fill mismatch");
            return 1;
        }
        total = total * 31u + (uint32_t)fill_maxdepth;
    }

    printf("checksum %08x\n", (unsigned)total);
    return 0;
}
