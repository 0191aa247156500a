/* test_parser_restart.c - restart support of the parser front end
 * (trpt_parser_oldest_open, native hosts; parser.h): a run cut at any line,
 * resumed with a fresh parser from the oldest open line, dropping what the
 * first part already emitted, gives exactly the records of one
 * uninterrupted run. This is what makes a SIGKILLed `tlsrpt journal`
 * resume without losing or doubling a session. Real corpus logs, many
 * random cut points (fixed seed; every line for the Exim mainlog). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "parser.h"
#include "record.h"
#include "timeutil.h"

/* ---- a log in memory ------------------------------------------------------
 */

typedef struct log_lines {
    char **v;
    uint64_t *off; /* byte offset of each line */
    size_t n;
    uint64_t end; /* offset after the last line */
} log_lines;

static int log_load(const char *path, log_lines *lg)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;

    memset(lg, 0, sizeof *lg);
    if (!f)
        return -errno;
    while ((len = getline(&line, &cap, f)) > 0) {
        lg->v = realloc(lg->v, (lg->n + 1) * sizeof *lg->v);
        lg->off = realloc(lg->off, (lg->n + 1) * sizeof *lg->off);
        lg->off[lg->n] = lg->end;
        lg->end += (uint64_t)len;
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        lg->v[lg->n++] = strdup(line);
    }
    free(line);
    fclose(f);
    return 0;
}

static void log_free(log_lines *lg)
{
    for (size_t i = 0; i < lg->n; i++)
        free(lg->v[i]);
    free(lg->v);
    free(lg->off);
}

/* ---- collecting records, with the replay filter ---------------------------
 */

typedef struct collected {
    char **json; /* each record's JSON (event id included) */
    size_t n;
    /* replay filter: drop offset < fed_through, or (offset, sub) <= hw */
    int filter;
    uint64_t fed_through, hw_offset;
    unsigned hw_sub;
    int have_hw;
    /* the last id seen (the high-water of the first part) */
    uint64_t last_offset;
    unsigned last_sub;
    int have_last;
} collected;

static int parse_id(const char *id, uint64_t *offset, unsigned *sub)
{
    const char *colon = strrchr(id, ':');
    char *end;

    if (!colon)
        return -EINVAL;
    *offset = strtoull(colon + 1, &end, 10);
    if (*end != '.')
        return -EINVAL;
    *sub = (unsigned)strtoul(end + 1, &end, 10);
    return *end ? -EINVAL : 0;
}

static int is_replayed(const collected *c, uint64_t off, unsigned sub)
{
    if (off < c->fed_through)
        return 1;
    return c->have_hw &&
           (off < c->hw_offset || (off == c->hw_offset && sub <= c->hw_sub));
}

static int collect(void *ctx, const trpt_record *rec)
{
    collected *c = ctx;
    uint64_t off;
    unsigned sub;
    trpt_buf b;

    if (parse_id(rec->event_id, &off, &sub) < 0)
        return -EINVAL;
    if (c->filter && is_replayed(c, off, sub))
        return 0;
    c->last_offset = off;
    c->last_sub = sub;
    c->have_last = 1;
    trpt_buf_init(&b);
    if (trpt_record_to_json(rec, &b) < 0) {
        trpt_buf_free(&b);
        return -ENOMEM;
    }
    c->json = realloc(c->json, (c->n + 1) * sizeof *c->json);
    c->json[c->n++] = strdup(b.data);
    trpt_buf_free(&b);
    return 0;
}

static void collected_free(collected *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->json[i]);
    free(c->json);
    memset(c, 0, sizeof *c);
}

static trpt_parser_config test_cfg(trpt_mta_format format,
                                   trpt_tlsrpt_mode mode)
{
    trpt_parser_config cfg = {0};

    cfg.format = format;
    cfg.source_id = "restart";
    cfg.ref_time_us = trpt_days_from_civil(2026, 12, 1) * 86400LL * 1000000;
    cfg.tlsrpt_mode = mode;
    return cfg;
}

static void feed_range(trpt_parser *p, const log_lines *lg, size_t from,
                       size_t to)
{
    for (size_t i = from; i < to; i++)
        trpt_parser_feed(p, lg->v[i], strlen(lg->v[i]), lg->off[i]);
}

static int uninterrupted(const log_lines *lg, const trpt_parser_config *cfg,
                         collected *all)
{
    trpt_parser *p = NULL;

    if (trpt_parser_new(&p, cfg, collect, all) < 0)
        return -ENOMEM;
    feed_range(p, lg, 0, lg->n);
    trpt_parser_flush(p, lg->end);
    trpt_parser_free(p);
    return 0;
}

static size_t line_at(const log_lines *lg, uint64_t offset)
{
    for (size_t i = 0; i < lg->n; i++)
        if (lg->off[i] == offset)
            return i;
    return lg->n;
}

/* Feeds lines [0, cut], saves (restart offset, fed-through, high-water,
 * native hosts) as an edge would, drops the parser without flushing (the
 * crash), and resumes with a fresh one. Appends both parts to out. */
static int cut_and_resume(const log_lines *lg, const trpt_parser_config *cfg,
                          size_t cut, collected *out)
{
    trpt_parser *p = NULL;
    char *natives[300];
    size_t nnat = 0, from;
    uint64_t restart;
    int r = 0;

    memset(out, 0, sizeof *out);
    if (trpt_parser_new(&p, cfg, collect, out) < 0)
        return -ENOMEM;
    feed_range(p, lg, 0, cut + 1);
    if (!trpt_parser_oldest_open(p, &restart))
        restart = lg->off[cut];
    for (const char *h; nnat < 300 && (h = trpt_parser_native_host(p, nnat));)
        natives[nnat++] = strdup(h);
    trpt_parser_free(p);

    out->filter = 1;
    out->fed_through = lg->off[cut];
    out->have_hw = out->have_last;
    out->hw_offset = out->last_offset;
    out->hw_sub = out->last_sub;
    from = line_at(lg, restart);
    if (from > cut || trpt_parser_new(&p, cfg, collect, out) < 0)
        r = -EINVAL;
    for (size_t i = 0; i < nnat; i++) {
        if (r == 0)
            r = trpt_parser_add_native_host(p, natives[i]);
        free(natives[i]);
    }
    if (r == 0) {
        feed_range(p, lg, from, lg->n);
        trpt_parser_flush(p, lg->end);
    }
    trpt_parser_free(p);
    return r;
}

/* Same records, same order, same ids; prints the first difference. */
static int same_records(const collected *a, const collected *b, size_t cut)
{
    size_t n = a->n < b->n ? a->n : b->n;

    for (size_t i = 0; i < n; i++) {
        if (strcmp(a->json[i], b->json[i]) != 0) {
            fprintf(stderr, "  cut after line %zu: record %zu\n   %s\n   %s\n",
                    cut + 1, i, a->json[i], b->json[i]);
            return 0;
        }
    }
    if (a->n != b->n) {
        fprintf(stderr, "  cut after line %zu: %zu records, expected %zu\n",
                cut + 1, b->n, a->n);
        return 0;
    }
    return 1;
}

/* Every cut when `every`, else `cuts` random ones (fixed seed). Returns
 * the number of cuts whose records differ. */
static int check_cuts(const char *rel, trpt_mta_format format,
                      trpt_tlsrpt_mode mode, int every, int cuts,
                      size_t *records)
{
    trpt_parser_config cfg = test_cfg(format, mode);
    log_lines lg;
    collected all = {0};
    int bad = 0;
    unsigned seed = 20261128;

    if (log_load(shared_path(rel), &lg) < 0 || lg.n == 0)
        return -1;
    if (uninterrupted(&lg, &cfg, &all) < 0)
        bad = -1;
    *records = all.n;
    for (int k = 0; bad >= 0 && k < (every ? (int)lg.n : cuts); k++) {
        size_t cut = every ? (size_t)k : (size_t)rand_r(&seed) % lg.n;
        collected resumed;

        if (cut_and_resume(&lg, &cfg, cut, &resumed) < 0 ||
            !same_records(&all, &resumed, cut))
            bad++;
        collected_free(&resumed);
    }
    collected_free(&all);
    log_free(&lg);
    return bad;
}

#define C310 "corpus/postfix-3.10-tlsrpt/maillog.txt"
#define C37  "corpus/postfix-3.7-exim-4.96/"

TEST(postfix310_resumed_at_random_lines_gives_the_uninterrupted_records)
{
    size_t n = 0;

    /* yes: only TLSRPT: lines; no: classic lines, tlsproxy included */
    EXPECT_EQ(check_cuts(C310, TRPT_FORMAT_AUTO, TRPT_TLSRPT_ONLY, 0, 200, &n),
              0);
    EXPECT(n > 20);
    EXPECT_EQ(
        check_cuts(C310, TRPT_FORMAT_AUTO, TRPT_TLSRPT_CLASSIC, 0, 200, &n), 0);
    EXPECT(n > 20);
}

TEST(postfix310_auto_mode_resumed_keeps_the_native_hosts)
{
    size_t n = 0;

    /* auto: a host's classic sessions stop counting after its first
     * TLSRPT: line; a resumed parser must know that without seeing it */
    EXPECT_EQ(check_cuts(C310, TRPT_FORMAT_AUTO, TRPT_TLSRPT_AUTO, 0, 200, &n),
              0);
    EXPECT(n > 20);
}

TEST(postfix37_raw_sender_log_resumed_at_random_lines_gives_same_records)
{
    size_t n = 0;

    /* DANE (TLSA lines kept per process), loglevels 0-2, multi-MX */
    EXPECT_EQ(check_cuts(C37 "raw/postfix-sender.maillog", TRPT_FORMAT_AUTO,
                         TRPT_TLSRPT_AUTO, 0, 150, &n),
              0);
    EXPECT(n > 20);
}

TEST(exim_mainlog_resumed_at_every_line_gives_same_records)
{
    size_t n = 0;

    /* multi-recipient sessions and remembered host attempts */
    EXPECT_EQ(check_cuts(C37 "raw/exim-mainlog", TRPT_FORMAT_EXIM,
                         TRPT_TLSRPT_AUTO, 1, 0, &n),
              0);
    EXPECT(n > 5);
}

TEST(combined_postfix_and_exim_log_resumed_at_random_lines_gives_same_records)
{
    size_t n = 0;

    EXPECT_EQ(check_cuts(C37 "combined-sending-host.log", TRPT_FORMAT_AUTO,
                         TRPT_TLSRPT_AUTO, 0, 150, &n),
              0);
    EXPECT(n > 20);
}

/* A replay that started later than the oldest open line would lose the
 * sessions open at the cut: the test above is not vacuous. */
TEST(resuming_after_the_last_line_instead_loses_open_sessions)
{
    trpt_parser_config cfg = test_cfg(TRPT_FORMAT_AUTO, TRPT_TLSRPT_CLASSIC);
    log_lines lg;
    collected all = {0};
    size_t lost_cuts = 0;

    ASSERT(log_load(shared_path(C310), &lg) == 0);
    ASSERT(uninterrupted(&lg, &cfg, &all) == 0);
    for (size_t cut = 0; cut + 1 < lg.n; cut++) {
        collected part = {0};
        trpt_parser *p = NULL;
        uint64_t restart;

        ASSERT(trpt_parser_new(&p, &cfg, collect, &part) == 0);
        feed_range(p, &lg, 0, cut + 1);
        int open = trpt_parser_oldest_open(p, &restart);
        trpt_parser_free(p);
        if (open) {
            EXPECT(restart <= lg.off[cut]);
            /* the naive resume: the next line, with a fresh parser */
            ASSERT(trpt_parser_new(&p, &cfg, collect, &part) == 0);
            feed_range(p, &lg, cut + 1, lg.n);
            trpt_parser_flush(p, lg.end);
            trpt_parser_free(p);
            if (part.n < all.n)
                lost_cuts++;
        }
        collected_free(&part);
    }
    EXPECT(lost_cuts > 10);
    collected_free(&all);
    log_free(&lg);
}

TEST(oldest_open_is_none_before_any_line_and_after_a_delivery)
{
    trpt_parser_config cfg = test_cfg(TRPT_FORMAT_POSTFIX, TRPT_TLSRPT_AUTO);
    collected c = {0};
    trpt_parser *p = NULL;
    uint64_t off = 77;
    const char *tls = "Nov 28 11:56:30 h postfix/smtp[9]: Verified TLS "
                      "connection established to mx.a.test[192.0.2.1]:25: "
                      "TLSv1.3";
    const char *other = "Nov 28 11:56:30 h postfix/smtp[8]: Untrusted TLS "
                        "connection established to mx.b.test[192.0.2.2]:25: "
                        "TLSv1.3";
    const char *dlv = "Nov 28 11:56:31 h postfix/smtp[9]: 3CDEBA7C427: "
                      "to=<x@a.test>, relay=mx.a.test[192.0.2.1]:25, "
                      "status=sent (250 ok)";

    ASSERT(trpt_parser_new(&p, &cfg, collect, &c) == 0);
    EXPECT_EQ(trpt_parser_oldest_open(p, &off), 0);
    EXPECT_EQ(off, 77); /* untouched */
    trpt_parser_feed(p, tls, strlen(tls), 100);
    trpt_parser_feed(p, other, strlen(other), 200);
    EXPECT_EQ(trpt_parser_oldest_open(p, &off), 1);
    EXPECT_EQ(off, 100);
    trpt_parser_feed(p, dlv, strlen(dlv), 300);
    EXPECT_EQ(c.n, 1);
    EXPECT_EQ(trpt_parser_oldest_open(p, &off), 1);
    EXPECT_EQ(off, 200); /* pid 8's session is still open */
    trpt_parser_flush(p, 400);
    EXPECT_EQ(trpt_parser_oldest_open(p, &off), 0);
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(native_hosts_refuse_newlines_and_overlong_names_and_are_listed_once)
{
    trpt_parser_config cfg = test_cfg(TRPT_FORMAT_POSTFIX, TRPT_TLSRPT_AUTO);
    collected c = {0};
    trpt_parser *p = NULL;
    char longname[300];

    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    ASSERT(trpt_parser_new(&p, &cfg, collect, &c) == 0);
    EXPECT(trpt_parser_native_host(p, 0) == NULL);
    EXPECT_EQ(trpt_parser_add_native_host(p, "a\nb"), -EINVAL);
    EXPECT_EQ(trpt_parser_add_native_host(p, longname), -EINVAL);
    EXPECT_EQ(trpt_parser_add_native_host(p, NULL), -EINVAL);
    EXPECT_EQ(trpt_parser_add_native_host(p, "sender"), 0);
    EXPECT_EQ(trpt_parser_add_native_host(p, "sender"), 0);
    EXPECT_STREQ(trpt_parser_native_host(p, 0), "sender");
    EXPECT(trpt_parser_native_host(p, 1) == NULL);
    trpt_parser_free(p);
    collected_free(&c);
}

/* A restored native host drops that host's classic sessions from the
 * first line on, as the uninterrupted parser would after its TLSRPT:
 * line. */
TEST(restored_native_host_drops_classic_sessions_of_that_host)
{
    trpt_parser_config cfg = test_cfg(TRPT_FORMAT_POSTFIX, TRPT_TLSRPT_AUTO);
    collected c = {0};
    trpt_parser *p = NULL;
    const char *tls = "Nov 28 11:56:30 h postfix/smtp[9]: Verified TLS "
                      "connection established to mx.a.test[192.0.2.1]:25: "
                      "TLSv1.3";
    const char *dlv = "Nov 28 11:56:31 h postfix/smtp[9]: 3CDEBA7C427: "
                      "to=<x@a.test>, relay=mx.a.test[192.0.2.1]:25, "
                      "status=sent (250 ok)";

    ASSERT(trpt_parser_new(&p, &cfg, collect, &c) == 0);
    EXPECT_EQ(trpt_parser_add_native_host(p, "h"), 0);
    trpt_parser_feed(p, tls, strlen(tls), 0);
    trpt_parser_feed(p, dlv, strlen(dlv), 100);
    trpt_parser_flush(p, 200);
    EXPECT_EQ(c.n, 0);
    trpt_parser_free(p);
    collected_free(&c);
}
