/* test_state.c - the aggregator's durable state and run loop (state.h):
 * exactly-once counting across passes, restarts and kill -9, report timing,
 * late records, spool cleanup, and refusal of bad state files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <zlib.h>

#include "harness.h"

#include "agg.h"
#include "config.h"
#include "record.h"
#include "spool.h"
#include "state.h"
#include "timeutil.h"

#define US_PER_DAY (86400 * INT64_C(1000000))

static const char *const domains[] = {"example.com", "example.net",
                                      "example.org", "mail.test"};

/* ---- fixtures ------------------------------------------------------------ */

static char *path_join(const char *a, const char *b)
{
    char *p;

    if (asprintf(&p, "%s/%s", a, b) < 0)
        abort();
    return p;
}

static void set_str(char **field, const char *v)
{
    free(*field);
    *field = v ? strdup(v) : NULL;
}

/* A config whose spool, state and outbox live under base. */
static trpt_config *make_cfg(const char *base)
{
    trpt_config *c;
    char *p;

    if (trpt_config_defaults(&c) < 0)
        abort();
    mkdir(base, 0750);
    p = path_join(base, "spool");
    mkdir(p, 0750);
    set_str(&c->spool_directory, p);
    free(p);
    p = path_join(base, "state");
    set_str(&c->state_directory, p);
    free(p);
    p = path_join(base, "outbox");
    set_str(&c->outbox_directory, p);
    free(p);
    set_str(&c->organization_name, "Example Org");
    set_str(&c->contact_info, "tlsrpt-admin.example.org");
    set_str(&c->submitter_domain, "example.org");
    return c;
}

/* Record number i of a source: its day, domain and result follow from i,
 * so two spools filled with the same (source, range) hold the same data. */
static void make_record(trpt_record *r, const char *source, unsigned i,
                        int64_t first_day, unsigned n_days)
{
    char id[128];

    trpt_record_init(r);
    r->version = TRPT_RECORD_VERSION;
    r->time_us = (first_day + (int64_t)(i % n_days)) * US_PER_DAY +
                 (int64_t)(i % 86400) * 1000000;
    trpt_event_id_format(id, sizeof id, source, (uint64_t)i * 100 + 7, 0);
    trpt_record_set(&r->event_id, id);
    trpt_record_set(&r->reporting_host, "mx1.example.org");
    trpt_record_set(&r->mta, "postfix");
    trpt_record_set(&r->policy_domain, domains[i % 4]);
    trpt_record_set(&r->receiving_mx_hostname, "mx.example.com");
    trpt_record_set(&r->receiving_ip, "192.0.2.25");
    if (i % 5 == 3) {
        r->result = TRPT_RESULT_CERTIFICATE_EXPIRED;
        trpt_record_set(&r->failure_reason_code, "certificate-expired");
    }
}

static trpt_spool_writer *open_writer(const trpt_config *c)
{
    trpt_spool_writer_config wc = {TRPT_FSYNC_NEVER, 64u << 20};
    trpt_spool_writer *w = NULL;

    if (trpt_spool_writer_open(&w, c->spool_directory, &wc) < 0)
        abort();
    return w;
}

static void append_records(trpt_spool_writer *w, const char *source,
                           unsigned from, unsigned to, int64_t first_day,
                           unsigned n_days)
{
    trpt_buf b;

    trpt_buf_init(&b);
    for (unsigned i = from; i < to; i++) {
        trpt_record r;

        make_record(&r, source, i, first_day, n_days);
        trpt_buf_reset(&b);
        if (trpt_record_to_json(&r, &b) < 0 ||
            trpt_spool_writer_append(w, b.data, b.len) < 0)
            abort();
        trpt_record_clear(&r);
        if (i % 16 == 15 && trpt_spool_writer_commit(w) < 0)
            abort();
    }
    if (trpt_spool_writer_commit(w) < 0)
        abort();
    trpt_buf_free(&b);
}

/* One writer, closed afterwards (its segment becomes finished). */
static void spool_records(const trpt_config *c, const char *source,
                          unsigned from, unsigned to, int64_t first_day,
                          unsigned n_days)
{
    trpt_spool_writer *w = open_writer(c);

    append_records(w, source, from, to, first_day, n_days);
    if (trpt_spool_writer_close(w) < 0)
        abort();
}

static void spool_raw(const trpt_config *c, const char *payload, size_t len)
{
    trpt_spool_writer *w = open_writer(c);

    if (trpt_spool_writer_append(w, payload, len) < 0 ||
        trpt_spool_writer_close(w) < 0)
        abort();
}

typedef struct totals {
    uint64_t sessions;
    size_t groups;
} totals;

static int sum_group(void *ctx, const trpt_agg_group *g)
{
    totals *t = ctx;

    t->groups++;
    for (size_t i = 0; i < g->n_policies; i++)
        t->sessions += g->policies[i].success + g->policies[i].failure;
    return 0;
}

/* Sessions held by the aggregator, over every day. */
static totals agg_totals(trpt_agg *a)
{
    totals t = {0, 0};
    int64_t *days = NULL;
    size_t n = 0;

    if (trpt_agg_days(a, &days, &n) < 0)
        abort();
    for (size_t i = 0; i < n; i++)
        trpt_agg_foreach_group(a, days[i], sum_group, &t);
    free(days);
    return t;
}

static size_t count_entries(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0, sl = suffix ? strlen(suffix) : 0;

    if (!d)
        return 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);

        if (e->d_name[0] == '.')
            continue;
        if (!suffix || (l >= sl && strcmp(e->d_name + l - sl, suffix) == 0))
            n++;
    }
    closedir(d);
    return n;
}

static size_t count_segments(const trpt_config *c)
{
    char **names = NULL;
    size_t n = 0;

    if (trpt_spool_list(c->spool_directory, &names) < 0)
        abort();
    while (names[n])
        n++;
    trpt_spool_list_free(names);
    return n;
}

static int read_file(const char *path, trpt_buf *out)
{
    char tmp[4096];
    int fd = open(path, O_RDONLY);
    ssize_t n;

    if (fd < 0)
        return -errno;
    while ((n = read(fd, tmp, sizeof tmp)) > 0)
        trpt_buf_append(out, tmp, (size_t)n);
    close(fd);
    return n < 0 ? -EIO : 0;
}

static void write_file(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);

    if (fd < 0 || write(fd, data, len) != (ssize_t)len)
        abort();
    close(fd);
}

/* Decompressed content of a gzip file. */
static int gunzip_file(const char *path, trpt_buf *out)
{
    gzFile f = gzopen(path, "rb");
    char tmp[4096];
    int n;

    if (!f)
        return -EIO;
    while ((n = gzread(f, tmp, sizeof tmp)) > 0)
        trpt_buf_append(out, tmp, (size_t)n);
    gzclose(f);
    return n < 0 ? -EIO : 0;
}

/* The first file in dir whose name ends in suffix, or NULL. */
static char *find_file(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char *found = NULL;
    size_t sl = strlen(suffix);

    if (!d)
        return NULL;
    while (!found && (e = readdir(d))) {
        size_t l = strlen(e->d_name);

        if (l >= sl && strcmp(e->d_name + l - sl, suffix) == 0)
            found = path_join(dir, e->d_name);
    }
    closedir(d);
    return found;
}

/* Sum of "total-*-session-count" values in an RFC 8460 report. */
static long long report_session_total(const char *json)
{
    const char *keys[] = {"\"total-successful-session-count\"",
                          "\"total-failure-session-count\""};
    long long sum = 0;

    for (int k = 0; k < 2; k++)
        for (const char *p = strstr(json, keys[k]); p;
             p = strstr(p + 1, keys[k])) {
            p = strchr(p, ':');
            if (!p)
                break;
            sum += strtoll(p + 1, NULL, 10);
        }
    return sum;
}

/* Sessions over every report in dir whose name ends in suffix. */
static long long sum_reports(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    long long sum = 0;
    size_t sl = strlen(suffix);

    if (!d)
        return -1;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        char *p;
        trpt_buf b;

        if (l < sl || strcmp(e->d_name + l - sl, suffix) != 0)
            continue;
        p = path_join(dir, e->d_name);
        trpt_buf_init(&b);
        if (gunzip_file(p, &b) == 0 && b.data)
            sum += report_session_total(b.data);
        trpt_buf_free(&b);
        free(p);
    }
    closedir(d);
    return sum;
}

static int64_t today(void)
{
    return trpt_day_of_us(trpt_now_us());
}

/* ---- passes ------------------------------------------------------------- */

TEST(pass_counts_every_spooled_record_exactly_once)
{
    trpt_config *c = make_cfg(test_tmpdir());
    trpt_state *s = NULL;
    int64_t d0 = today() - 5;

    spool_records(c, "file-aaaa", 0, 120, d0, 3);
    spool_records(c, "file-bbbb", 0, 80, d0, 3);
    ASSERT(trpt_state_open(&s, c) == 0);
    EXPECT_EQ(trpt_state_pass(s, 0), 0);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).sessions, 200);
    EXPECT_EQ(trpt_state_stats_get(s)->frames, 200);
    /* a second pass finds nothing new */
    EXPECT_EQ(trpt_state_pass(s, 0), 0);
    EXPECT_EQ(trpt_state_stats_get(s)->frames, 200);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).sessions, 200);
    trpt_state_free(s);
    /* nor does a restarted aggregator: positions and counts were saved */
    ASSERT(trpt_state_open(&s, c) == 0);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).sessions, 200);
    EXPECT_EQ(trpt_state_pass(s, 5), 0);
    EXPECT_EQ(trpt_state_stats_get(s)->frames, 0);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).sessions, 200);
    EXPECT_EQ(trpt_agg_stats_get(trpt_state_agg(s))->duplicates, 0);
    trpt_state_free(s);
    trpt_config_free(c);
}

TEST(pass_picks_up_records_appended_later_to_live_and_new_segments)
{
    trpt_config *c = make_cfg(test_tmpdir());
    trpt_state *s = NULL;
    trpt_spool_writer *live = open_writer(c);
    int64_t d0 = today() - 3;

    append_records(live, "file-live", 0, 30, d0, 2);
    ASSERT(trpt_state_open(&s, c) == 0);
    EXPECT_EQ(trpt_state_pass(s, 4), 0);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).sessions, 30);
    /* the writer is still alive: more frames in the same segment */
    append_records(live, "file-live", 30, 45, d0, 2);
    spool_records(c, "file-new", 0, 10, d0, 2);
    EXPECT_EQ(trpt_state_pass(s, 4), 0);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).sessions, 55);
    /* and after a restart, more again */
    trpt_state_free(s);
    append_records(live, "file-live", 45, 50, d0, 2);
    EXPECT_EQ(trpt_spool_writer_close(live), 0);
    ASSERT(trpt_state_open(&s, c) == 0);
    EXPECT_EQ(trpt_state_pass(s, 4), 0);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).sessions, 60);
    EXPECT_EQ(trpt_state_stats_get(s)->frames, 5);
    trpt_state_free(s);
    trpt_config_free(c);
}

TEST(pass_skips_undecodable_records_without_stopping)
{
    trpt_config *c = make_cfg(test_tmpdir());
    trpt_state *s = NULL;
    char big[70000];
    const char nul[] = "{\"v\":1,\0\"time\":1}";
    const char bad_utf8[] = "{\"v\":1,\"policy-domain\":\"\xc3\x28\"}";
    const char *absurd_version = "{\"v\":99,\"time\":1}";
    const char *absurd_time = "{\"v\":1,\"time\":-99999999999999999999999}";
    int64_t d0 = today() - 3;

    memset(big, '[', sizeof big);
    spool_records(c, "file-one", 0, 10, d0, 1);
    spool_raw(c, "not json at all", strlen("not json at all"));
    spool_raw(c, nul, sizeof nul - 1);
    spool_raw(c, bad_utf8, sizeof bad_utf8 - 1);
    spool_raw(c, big, sizeof big);
    spool_raw(c, absurd_version, strlen(absurd_version));
    spool_raw(c, absurd_time, strlen(absurd_time));
    spool_records(c, "file-two", 0, 10, d0, 1);
    ASSERT(trpt_state_open(&s, c) == 0);
    EXPECT_EQ(trpt_state_pass(s, 3), 0);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).sessions, 20);
    EXPECT_EQ(trpt_agg_stats_get(trpt_state_agg(s))->invalid, 6);
    EXPECT_EQ(trpt_state_stats_get(s)->frames, 26);
    trpt_state_free(s);
    trpt_config_free(c);
}

TEST(torn_and_corrupt_spool_bytes_are_counted_not_fatal)
{
    trpt_config *c = make_cfg(test_tmpdir());
    trpt_state *s = NULL;
    char **names = NULL;
    char *seg;
    trpt_buf b;
    /* sync word "TRF1", a length of 200, a CRC, then only 5 bytes */
    const char torn[] = "1FRT\xc8\0\0\0\x01\x02\x03\x04"
                        "abcde";
    int64_t d0 = today() - 3;

    spool_records(c, "file-torn", 0, 40, d0, 2);
    ASSERT(trpt_spool_list(c->spool_directory, &names) == 0 && names[0]);
    seg = path_join(c->spool_directory, names[0]);
    trpt_spool_list_free(names);
    trpt_buf_init(&b);
    ASSERT(read_file(seg, &b) == 0);
    /* flip one payload byte in the middle: that frame's CRC fails */
    b.data[b.len / 2] ^= 0x20;
    trpt_buf_append(&b, torn, sizeof torn - 1);
    write_file(seg, b.data, b.len);
    ASSERT(trpt_state_open(&s, c) == 0);
    EXPECT_EQ(trpt_state_pass(s, 0), 0);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).sessions, 39);
    EXPECT(trpt_state_stats_get(s)->torn_bytes >= sizeof torn - 1);
    EXPECT(trpt_state_stats_get(s)->corrupt_bytes > 0);
    /* the tail is not re-counted by later passes */
    EXPECT_EQ(trpt_state_pass(s, 0), 0);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).sessions, 39);
    trpt_state_free(s);
    trpt_buf_free(&b);
    free(seg);
    trpt_config_free(c);
}

/* ---- crash safety ------------------------------------------------------- */

#define CRASH_BATCHES 30
#define CRASH_BATCH   70

static void crash_batch(const trpt_config *c, int i, int64_t d0)
{
    char source[32];

    snprintf(source, sizeof source, "file-%04d", i % 7);
    spool_records(c, source, (unsigned)(i / 7) * CRASH_BATCH,
                  (unsigned)(i / 7 + 1) * CRASH_BATCH, d0, 3);
}

/* Batch i: a whole day of its own, day d0 + i. */
static void report_batch(const trpt_config *c, int i, int64_t d0)
{
    char source[32];

    snprintf(source, sizeof source, "file-day-%04d", i);
    spool_records(c, source, 0, CRASH_BATCH, d0 + i, 1);
}

static void report_all_days(const trpt_config *c, trpt_state *s)
{
    int64_t *days = NULL;
    size_t n = 0;

    if (trpt_agg_days(trpt_state_agg(s), &days, &n) < 0)
        abort();
    for (size_t i = 0; i < n; i++)
        EXPECT_EQ(trpt_state_report_day(s, days[i], NULL), 0);
    free(days);
    (void)c;
}

/* A child aggregator run: a pass with a tiny checkpoint interval and, if
 * report, the due reports and spool cleanup. */
static void child_run(const trpt_config *c, int report)
{
    trpt_state *s = NULL;

    if (trpt_state_open(&s, c) < 0 || trpt_state_pass(s, 7) < 0)
        _exit(3);
    if (report && trpt_state_report_due(s, trpt_now_us()) < 0)
        _exit(4);
    trpt_state_free(s);
    _exit(0);
}

/* Run child_run in a child and kill -9 it after a random delay below
 * *max_delay, which adapts so that most kills land inside the run.
 * Returns 1 if the kill landed before the child finished. */
static int killed_run(const trpt_config *c, int report, unsigned *max_delay)
{
    int status;
    unsigned delay = (unsigned)rand() % *max_delay;
    pid_t pid = fork();

    if (pid == 0)
        child_run(c, report);
    if (pid < 0)
        abort();
    usleep(delay);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    if (WIFEXITED(status)) {
        EXPECT_EQ(WEXITSTATUS(status), 0);
        *max_delay = *max_delay / 2 > 100 ? *max_delay / 2 : 100;
    } else {
        *max_delay = *max_delay < 200000 ? *max_delay + *max_delay / 4 : 200000;
    }
    return WIFSIGNALED(status);
}

static void expect_same_outbox(const char *a, const char *b)
{
    struct dirent **list = NULL;
    int n = scandir(a, &list, NULL, alphasort);

    EXPECT(n > 2);
    EXPECT_EQ(count_entries(a, NULL), count_entries(b, NULL));
    for (int i = 0; i < n; i++) {
        if (list[i]->d_name[0] != '.') {
            char *pa = path_join(a, list[i]->d_name);
            char *pb = path_join(b, list[i]->d_name);
            trpt_buf ba, bb;

            trpt_buf_init(&ba);
            trpt_buf_init(&bb);
            EXPECT_EQ(read_file(pa, &ba), 0);
            EXPECT_EQ(read_file(pb, &bb), 0);
            EXPECT(ba.len == bb.len && ba.len > 0 &&
                   memcmp(ba.data, bb.data, ba.len) == 0);
            trpt_buf_free(&ba);
            trpt_buf_free(&bb);
            free(pa);
            free(pb);
        }
        free(list[i]);
    }
    free(list);
}

/* Each frame was folded exactly once: the saved counts and offsets agreed
 * at every checkpoint (the aggregator's duplicate check, a second line of
 * defence, would otherwise hide re-read frames from the totals). */
static void expect_read_once(trpt_state *s)
{
    const trpt_agg_stats *st = trpt_agg_stats_get(trpt_state_agg(s));

    EXPECT_EQ(st->records, CRASH_BATCHES * CRASH_BATCH);
    EXPECT_EQ(st->duplicates, 0);
}

static unsigned test_seed(void)
{
    const char *e = getenv("TRPT_SEED");
    unsigned seed = e ? (unsigned)strtoul(e, NULL, 10) : (unsigned)time(NULL);

    srand(seed);
    return seed;
}

TEST(kill_9_during_passes_neither_loses_nor_double_counts)
{
    char *base_ref = path_join(test_tmpdir(), "ref");
    char *base_crash = path_join(test_tmpdir(), "crash");
    trpt_config *ref = make_cfg(base_ref);
    trpt_config *cr = make_cfg(base_crash);
    trpt_state *s = NULL;
    int64_t d0 = today() - 6;
    unsigned seed = test_seed(), max_delay = 50000;
    int killed = 0;

    /* reference: the same records, one clean pass */
    for (int i = 0; i < CRASH_BATCHES; i++)
        crash_batch(ref, i, d0);
    ASSERT(trpt_state_open(&s, ref) == 0);
    EXPECT_EQ(trpt_state_pass(s, 0), 0);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).sessions,
              CRASH_BATCHES * CRASH_BATCH);
    report_all_days(ref, s);
    trpt_state_free(s);

    /* crash run: new records arrive, aggregators get killed mid-pass */
    for (int i = 0; i < CRASH_BATCHES; i++) {
        crash_batch(cr, i, d0);
        killed += killed_run(cr, 0, &max_delay);
    }
    ASSERT(trpt_state_open(&s, cr) == 0);
    EXPECT_EQ(trpt_state_pass(s, 7), 0);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).sessions,
              CRASH_BATCHES * CRASH_BATCH);
    expect_read_once(s);
    report_all_days(cr, s);
    trpt_state_free(s);
    fprintf(stderr, "  seed %u: %d of %d aggregators killed mid-run\n", seed,
            killed, CRASH_BATCHES);
    EXPECT(killed > 0);
    expect_same_outbox(ref->outbox_directory, cr->outbox_directory);
    trpt_config_free(ref);
    trpt_config_free(cr);
    free(base_ref);
    free(base_crash);
}

TEST(kill_9_during_reporting_rewrites_the_same_reports)
{
    char *base_ref = path_join(test_tmpdir(), "ref");
    char *base_crash = path_join(test_tmpdir(), "crash");
    trpt_config *ref = make_cfg(base_ref);
    trpt_config *cr = make_cfg(base_crash);
    trpt_state *s = NULL;
    int64_t d0 = today() - CRASH_BATCHES - 2;
    unsigned seed = test_seed(), max_delay = 50000;
    int killed = 0;

    for (int i = 0; i < CRASH_BATCHES; i++)
        report_batch(ref, i, d0);
    ASSERT(trpt_state_open(&s, ref) == 0);
    EXPECT_EQ(trpt_state_pass(s, 0), 0);
    EXPECT_EQ(trpt_state_report_due(s, trpt_now_us()), 0);
    trpt_state_free(s);
    EXPECT_EQ(count_segments(ref), 0);

    /* each batch is one more day due: every run passes and reports */
    for (int i = 0; i < CRASH_BATCHES; i++) {
        report_batch(cr, i, d0);
        killed += killed_run(cr, 1, &max_delay);
    }
    ASSERT(trpt_state_open(&s, cr) == 0);
    EXPECT_EQ(trpt_state_pass(s, 7), 0);
    EXPECT_EQ(trpt_state_report_due(s, trpt_now_us()), 0);
    expect_read_once(s);
    /* nothing was reported twice: no supplementary reports, no leftovers */
    EXPECT_EQ(trpt_state_stats_get(s)->late_records, 0);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).groups, 0);
    trpt_state_free(s);
    EXPECT_EQ(count_segments(cr), 0);
    fprintf(stderr, "  seed %u: %d of %d aggregators killed mid-run\n", seed,
            killed, CRASH_BATCHES);
    EXPECT(killed > 0);
    EXPECT_EQ(count_entries(cr->outbox_directory, "_2.json.gz"), 0);
    EXPECT_EQ(sum_reports(cr->outbox_directory, ".json.gz"),
              CRASH_BATCHES * CRASH_BATCH);
    expect_same_outbox(ref->outbox_directory, cr->outbox_directory);
    trpt_config_free(ref);
    trpt_config_free(cr);
    free(base_ref);
    free(base_crash);
}

/* ---- reports ------------------------------------------------------------ */

TEST(report_due_waits_for_report_delay_after_the_day_ends)
{
    trpt_config *c = make_cfg(test_tmpdir());
    trpt_state *s = NULL;
    int64_t d0 = today() - 10;
    int64_t day_end = (d0 + 1) * US_PER_DAY;

    c->report_delay = 7200;
    spool_records(c, "file-delay", 0, 40, d0, 1);
    ASSERT(trpt_state_open(&s, c) == 0);
    EXPECT_EQ(trpt_state_pass(s, 0), 0);
    EXPECT_EQ(trpt_state_report_due(s, day_end + 7200 * INT64_C(1000000) - 1),
              0);
    EXPECT_EQ(count_entries(c->outbox_directory, ".json.gz"), 0);
    EXPECT_EQ(trpt_state_stats_get(s)->reports_written, 0);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).sessions, 40);
    EXPECT_EQ(count_segments(c), 1);
    EXPECT_EQ(trpt_state_report_due(s, day_end + 7200 * INT64_C(1000000)), 0);
    /* one report per policy domain; the day is gone, so is the segment */
    EXPECT_EQ(count_entries(c->outbox_directory, ".json.gz"), 4);
    EXPECT_EQ(trpt_state_stats_get(s)->reports_written, 4);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).groups, 0);
    EXPECT_EQ(count_segments(c), 0);
    EXPECT_EQ(trpt_state_stats_get(s)->segments_removed, 1);
    trpt_state_free(s);
    trpt_config_free(c);
}

TEST(report_due_keeps_segments_of_live_writers_and_unreported_days)
{
    trpt_config *c = make_cfg(test_tmpdir());
    trpt_state *s = NULL;
    trpt_spool_writer *live = open_writer(c);
    int64_t d0 = today() - 10;

    append_records(live, "file-live", 0, 8, d0, 1);
    spool_records(c, "file-today", 0, 8, today(), 1);
    spool_records(c, "file-old", 0, 8, d0, 1);
    ASSERT(trpt_state_open(&s, c) == 0);
    EXPECT_EQ(trpt_state_pass(s, 0), 0);
    EXPECT_EQ(trpt_state_report_due(s, trpt_now_us()), 0);
    /* day d0 reported: only the closed segment of d0 may go */
    EXPECT_EQ(count_segments(c), 2);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).sessions, 8);
    EXPECT_EQ(trpt_spool_writer_close(live), 0);
    EXPECT_EQ(trpt_state_pass(s, 0), 0);
    EXPECT_EQ(trpt_state_report_due(s, trpt_now_us()), 0);
    EXPECT_EQ(count_segments(c), 1);
    trpt_state_free(s);
    trpt_config_free(c);
}

TEST(segments_stay_when_saving_the_reported_state_fails)
{
    trpt_config *c = make_cfg(test_tmpdir());
    trpt_state *s = NULL;
    char *tmp;
    int64_t d0 = today() - 10;

    spool_records(c, "file-save", 0, 20, d0, 1);
    ASSERT(trpt_state_open(&s, c) == 0);
    EXPECT_EQ(trpt_state_pass(s, 0), 0);
    /* a directory where the temporary state file goes: save fails */
    tmp = path_join(c->state_directory, "aggregate.state.tmp");
    ASSERT(mkdir(tmp, 0750) == 0);
    EXPECT(trpt_state_report_due(s, trpt_now_us()) < 0);
    EXPECT_EQ(count_segments(c), 1);
    EXPECT_EQ(count_entries(c->outbox_directory, ".json.gz"), 4);
    trpt_state_free(s);
    rmdir(tmp);
    /* the saved state still holds the day unreported: the reports are
     * written again, same names, same bytes, and then the spool goes */
    ASSERT(trpt_state_open(&s, c) == 0);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).sessions, 20);
    EXPECT_EQ(trpt_state_report_due(s, trpt_now_us()), 0);
    EXPECT_EQ(count_entries(c->outbox_directory, ".json.gz"), 4);
    EXPECT_EQ(count_segments(c), 0);
    trpt_state_free(s);
    free(tmp);
    trpt_config_free(c);
}

TEST(late_records_for_a_reported_day_make_a_seq_2_report_of_only_them)
{
    trpt_config *c = make_cfg(test_tmpdir());
    trpt_state *s = NULL;
    trpt_buf json;
    char *late;
    int64_t d0 = today() - 10;

    /* records 0, 4, 8, ... are all for domains[0] */
    spool_records(c, "file-first", 0, 40, d0, 1);
    ASSERT(trpt_state_open(&s, c) == 0);
    EXPECT_EQ(trpt_state_pass(s, 0), 0);
    EXPECT_EQ(trpt_state_report_due(s, trpt_now_us()), 0);
    EXPECT_EQ(count_entries(c->outbox_directory, ".json.gz"), 4);
    trpt_state_free(s);
    /* nine late sessions, over all four domains, arrive after a restart */
    spool_records(c, "file-late", 100, 109, d0, 1);
    ASSERT(trpt_state_open(&s, c) == 0);
    EXPECT_EQ(trpt_state_pass(s, 0), 0);
    EXPECT_EQ(trpt_state_stats_get(s)->late_records, 9);
    EXPECT_EQ(trpt_state_report_due(s, trpt_now_us()), 0);
    EXPECT_EQ(count_entries(c->outbox_directory, ".json.gz"), 8);
    late = find_file(c->outbox_directory, "_2.json.gz");
    ASSERT(late);
    trpt_buf_init(&json);
    EXPECT_EQ(gunzip_file(late, &json), 0);
    EXPECT(json.data && strstr(json.data, "_2@example.org"));
    /* the supplementary reports carry only the 9 late sessions */
    EXPECT_EQ(count_entries(c->outbox_directory, "_2.json.gz"), 4);
    EXPECT_EQ(sum_reports(c->outbox_directory, "_2.json.gz"), 9);
    EXPECT_EQ(sum_reports(c->outbox_directory, ".json.gz"), 49);
    EXPECT_EQ(count_entries(c->outbox_directory, "_3.json.gz"), 0);
    /* and a third wave makes seq 3, for example.com only */
    spool_records(c, "file-later", 0, 1, d0, 1);
    EXPECT_EQ(trpt_state_pass(s, 0), 0);
    EXPECT_EQ(trpt_state_stats_get(s)->late_records, 10);
    EXPECT_EQ(trpt_state_report_due(s, trpt_now_us()), 0);
    EXPECT_EQ(count_entries(c->outbox_directory, "_3.json.gz"), 1);
    EXPECT_EQ(sum_reports(c->outbox_directory, "_3.json.gz"), 1);
    trpt_buf_free(&json);
    free(late);
    trpt_state_free(s);
    trpt_config_free(c);
}

TEST(records_for_days_reported_beyond_the_retention_window_are_dropped)
{
    trpt_config *c = make_cfg(test_tmpdir());
    trpt_state *s = NULL;
    int64_t old_day = today() - 60, recent = today() - 5;

    spool_records(c, "file-old", 0, 4, old_day, 1);
    ASSERT(trpt_state_open(&s, c) == 0);
    EXPECT_EQ(trpt_state_pass(s, 0), 0);
    EXPECT_EQ(trpt_state_report_due(s, trpt_now_us()), 0);
    /* a report 55 days later pushes old_day out of the window */
    spool_records(c, "file-recent", 0, 4, recent, 1);
    EXPECT_EQ(trpt_state_pass(s, 0), 0);
    EXPECT_EQ(trpt_state_report_due(s, trpt_now_us()), 0);
    EXPECT_EQ(count_entries(c->outbox_directory, ".json.gz"), 8);
    trpt_state_free(s);
    /* its sequence number is forgotten: a late record cannot get a
     * correct report-id any more, so it is counted late and dropped,
     * also after a restart */
    spool_records(c, "file-old", 10, 12, old_day, 1);
    spool_records(c, "file-older", 0, 1, old_day - 3, 1);
    ASSERT(trpt_state_open(&s, c) == 0);
    EXPECT_EQ(trpt_state_pass(s, 0), 0);
    EXPECT_EQ(trpt_state_stats_get(s)->late_records, 3);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).sessions, 0);
    EXPECT_EQ(trpt_state_report_due(s, trpt_now_us()), 0);
    EXPECT_EQ(count_entries(c->outbox_directory, ".json.gz"), 8);
    EXPECT_EQ(count_segments(c), 0);
    trpt_state_free(s);
    trpt_config_free(c);
}

TEST(missing_spool_directory_is_an_empty_spool)
{
    trpt_config *c = make_cfg(test_tmpdir());
    trpt_state *s = NULL;

    ASSERT(rmdir(c->spool_directory) == 0);
    ASSERT(trpt_state_open(&s, c) == 0);
    EXPECT_EQ(trpt_state_pass(s, 0), 0);
    EXPECT_EQ(trpt_state_stats_get(s)->frames, 0);
    EXPECT_EQ(trpt_state_report_due(s, trpt_now_us()), 0);
    trpt_state_free(s);
    trpt_config_free(c);
}

TEST(report_day_preview_prints_json_and_changes_nothing)
{
    trpt_config *c = make_cfg(test_tmpdir());
    trpt_state *s = NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    int64_t d0 = today() - 2;

    spool_records(c, "file-prev", 0, 12, d0, 1);
    ASSERT(mem);
    ASSERT(trpt_state_open(&s, c) == 0);
    EXPECT_EQ(trpt_state_pass(s, 0), 0);
    EXPECT_EQ(trpt_state_report_day(s, d0, mem), 0);
    fclose(mem);
    EXPECT(text && strstr(text, "\"policy-domain\""));
    EXPECT(text && strstr(text, "example.net"));
    EXPECT(text && strchr(text, '\n') != strrchr(text, '\n')); /* pretty */
    EXPECT_EQ(count_entries(c->outbox_directory, ".json.gz"), 0);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).sessions, 12);
    /* without preview the day is written and marked, whatever the delay */
    EXPECT_EQ(trpt_state_report_day(s, d0, NULL), 0);
    EXPECT_EQ(count_entries(c->outbox_directory, ".json.gz"), 4);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).sessions, 0);
    EXPECT_EQ(trpt_state_report_day(s, d0, NULL), -ENOENT);
    EXPECT_EQ(trpt_state_report_day(s, d0 - 400, NULL), -ENOENT);
    free(text);
    trpt_state_free(s);
    trpt_config_free(c);
}

/* ---- the state file and its lock ---------------------------------------- */

TEST(second_aggregator_on_the_same_state_gets_ebusy)
{
    trpt_config *c = make_cfg(test_tmpdir());
    trpt_state *a = NULL, *b = NULL;

    ASSERT(trpt_state_open(&a, c) == 0);
    EXPECT_EQ(trpt_state_open(&b, c), -EBUSY);
    EXPECT(b == NULL);
    trpt_state_free(a);
    EXPECT_EQ(trpt_state_open(&b, c), 0);
    trpt_state_free(b);
    trpt_config_free(c);
}

TEST(state_directory_is_created_private)
{
    trpt_config *c = make_cfg(test_tmpdir());
    trpt_state *s = NULL;
    struct stat st;
    char *sp;

    umask(022);
    ASSERT(trpt_state_open(&s, c) == 0);
    ASSERT(stat(c->state_directory, &st) == 0);
    EXPECT_EQ(st.st_mode & 0777, 0750);
    EXPECT_EQ(trpt_state_save(s), 0);
    sp = path_join(c->state_directory, "aggregate.state");
    ASSERT(stat(sp, &st) == 0);
    EXPECT_EQ(st.st_mode & 0777, 0640);
    free(sp);
    trpt_state_free(s);
    trpt_config_free(c);
}

/* Fill a state file with one pass, then hand its bytes to the caller. */
static char *saved_state(trpt_config *c, trpt_buf *bytes)
{
    trpt_state *s = NULL;
    char *sp = path_join(c->state_directory, "aggregate.state");

    spool_records(c, "file-st", 0, 30, today() - 2, 2);
    if (trpt_state_open(&s, c) < 0 || trpt_state_pass(s, 0) < 0)
        abort();
    trpt_state_free(s);
    trpt_buf_init(bytes);
    if (read_file(sp, bytes) < 0)
        abort();
    return sp;
}

static int open_with_state(const trpt_config *c, const char *sp,
                           const char *data, size_t len)
{
    trpt_state *s = NULL;
    int r;

    write_file(sp, data, len);
    r = trpt_state_open(&s, c);
    trpt_state_free(s);
    return r;
}

static void put_le32(char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (char)(v >> (8 * i));
}

static void fix_crc(trpt_buf *b)
{
    put_le32(b->data + b->len - 4,
             (uint32_t)crc32(0, (const Bytef *)b->data, (uInt)b->len - 4));
}

TEST(corrupt_or_truncated_state_file_is_refused_not_reset)
{
    trpt_config *c = make_cfg(test_tmpdir());
    trpt_buf good, bad;
    char *sp = saved_state(c, &good);
    trpt_state *s = NULL;

    ASSERT(good.len > 40);
    trpt_buf_init(&bad);
    /* one flipped bit anywhere */
    for (size_t at = 0; at < good.len; at += good.len / 13 + 1) {
        if (at >= 8 && at < 12)
            continue; /* the version field: see the newer-version test */
        trpt_buf_reset(&bad);
        trpt_buf_append(&bad, good.data, good.len);
        bad.data[at] ^= 0x04;
        EXPECT_EQ(open_with_state(c, sp, bad.data, bad.len), -EBADMSG);
    }
    /* truncated, empty, garbage, NUL bytes */
    EXPECT_EQ(open_with_state(c, sp, good.data, good.len - 1), -EBADMSG);
    EXPECT_EQ(open_with_state(c, sp, good.data, 10), -EBADMSG);
    EXPECT_EQ(open_with_state(c, sp, "", 0), -EBADMSG);
    EXPECT_EQ(
        open_with_state(c, sp, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20),
        -EBADMSG);
    /* the refused file is left in place for the operator */
    EXPECT(access(sp, F_OK) == 0);
    /* the intact file still loads, with its counts */
    write_file(sp, good.data, good.len);
    ASSERT(trpt_state_open(&s, c) == 0);
    EXPECT_EQ(agg_totals(trpt_state_agg(s)).sessions, 30);
    trpt_state_free(s);
    trpt_buf_free(&bad);
    trpt_buf_free(&good);
    free(sp);
    trpt_config_free(c);
}

TEST(state_file_of_a_newer_version_is_refused_with_eproto)
{
    trpt_config *c = make_cfg(test_tmpdir());
    trpt_buf b;
    char *sp = saved_state(c, &b);

    put_le32(b.data + 8, 2);
    fix_crc(&b);
    EXPECT_EQ(open_with_state(c, sp, b.data, b.len), -EPROTO);
    put_le32(b.data + 8, 0xffffffffu);
    fix_crc(&b);
    EXPECT_EQ(open_with_state(c, sp, b.data, b.len), -EPROTO);
    put_le32(b.data + 8, 0);
    fix_crc(&b);
    EXPECT_EQ(open_with_state(c, sp, b.data, b.len), -EBADMSG);
    trpt_buf_free(&b);
    free(sp);
    trpt_config_free(c);
}

TEST(state_file_with_checksummed_but_absurd_content_is_refused)
{
    trpt_config *c = make_cfg(test_tmpdir());
    trpt_buf b;
    char *sp = saved_state(c, &b);
    char *name = memmem(b.data, b.len, "seg-", 4);
    char *segs = memmem(b.data, b.len, "SEGS", 4);

    ASSERT(name && segs);
    /* a segment name that would escape the spool directory */
    memcpy(name, "../", 3);
    fix_crc(&b);
    EXPECT_EQ(open_with_state(c, sp, b.data, b.len), -EBADMSG);
    memcpy(name, "seg", 3);
    /* a section length running past the end of the file */
    memset(segs + 4, 0x7f, 8);
    fix_crc(&b);
    EXPECT_EQ(open_with_state(c, sp, b.data, b.len), -EBADMSG);
    trpt_buf_free(&b);
    free(sp);
    trpt_config_free(c);
}
