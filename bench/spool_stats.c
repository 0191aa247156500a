/*
 * spool_stats.c - count what a spool holds, per RFC 8460 result, so
 * bench/run.sh can check an ingest against gen_postfix_log's expectation.
 *
 *   spool_stats DIR
 *
 * Reads every segment with the spool reader (valid frames only) and
 * decodes each payload with trpt_record_from_json(). Prints "key=value"
 * lines in the generator's --expect vocabulary:
 *   records=N  undecodable=N  domains=N  result.<name>=N ...
 * plus the reader's torn/corrupt byte counts. Exit 1 on I/O error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "result.h"
#include "spool.h"

typedef struct spool_tally {
    uint64_t records;
    uint64_t undecodable;
    uint64_t by_result[TRPT_RESULT_COUNT];
    uint64_t torn_bytes, corrupt_bytes;
    /* distinct policy domains: small open-addressing set of hashes */
    uint64_t *seen;
    size_t seen_cap, seen_n;
} spool_tally;

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h | 1; /* 0 marks an empty slot */
}

static int seen_grow(spool_tally *t)
{
    size_t cap = t->seen_cap ? t->seen_cap * 2 : 1024;
    uint64_t *v = calloc(cap, sizeof *v);

    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < t->seen_cap; i++) {
        size_t j = t->seen[i] & (cap - 1);
        if (!t->seen[i])
            continue;
        while (v[j])
            j = (j + 1) & (cap - 1);
        v[j] = t->seen[i];
    }
    free(t->seen);
    t->seen = v;
    t->seen_cap = cap;
    return 0;
}

static int seen_add(spool_tally *t, const char *domain)
{
    uint64_t h = fnv1a(domain);
    size_t j;
    int err;

    if ((t->seen_n + 1) * 2 > t->seen_cap && (err = seen_grow(t)) < 0)
        return err;
    j = h & (t->seen_cap - 1);
    while (t->seen[j] && t->seen[j] != h)
        j = (j + 1) & (t->seen_cap - 1);
    if (!t->seen[j]) {
        t->seen[j] = h;
        t->seen_n++;
    }
    return 0;
}

static int tally_payload(spool_tally *t, trpt_record *r, const char *p,
                         size_t len)
{
    if (trpt_record_from_json(r, p, len) < 0) {
        t->undecodable++;
        return 0;
    }
    t->records++;
    if ((unsigned)r->result < TRPT_RESULT_COUNT)
        t->by_result[r->result]++;
    return r->policy_domain ? seen_add(t, r->policy_domain) : 0;
}

static int tally_segment(spool_tally *t, const char *dir, const char *name)
{
    trpt_spool_reader *rd = NULL;
    trpt_record rec;
    const char *p;
    size_t len;
    int rc;

    if ((rc = trpt_spool_reader_open(&rd, dir, name, 0)) < 0)
        return rc;
    trpt_record_init(&rec);
    while ((rc = trpt_spool_reader_next(rd, &p, &len)) == 1)
        if ((rc = tally_payload(t, &rec, p, len)) < 0)
            break;
    t->torn_bytes += trpt_spool_reader_stats(rd)->torn_bytes;
    t->corrupt_bytes += trpt_spool_reader_stats(rd)->corrupt_bytes;
    trpt_record_free(&rec);
    trpt_spool_reader_free(rd);
    return rc < 0 ? rc : 0;
}

int main(int argc, char **argv)
{
    spool_tally t;
    char **names = NULL;
    int err;

    if (argc != 2) {
        fprintf(stderr, "usage: spool_stats SPOOL_DIR\n");
        return 2;
    }
    memset(&t, 0, sizeof t);
    if ((err = trpt_spool_list(argv[1], &names)) < 0) {
        fprintf(stderr, "spool_stats: %s: %s\n", argv[1], strerror(-err));
        return 1;
    }
    for (char **n = names; *n && err == 0; n++)
        if ((err = tally_segment(&t, argv[1], *n)) < 0)
            fprintf(stderr, "spool_stats: %s: %s\n", *n, strerror(-err));
    trpt_spool_list_free(names);
    printf("records=%" PRIu64 "\nundecodable=%" PRIu64 "\ndomains=%zu\n",
           t.records, t.undecodable, t.seen_n);
    for (int r = 0; r < TRPT_RESULT_COUNT; r++)
        if (t.by_result[r])
            printf("result.%s=%" PRIu64 "\n", trpt_result_name((trpt_result)r),
                   t.by_result[r]);
    printf("torn_bytes=%" PRIu64 "\ncorrupt_bytes=%" PRIu64 "\n", t.torn_bytes,
           t.corrupt_bytes);
    free(t.seen);
    return err < 0 ? 1 : 0;
}
