/* binarytrees: malloc/free-heavy binary trees (benchmarks-game style); max depth from argv[1], default 16. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct node {
    struct node *left, *right;
    uint32_t value;
} node;

static unsigned long allocations;

static node *new_node(node *left, node *right, uint32_t value)
{
    node *n = malloc(sizeof *n);
    if (!n) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    allocations++;
    n->left = left;
    n->right = right;
    n->value = value;
    return n;
}

/* perfect tree; values numbered in heap order starting from `index` */
static node *bottom_up_tree(int depth, uint32_t index)
{
    if (depth > 0)
        return new_node(bottom_up_tree(depth - 1, 2 * index), bottom_up_tree(depth - 1, 2 * index + 1), index);
    return new_node(NULL, NULL, index);
}

static long item_check(const node *t)
{
    if (t->left == NULL)
        return 1;
    return 1 + item_check(t->left) + item_check(t->right);
}

static uint32_t value_hash(const node *t, uint32_t h)
{
    if (t == NULL)
        return h;
    h = (h ^ t->value) * 16777619u;
    h = value_hash(t->left, h);
    return value_hash(t->right, h);
}

static void delete_tree(node *t)
{
    if (t->left) {
        delete_tree(t->left);
        delete_tree(t->right);
    }
    free(t);
}

/* Mirror a tree in place (pointer juggling, no allocation). */
static void mirror(node *t)
{
    node *tmp;
    if (t == NULL)
        return;
    tmp = t->left;
    t->left = t->right;
    t->right = tmp;
    mirror(t->left);
    mirror(t->right);
}

int main(int argc, char **argv)
{
    int n = 16, min_depth = 4, max_depth, stretch_depth, depth;
    node *stretch, *long_lived;
    uint32_t total = 2166136261u;

    if (argc > 1) {
        char *end;
        long v = strtol(argv[1], &end, 10);
        if (*end != '\0' || v < 0 || v > 24) {
            fprintf(stderr, "usage: %s [depth 0..24]\n", argv[0]);
            return 2;
        }
        n = (int)v;
    }
    max_depth = (min_depth + 2 > n) ? min_depth + 2 : n;
    stretch_depth = max_depth + 1;

    stretch = bottom_up_tree(stretch_depth, 1);
    printf("stretch tree of depth %d\t check: %ld\n", stretch_depth, item_check(stretch));
    delete_tree(stretch);

    long_lived = bottom_up_tree(max_depth, 1);

    for (depth = min_depth; depth <= max_depth; depth += 2) {
        long iterations = 1L << (max_depth - depth + min_depth);
        long check = 0, i;
        uint32_t h = 2166136261u;
        for (i = 1; i <= iterations; i++) {
            node *t = bottom_up_tree(depth, (uint32_t)i);
            check += item_check(t);
            if ((i & 1023) == 1) {
                mirror(t);
                h = value_hash(t, h);
            }
            delete_tree(t);
        }
        printf("%ld\t trees of depth %d\t check: %ld\t hash: %08x\n", iterations, depth, check, (unsigned)h);
        total = (total ^ h) * 16777619u;
    }

    printf("long lived tree of depth %d\t check: %ld\t hash: %08x\n", max_depth, item_check(long_lived),
           (unsigned)value_hash(long_lived, 2166136261u));
    delete_tree(long_lived);
    printf("allocations: %lu\n", allocations);
    printf("checksum %08x\n", (unsigned)total);
    return 0;
}
