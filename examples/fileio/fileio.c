/* fileio: stdio file round trip — fprintf/fwrite, fseek/ftell, fread/fgets/sscanf verification, in-place update, append, rename, remove (path from argv[1], default "fileio.tmp"). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NREC 120000L
#define RECSIZE 24L
#define NLINES 40000L

static int failures;

static void check(int cond, const char *what)
{
    if (!cond) {
        printf("FAILED: %s\n", what);
        failures++;
    }
}

/* ------------------------------------------- deterministic content */
static uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

/* record i: u32 index, u32 key, u64 value, f64 measurement — stored
 * little-endian byte by byte so the file layout is host-independent */
static void encode_record(unsigned char *p, uint32_t i, uint32_t version)
{
    uint32_t key = mix32(i ^ version);
    uint64_t value = ((uint64_t)mix32(i + 0x9e3779b9u) << 32) | mix32(key);
    double m = (double)(key % 100000u) / 64.0 - 500.0; /* exact in binary */
    uint64_t mb;
    int k;
    memcpy(&mb, &m, sizeof mb);
    for (k = 0; k < 4; k++) {
        p[k] = (unsigned char)(i >> (8 * k));
        p[4 + k] = (unsigned char)(key >> (8 * k));
    }
    for (k = 0; k < 8; k++) {
        p[8 + k] = (unsigned char)(value >> (8 * k));
        p[16 + k] = (unsigned char)(mb >> (8 * k));
    }
}

static uint32_t fnv(uint32_t h, const unsigned char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void line_text(char *buf, size_t n, long i)
{
    uint32_t v = mix32((uint32_t)i * 7u + 1u);
    snprintf(buf, n, "line %06ld key %08x value %.4f tag %c%c\n", i, (unsigned)v, (double)(v % 1000000u) / 16.0,
             'a' + (int)(v % 26u), 'A' + (int)((v >> 8) % 26u));
}

static FILE *xopen(const char *path, const char *mode)
{
    FILE *f = fopen(path, mode);
    if (!f) {
        printf("cannot open %s with mode %s\n", path, mode);
        exit(1);
    }
    return f;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "fileio.tmp";
    char *path2;
    unsigned char rec[RECSIZE], buf[RECSIZE];
    char line[128], expect[128], header[128];
    long header_len, data_end, text_end, size, i;
    uint32_t hw = 2166136261u, hr;
    FILE *f;

    path2 = malloc(strlen(path) + 16);
    if (!path2)
        return 1;
    strcpy(path2, path);
    strcat(path2, ".renamed");
    remove(path);  /* stale files from an interrupted run; failure is fine */
    remove(path2);

    /* ---- 1. write: header (fprintf), binary records (fwrite), text lines */
    f = xopen(path, "wb");
    header_len = fprintf(f, "FILEIO v1 records=%ld recsize=%ld lines=%ld\n", NREC, RECSIZE, NLINES);
    for (i = 0; i < NREC; i++) {
        encode_record(rec, (uint32_t)i, 0);
        hw = fnv(hw, rec, RECSIZE);
        if (fwrite(rec, 1, RECSIZE, f) != (size_t)RECSIZE)
            check(0, "fwrite record");
    }
    data_end = ftell(f);
    for (i = 0; i < NLINES; i++) {
        line_text(line, sizeof line, i);
        fputs(line, f);
    }
    text_end = ftell(f);
    check(fclose(f) == 0, "fclose after write");
    printf("wrote %s: header %ld bytes, %ld records (%ld bytes), %ld text lines, total %ld bytes\n", path, header_len,
           NREC, data_end - header_len, NLINES, text_end);
    printf("record hash at write: %08x\n", (unsigned)hw);
    check(data_end == header_len + NREC * RECSIZE, "ftell after records");

    /* ---- 2. reopen, size via fseek/ftell, sequential read-back */
    f = xopen(path, "rb");
    check(fseek(f, 0, SEEK_END) == 0, "fseek end");
    size = ftell(f);
    printf("reopened: size by fseek/ftell = %ld\n", size);
    check(size == text_end, "file size");
    rewind(f);
    check(fgets(header, sizeof header, f) != NULL, "read header");
    check((long)strlen(header) == header_len, "header length");
    {
        long nrec = 0, recsize = 0, nlines = 0;
        check(sscanf(header, "FILEIO v1 records=%ld recsize=%ld lines=%ld", &nrec, &recsize, &nlines) == 3,
              "parse header");
        printf("header says: records=%ld recsize=%ld lines=%ld\n", nrec, recsize, nlines);
    }
    hr = 2166136261u;
    for (i = 0; i < NREC; i++) {
        if (fread(buf, 1, RECSIZE, f) != (size_t)RECSIZE) {
            check(0, "fread record");
            break;
        }
        hr = fnv(hr, buf, RECSIZE);
    }
    printf("record hash at read:  %08x (%s)\n", (unsigned)hr, hr == hw ? "match" : "MISMATCH");
    check(hr == hw, "record hash");
    {
        long good = 0;
        double vsum = 0.0;
        for (i = 0; i < NLINES && fgets(line, sizeof line, f); i++) {
            long idx;
            unsigned key;
            double val;
            line_text(expect, sizeof expect, i);
            if (strcmp(line, expect) == 0)
                good++;
            if (sscanf(line, "line %ld key %x value %lf", &idx, &key, &val) == 3)
                vsum += val;
        }
        printf("text lines verified: %ld/%ld, value sum %.4f\n", good, NLINES, vsum);
        check(good == NLINES, "text lines");
    }
    check(fgetc(f) == EOF && feof(f), "EOF after last line");
    fclose(f);

    /* ---- 3. random access with fseek + fread */
    f = xopen(path, "rb");
    {
        uint32_t s = 1u;
        long ok = 0, tell_ok = 0;
        const long probes = 60000;
        for (i = 0; i < probes; i++) {
            long idx;
            s = s * 1103515245u + 12345u;
            idx = (long)((s >> 8) % (uint32_t)NREC);
            if (i % 3 == 0) {
                check(fseek(f, header_len + idx * RECSIZE, SEEK_SET) == 0, "fseek set");
            } else if (i % 3 == 1) {
                long cur = ftell(f);
                check(fseek(f, header_len + idx * RECSIZE - cur, SEEK_CUR) == 0, "fseek cur");
            } else {
                check(fseek(f, header_len + idx * RECSIZE - size, SEEK_END) == 0, "fseek end");
            }
            if (ftell(f) == header_len + idx * RECSIZE)
                tell_ok++;
            if (fread(buf, 1, RECSIZE, f) == (size_t)RECSIZE) {
                encode_record(rec, (uint32_t)idx, 0);
                if (memcmp(buf, rec, RECSIZE) == 0)
                    ok++;
            }
        }
        printf("random access: %ld/%ld records verified, %ld/%ld ftell positions correct\n", ok, probes, tell_ok,
               probes);
        check(ok == probes && tell_ok == probes, "random access");
    }
    fclose(f);

    /* ---- 4. in-place update with "r+b" (fseek between write and read) */
    f = xopen(path, "r+b");
    {
        long updated = 0, ok = 0;
        for (i = 0; i < NREC; i += 97) {
            encode_record(rec, (uint32_t)i, 1);
            fseek(f, header_len + i * RECSIZE, SEEK_SET);
            if (fwrite(rec, 1, RECSIZE, f) == (size_t)RECSIZE)
                updated++;
        }
        check(fflush(f) == 0, "fflush");
        for (i = 0; i < NREC; i += 97) {
            encode_record(rec, (uint32_t)i, 1);
            fseek(f, header_len + i * RECSIZE, SEEK_SET);
            if (fread(buf, 1, RECSIZE, f) == (size_t)RECSIZE && memcmp(buf, rec, RECSIZE) == 0)
                ok++;
        }
        /* a neighbour that was not updated must be unchanged */
        encode_record(rec, 1u, 0);
        fseek(f, header_len + 1 * RECSIZE, SEEK_SET);
        check(fread(buf, 1, RECSIZE, f) == (size_t)RECSIZE && memcmp(buf, rec, RECSIZE) == 0, "neighbour record");
        fseek(f, 0, SEEK_END);
        printf("in-place update: %ld records rewritten, %ld verified, size still %ld\n", updated, ok, ftell(f));
        check(ok == updated && ftell(f) == size, "in-place update");
    }
    fclose(f);

    /* ---- 5. append */
    f = xopen(path, "ab");
    {
        long n = 0;
        for (i = 0; i < 1000; i++)
            n += fprintf(f, "appended %ld\n", i * i);
        encode_record(rec, 0xFFFFFFFFu, 7);
        fwrite(rec, 1, RECSIZE, f);
        n += RECSIZE;
        fclose(f);
        f = xopen(path, "rb");
        fseek(f, 0, SEEK_END);
        printf("appended %ld bytes: size %ld -> %ld\n", n, size, ftell(f));
        check(ftell(f) == size + n, "size after append");
        check(fseek(f, -RECSIZE, SEEK_END) == 0, "fseek to trailer");
        check(fread(buf, 1, RECSIZE, f) == (size_t)RECSIZE && memcmp(buf, rec, RECSIZE) == 0, "trailer record");
        fseek(f, size, SEEK_SET);
        check(fgets(line, sizeof line, f) && strcmp(line, "appended 0\n") == 0, "first appended line");
        size += n;
        /* whole-file hash, read in odd-sized chunks */
        rewind(f);
        {
            unsigned char chunk[1000];
            size_t got;
            long total = 0;
            uint32_t h = 2166136261u;
            while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
                h = fnv(h, chunk, got);
                total += (long)got;
            }
            printf("whole file: %ld bytes, hash %08x\n", total, (unsigned)h);
            check(total == size, "whole-file length");
        }
        fclose(f);
    }

    /* ---- 6. rename and remove */
    check(rename(path, path2) == 0, "rename");
    f = fopen(path, "rb");
    printf("after rename: old name %s\n", f ? "STILL EXISTS" : "gone");
    check(f == NULL, "old name gone");
    if (f)
        fclose(f);
    f = xopen(path2, "rb");
    fseek(f, 0, SEEK_END);
    printf("after rename: new name has %ld bytes\n", ftell(f));
    check(ftell(f) == size, "size after rename");
    fclose(f);
    check(remove(path2) == 0, "remove");
    f = fopen(path2, "rb");
    printf("after remove: file %s\n", f ? "STILL EXISTS" : "gone");
    check(f == NULL, "removed file gone");
    if (f)
        fclose(f);

    printf("%s (%d failures)\n", failures ? "SOME CHECKS FAILED" : "ALL OK", failures);
    free(path2);
    return failures ? 1 : 0;
}
