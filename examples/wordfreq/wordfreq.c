/* wordfreq: hash-table word frequency counter over stdin (tests feed input.txt; with empty stdin it generates LCG text), then over a Markov-chain corpus built from it; qsort top-50 reports. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORD 48
#define TOP_N 50
#define GEN_WORDS 3000000UL

/* ---------------------------------------------------------------- LCG */
static uint32_t lcg_state = 20240601u;
static uint32_t lcg(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state >> 8; /* 24 bits */
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

/* ------------------------------------------------------- growable text */
typedef struct {
    char *data;
    size_t len, cap;
} Text;

static void text_reserve(Text *t, size_t extra)
{
    if (t->len + extra + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (t->len + extra + 1 > cap)
            cap *= 2;
        t->data = xrealloc(t->data, cap);
        t->cap = cap;
    }
}

static void text_append(Text *t, const char *s, size_t n)
{
    text_reserve(t, n);
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

/* --------------------------------------------------------- hash table */
typedef struct {
    char *word;
    size_t len;
    unsigned long count;
    uint32_t hash;
} Word;

typedef struct {
    Word *words;      /* dense, in order of first appearance (index = id) */
    size_t nwords, wcap;
    uint32_t *slots;  /* open addressing: 0 = empty, else id + 1 */
    size_t cap;       /* power of two */
    unsigned long total, probes, grows;
} Table;

static uint32_t fnv1a(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static void table_init(Table *t)
{
    memset(t, 0, sizeof *t);
    t->cap = 64;
    t->slots = xmalloc(t->cap * sizeof *t->slots);
    memset(t->slots, 0, t->cap * sizeof *t->slots);
}

static void table_grow(Table *t)
{
    size_t newcap = t->cap * 2, i;
    uint32_t *ns = xmalloc(newcap * sizeof *ns);
    memset(ns, 0, newcap * sizeof *ns);
    for (i = 0; i < t->nwords; i++) {
        size_t j = t->words[i].hash & (newcap - 1);
        while (ns[j])
            j = (j + 1) & (newcap - 1);
        ns[j] = (uint32_t)(i + 1);
    }
    free(t->slots);
    t->slots = ns;
    t->cap = newcap;
    t->grows++;
}

static size_t table_add(Table *t, const char *w, size_t n)
{
    uint32_t h = fnv1a(w, n);
    size_t j = h & (t->cap - 1);
    Word *e;
    t->total++;
    while (t->slots[j]) {
        e = &t->words[t->slots[j] - 1];
        t->probes++;
        if (e->hash == h && e->len == n && memcmp(e->word, w, n) == 0) {
            e->count++;
            return t->slots[j] - 1;
        }
        j = (j + 1) & (t->cap - 1);
    }
    if (t->nwords == t->wcap) {
        t->wcap = t->wcap ? t->wcap * 2 : 256;
        t->words = xrealloc(t->words, t->wcap * sizeof *t->words);
    }
    e = &t->words[t->nwords];
    e->word = xmalloc(n + 1);
    memcpy(e->word, w, n);
    e->word[n] = '\0';
    e->len = n;
    e->count = 1;
    e->hash = h;
    t->slots[j] = (uint32_t)(t->nwords + 1);
    t->nwords++;
    if (t->nwords * 10 > t->cap * 7)
        table_grow(t);
    return t->nwords - 1;
}

static void table_free(Table *t)
{
    size_t i;
    for (i = 0; i < t->nwords; i++)
        free(t->words[i].word);
    free(t->words);
    free(t->slots);
}

/* ------------------------------------------------------------ tokenizer */
static int is_letter(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int to_lower(int c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; }

/* Words are runs of ASCII letters, with an apostrophe allowed between two
 * letters ("keeper's"). Lowercased; truncated to MAX_WORD characters.
 * If ids is non-NULL, the id of every token is appended to it. */
static void count_words(Table *t, const char *text, size_t len, uint32_t **ids, size_t *nids, size_t *idcap)
{
    char w[MAX_WORD + 1];
    size_t i = 0, n;
    while (i < len) {
        int c = (unsigned char)text[i];
        if (!is_letter(c)) {
            i++;
            continue;
        }
        n = 0;
        while (i < len) {
            c = (unsigned char)text[i];
            if (is_letter(c) || (c == '\'' && n > 0 && i + 1 < len && is_letter((unsigned char)text[i + 1]))) {
                if (n < MAX_WORD)
                    w[n++] = (char)to_lower(c);
                i++;
            } else {
                break;
            }
        }
        {
            size_t id = table_add(t, w, n);
            if (ids) {
                if (*nids == *idcap) {
                    *idcap = *idcap ? *idcap * 2 : 1024;
                    *ids = xrealloc(*ids, *idcap * sizeof **ids);
                }
                (*ids)[(*nids)++] = (uint32_t)id;
            }
        }
    }
}

/* ------------------------------------------------------------- report */
static int cmp_word(const void *a, const void *b)
{
    const Word *x = *(const Word *const *)a;
    const Word *y = *(const Word *const *)b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1; /* count descending */
    return strcmp(x->word, y->word);         /* then word ascending */
}

static uint32_t report(const char *title, const Table *t)
{
    const Word **sorted = xmalloc(t->nwords * sizeof *sorted);
    size_t i, longest = 0, shown;
    unsigned long hapax = 0, lenhist[MAX_WORD + 1];
    uint32_t h = 2166136261u;

    memset(lenhist, 0, sizeof lenhist);
    for (i = 0; i < t->nwords; i++) {
        sorted[i] = &t->words[i];
        if (t->words[i].count == 1)
            hapax++;
        if (t->words[i].len > t->words[longest].len)
            longest = i;
        lenhist[t->words[i].len] += t->words[i].count;
    }
    qsort(sorted, t->nwords, sizeof *sorted, cmp_word);

    printf("== %s ==\n", title);
    printf("total words: %lu\n", t->total);
    printf("distinct words: %lu\n", (unsigned long)t->nwords);
    printf("words seen once: %lu\n", hapax);
    if (t->nwords)
        printf("longest word: %s (%lu letters)\n", t->words[longest].word, (unsigned long)t->words[longest].len);
    printf("hash table: capacity %lu, grows %lu, probes %lu\n", (unsigned long)t->cap, t->grows, t->probes);
    printf("tokens by length:");
    for (i = 1; i <= MAX_WORD; i++)
        if (lenhist[i])
            printf(" %lu:%lu", (unsigned long)i, lenhist[i]);
    printf("\n");
    shown = t->nwords < TOP_N ? t->nwords : TOP_N;
    printf("top %lu:\n", (unsigned long)shown);
    for (i = 0; i < shown; i++)
        printf("%4lu  %-16s %8lu  %7.3f%%\n", (unsigned long)(i + 1), sorted[i]->word, sorted[i]->count,
               100.0 * (double)sorted[i]->count / (double)t->total);
    for (i = 0; i < t->nwords; i++) {
        h = (h ^ sorted[i]->hash) * 16777619u;
        h = (h ^ (uint32_t)sorted[i]->count) * 16777619u;
    }
    printf("ranking hash: %08x\n", (unsigned)h);
    free(sorted);
    return h;
}

/* --------------------------------------- built-in text for empty stdin */
static void generate_default_text(Text *out)
{
    static const char *const syll[] = {"ka", "lo", "mi", "ren", "ta", "vos", "el", "dun", "shi", "or",
                                       "pa", "qui", "ne", "bra", "sto", "li", "an", "thu", "ze", "gor"};
    enum { NVOCAB = 1500, NWORDS = 40000 };
    char (*vocab)[24] = xmalloc(NVOCAB * sizeof *vocab);
    int i, col = 0;
    for (i = 0; i < NVOCAB; i++) {
        int k, ns = 1 + (int)(lcg() % 4u);
        vocab[i][0] = '\0';
        for (k = 0; k < ns; k++)
            strcat(vocab[i], syll[lcg() % 20u]);
    }
    for (i = 0; i < NWORDS; i++) {
        /* roughly Zipfian: cube of a uniform variable skews toward 0 */
        uint64_t u = lcg() & 0xFFFFu;
        size_t idx = (size_t)((((u * u) >> 16) * u >> 16) * NVOCAB >> 16);
        size_t n = strlen(vocab[idx]);
        text_append(out, vocab[idx], n);
        col += (int)n + 1;
        if (col > 70) {
            text_append(out, "\n", 1);
            col = 0;
        } else {
            text_append(out, " ", 1);
        }
    }
    free(vocab);
}

/* -------------------------------------------- Markov-chain corpus */
static void generate_markov(Text *out, const Table *t, const uint32_t *ids, size_t nids, unsigned long nwords)
{
    size_t *start = xmalloc((t->nwords + 1) * sizeof *start);
    size_t *fillp = xmalloc(t->nwords * sizeof *fillp);
    uint32_t *succ = xmalloc((nids ? nids : 1) * sizeof *succ);
    size_t i;
    unsigned long k;
    uint32_t cur;
    int col = 0, sentence_left = 0, capital = 1;

    /* compressed successor lists: succ[start[w] .. start[w+1]) */
    memset(start, 0, (t->nwords + 1) * sizeof *start);
    for (i = 0; i + 1 < nids; i++)
        start[ids[i] + 1]++;
    for (i = 0; i < t->nwords; i++)
        start[i + 1] += start[i];
    for (i = 0; i < t->nwords; i++)
        fillp[i] = start[i];
    for (i = 0; i + 1 < nids; i++)
        succ[fillp[ids[i]]++] = ids[i + 1];

    cur = ids[0];
    for (k = 0; k < nwords; k++) {
        const Word *w = &t->words[cur];
        size_t ns = start[cur + 1] - start[cur];
        char buf[MAX_WORD + 4];
        memcpy(buf, w->word, w->len);
        if (capital) {
            buf[0] = (char)(buf[0] - 'a' + 'A');
            capital = 0;
        }
        text_append(out, buf, w->len);
        col += (int)w->len;
        if (sentence_left == 0)
            sentence_left = 6 + (int)(lcg() % 15u);
        if (--sentence_left == 0) {
            text_append(out, ".", 1);
            capital = 1;
        } else if (lcg() % 11u == 0) {
            text_append(out, ",", 1);
        }
        if (col > 68) {
            text_append(out, "\n", 1);
            col = 0;
        } else {
            text_append(out, " ", 1);
            col++;
        }
        if (ns)
            cur = succ[start[cur] + lcg() % ns];
        else
            cur = ids[lcg() % nids];
    }
    text_append(out, "\n", 1);
    free(start);
    free(fillp);
    free(succ);
}

int main(void)
{
    Text in = {NULL, 0, 0}, gen = {NULL, 0, 0};
    Table t1, t2;
    uint32_t *ids = NULL, total;
    size_t nids = 0, idcap = 0, n;
    char chunk[4096];

    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        text_append(&in, chunk, n);
    table_init(&t1);
    if (in.len > 0)
        count_words(&t1, in.data, in.len, &ids, &nids, &idcap);
    if (nids == 0) {
        printf("stdin had no words (%lu bytes); generating pseudo-random text\n", (unsigned long)in.len);
        in.len = 0;
        generate_default_text(&in);
        table_free(&t1);
        table_init(&t1);
        count_words(&t1, in.data, in.len, &ids, &nids, &idcap);
    }
    printf("input: %lu bytes\n", (unsigned long)in.len);
    total = report("input text", &t1);

    generate_markov(&gen, &t1, ids, nids, GEN_WORDS);
    printf("\nmarkov corpus: %lu words requested, %lu bytes, text hash %08x\n", GEN_WORDS, (unsigned long)gen.len,
           (unsigned)fnv1a(gen.data, gen.len));
    table_init(&t2);
    count_words(&t2, gen.data, gen.len, NULL, NULL, NULL);
    if (t2.total != GEN_WORDS) {
        printf("token count mismatch: %lu\n", t2.total);
        return 1;
    }
    total = total * 31u + report("markov corpus", &t2);

    printf("\nchecksum %08x\n", (unsigned)total);
    table_free(&t1);
    table_free(&t2);
    free(ids);
    free(in.data);
    free(gen.data);
    return 0;
}
