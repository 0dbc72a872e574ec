/* setjmp: setjmp/longjmp error recovery — a recursive parser/evaluator that longjmps out of deep recursion, a stack of nested jmp_buf handlers with rethrow, retries with volatile locals. */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------ handler stack */
struct handler {
    jmp_buf env;
    struct handler *prev;
};

static struct handler *handler_top;
static int err_code;
static long err_pos;
static char err_msg[96];
static unsigned long throws;

enum { E_SYNTAX = 1, E_DIVZERO = 2, E_DEPTH = 3, E_NUMBER = 4, E_FATAL = 9 };
static const char *const err_names[] = {"none", "syntax", "divzero", "depth", "number", "?", "?", "?", "?", "fatal"};

static void throw_error(int code, long pos, const char *msg)
{
    struct handler *h = handler_top;
    err_code = code;
    err_pos = pos;
    if (msg != err_msg) /* a rethrow passes err_msg itself */
        snprintf(err_msg, sizeof err_msg, "%s", msg);
    throws++;
    if (!h) {
        fprintf(stderr, "uncaught error %d: %s\n", code, msg);
        exit(3);
    }
    handler_top = h->prev; /* pop before jumping */
    longjmp(h->env, code);
}

/* ----------------------------------------- arena (freed on any path) */
static void **arena;
static size_t arena_len, arena_cap, arena_peak;

static void *arena_alloc(size_t n)
{
    void *p;
    if (arena_len == arena_cap) {
        arena_cap = arena_cap ? arena_cap * 2 : 256;
        arena = realloc(arena, arena_cap * sizeof *arena);
        if (!arena) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
    }
    p = malloc(n);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    arena[arena_len++] = p;
    if (arena_len > arena_peak)
        arena_peak = arena_len;
    return p;
}

static void arena_release(void)
{
    while (arena_len)
        free(arena[--arena_len]);
}

/* ------------------------------------------------ parser -> AST */
typedef struct node {
    char op; /* 'n' number, 'u' negate, or + - * / % */
    uint32_t value;
    struct node *l, *r;
} node;

#define MAX_DEPTH 3000

static const char *src, *pos;
static int depth;
static int lenient; /* set by the retry logic: skip unknown characters */

static node *mk(char op, uint32_t v, node *l, node *r)
{
    node *n = arena_alloc(sizeof *n);
    n->op = op;
    n->value = v;
    n->l = l;
    n->r = r;
    return n;
}

static void skip_junk(void)
{
    if (lenient)
        while (*pos && !strchr("0123456789()+-*/%", *pos))
            pos++;
}

static node *parse_expr(void);

static node *parse_factor(void)
{
    node *n;
    skip_junk();
    if (++depth > MAX_DEPTH)
        throw_error(E_DEPTH, pos - src, "nesting too deep");
    if (*pos == '#')
        throw_error(E_FATAL, pos - src, "fatal marker");
    if (*pos == '(') {
        pos++;
        n = parse_expr();
        skip_junk();
        if (*pos != ')')
            throw_error(E_SYNTAX, pos - src, "expected ')'");
        pos++;
    } else if (*pos == '-') {
        pos++;
        n = mk('u', 0, parse_factor(), NULL);
    } else if (*pos >= '0' && *pos <= '9') {
        uint32_t v = 0;
        int digits = 0;
        while (*pos >= '0' && *pos <= '9') {
            if (++digits > 9)
                throw_error(E_NUMBER, pos - src, "number too long");
            v = v * 10u + (uint32_t)(*pos - '0');
            pos++;
        }
        n = mk('n', v, NULL, NULL);
    } else {
        throw_error(E_SYNTAX, pos - src, *pos ? "unexpected character" : "unexpected end");
        n = NULL; /* not reached */
    }
    depth--;
    return n;
}

static node *parse_term(void)
{
    node *n = parse_factor();
    skip_junk();
    while (*pos == '*' || *pos == '/' || *pos == '%') {
        char op = *pos++;
        n = mk(op, 0, n, parse_factor());
        skip_junk();
    }
    return n;
}

static node *parse_expr(void)
{
    node *n = parse_term();
    skip_junk();
    while (*pos == '+' || *pos == '-') {
        char op = *pos++;
        n = mk(op, 0, n, parse_term());
        skip_junk();
    }
    return n;
}

static uint32_t eval(const node *n)
{
    uint32_t a, b;
    switch (n->op) {
    case 'n':
        return n->value;
    case 'u':
        return 0u - eval(n->l);
    default:
        break;
    }
    a = eval(n->l);
    b = eval(n->r);
    switch (n->op) {
    case '+':
        return a + b;
    case '-':
        return a - b;
    case '*':
        return a * b;
    default:
        if (b == 0)
            throw_error(E_DIVZERO, -1, "division by zero");
        return n->op == '/' ? a / b : a % b;
    }
}

/* Parse and evaluate one expression. Any error longjmps straight back here
 * from however deep the recursion was. */
static int evaluate(const char *text, uint32_t *result)
{
    struct handler h;
    h.prev = handler_top;
    handler_top = &h;
    if (setjmp(h.env) == 0) {
        node *tree;
        src = pos = text;
        depth = 0;
        tree = parse_expr();
        skip_junk();
        if (*pos != '\0')
            throw_error(E_SYNTAX, pos - src, "trailing input");
        *result = eval(tree);
        handler_top = h.prev;
        arena_release();
        return 0;
    }
    /* handler already popped by throw_error */
    arena_release();
    if (err_code == E_FATAL) /* not ours to handle: rethrow outward */
        throw_error(E_FATAL, err_pos, err_msg);
    return err_code;
}

/* ------------------------------------------- expression generator */
static uint32_t lcg_state = 271828u;
static uint32_t lcg(void)
{
    lcg_state = lcg_state * 1103515245u + 12345u;
    return (lcg_state >> 8) & 0xFFFFFFu;
}

static char *gbuf;
static size_t glen, gcap;

static void gput(char c)
{
    if (glen + 2 > gcap) {
        gcap = gcap ? gcap * 2 : 4096;
        gbuf = realloc(gbuf, gcap);
        if (!gbuf) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
    }
    gbuf[glen++] = c;
    gbuf[glen] = '\0';
}

static void gen(int d)
{
    uint32_t r = lcg() % 16u;
    if (d <= 0 || r < 6) {
        int k, nd = 1 + (int)(lcg() % 4u);
        for (k = 0; k < nd; k++)
            gput((char)('0' + lcg() % 10u));
    } else if (r < 9) {
        gput('(');
        gen(d - 1);
        gput(')');
    } else if (r < 10) {
        gput('-');
        gen(d - 1);
    } else {
        gen(d - 1);
        gput("+-*/%+-*"[lcg() % 8u]);
        gen(d - 1);
    }
}

/* Generate an expression, then perhaps damage it. */
static void make_case(unsigned long i)
{
    uint32_t kind = lcg() % 100u, fatal = lcg() % 25000u;
    size_t k;
    glen = 0;
    if (kind < 2) { /* very deep nesting, sometimes beyond MAX_DEPTH */
        int n = 1000 + (int)(lcg() % 2500u);
        for (k = 0; k < (size_t)n; k++)
            gput('(');
        gen(3);
        for (k = 0; k < (size_t)n; k++)
            gput(')');
        return;
    }
    gen(5 + (int)(i % 6));
    if (kind < 10 && glen > 2) /* stray character */
        gbuf[lcg() % glen] = "x@ ?"[lcg() % 4u];
    else if (kind < 15 && glen > 2) /* drop the last character */
        gbuf[--glen] = '\0';
    else if (kind < 17) /* a long number */
        for (k = 0; k < 11; k++)
            gput('7');
    if (fatal == 0 && glen > 2) /* rare fatal marker: aborts the whole batch */
        gbuf[lcg() % glen] = '#';
}

/* ------------------------------------------------------------ demos */
static void demo_longjmp_zero(void)
{
    jmp_buf env;
    volatile int visits = 0;
    switch (setjmp(env)) {
    case 0:
        visits++;
        longjmp(env, 0); /* setjmp must then return 1 */
    case 1:
        visits++;
        printf("longjmp(env, 0) made setjmp return 1 (visits=%d)\n", visits);
        break;
    default:
        printf("unexpected setjmp value\n");
        break;
    }
}

static int level3(int x)
{
    if (x % 3 == 0)
        throw_error(E_SYNTAX, x, "level3 failure");
    return x * 2;
}

static int level2(int x)
{
    struct handler h;
    volatile int partial = x;
    h.prev = handler_top;
    handler_top = &h;
    if (setjmp(h.env) == 0) {
        partial = level3(x) + 1;
        if (x % 5 == 0)
            throw_error(E_NUMBER, x, "level2 failure");
        handler_top = h.prev;
        return partial;
    }
    /* handle only E_NUMBER here, pass the rest up */
    if (err_code != E_NUMBER)
        throw_error(err_code, err_pos, err_msg);
    return -partial; /* volatile: the value assigned before the throw */
}

static void demo_nested(void)
{
    struct handler h;
    volatile int x = 1;
    volatile int caught_outer = 0, sum = 0;
    h.prev = handler_top;
    handler_top = &h;
    if (setjmp(h.env) != 0) {
        caught_outer++;
        printf("  outer handler caught %s from x=%d\n", err_names[err_code], x);
        x++;
        h.prev = handler_top; /* re-arm: push the same handler again */
        handler_top = &h;
    }
    while (x <= 16) {
        int v = level2(x);
        sum += v;
        printf("  x=%2d -> %d\n", x, v);
        x++;
    }
    handler_top = h.prev;
    printf("  nested demo: outer catches=%d sum=%d\n", caught_outer, sum);
}

/* retry with increasing leniency; the attempt counter survives longjmp
 * because it is volatile */
static void demo_retry(const char *text)
{
    struct handler h;
    volatile int attempt = 0;
    uint32_t r = 0;
    int rc;
    h.prev = handler_top;
    handler_top = &h;
    if (setjmp(h.env) != 0) {
        /* caught a fatal error that evaluate() rethrew */
        printf("  retry of \"%s\": fatal after %d attempt(s): %s\n", text, attempt + 1, err_msg);
        lenient = 0;
        return;
    }
    for (;;) {
        lenient = attempt > 0;
        rc = evaluate(text, &r);
        if (rc == 0 || attempt >= 2)
            break;
        attempt++;
    }
    handler_top = h.prev;
    lenient = 0;
    if (rc == 0)
        printf("  retry of \"%s\": value %u after %d attempt(s)\n", text, (unsigned)r, attempt + 1);
    else
        printf("  retry of \"%s\": gave up: %s (%s)\n", text, err_names[rc], err_msg);
}

/* static, not automatic: counts[] is updated between setjmp and longjmp
 * and read afterwards, which for a non-volatile local would be undefined */
static unsigned long counts[10];
static uint32_t vhash = 2166136261u;

int main(void)
{
    unsigned long i, batch;

    puts("== longjmp with value 0 ==");
    demo_longjmp_zero();

    puts("== nested handlers ==");
    demo_nested();

    puts("== retries ==");
    demo_retry("1+2*3");
    demo_retry("12 * (3 + 4)");
    demo_retry("(8 x+ 2) + 5");
    demo_retry("100/(5-5)");
    demo_retry("(1+2");
    demo_retry("7*#3");

    puts("== batches ==");
    for (batch = 0; batch < 10; batch++) {
        struct handler outer;
        volatile unsigned long done = 0, ok = 0;
        volatile uint32_t bhash = 2166136261u;
        outer.prev = handler_top;
        handler_top = &outer;
        if (setjmp(outer.env) == 0) {
            for (i = 0; i < 20000; i++) {
                uint32_t v;
                int rc;
                make_case(batch * 20000 + i);
                rc = evaluate(gbuf, &v);
                counts[rc]++;
                if (rc == 0) {
                    ok++;
                    bhash = (bhash ^ v) * 16777619u;
                } else {
                    bhash = (bhash ^ (uint32_t)(rc * 1000003 + err_pos)) * 16777619u;
                }
                done++;
            }
            handler_top = outer.prev;
            printf("batch %lu: completed %lu cases, %lu ok, hash %08x\n", batch, done, ok, (unsigned)bhash);
        } else {
            counts[E_FATAL]++;
            printf("batch %lu: aborted by %s at case %lu (pos %ld) after %lu ok, hash %08x\n", batch,
                   err_names[err_code], done, err_pos, ok, (unsigned)bhash);
        }
        vhash = (vhash ^ bhash) * 16777619u;
        if (handler_top != NULL) {
            puts("handler stack not empty!");
            return 1;
        }
    }
    printf("results: ok=%lu syntax=%lu divzero=%lu depth=%lu number=%lu fatal=%lu\n", counts[0], counts[E_SYNTAX],
           counts[E_DIVZERO], counts[E_DEPTH], counts[E_NUMBER], counts[E_FATAL]);
    printf("throws=%lu arena peak=%lu live=%lu\n", throws, (unsigned long)arena_peak, (unsigned long)arena_len);
    printf("checksum %08x\n", (unsigned)vhash);
    free(gbuf);
    free(arena);
    return 0;
}
