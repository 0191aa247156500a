/* test_sink.c - the record sink over the local spool: what a commit makes
 * visible, what a failed commit or a discard leaves behind, host filling,
 * refusal of invalid records, and reopen (SIGHUP). */
#include "harness.h"
#include "sink.h"

#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define T_2026_11_27 1764201600000000LL

static const char *spool_dir(void)
{
    static char path[4200];

    snprintf(path, sizeof path, "%s/spool", test_tmpdir());
    mkdir(path, 0750);
    return path;
}

static void make_record(trpt_record *r, unsigned offset, const char *host)
{
    char id[64];

    trpt_record_init(r);
    r->time_us = T_2026_11_27 + offset;
    snprintf(id, sizeof id, "dg-00112233aabbccdd:%u.0", offset);
    trpt_record_set(&r->event_id, id);
    trpt_record_set(&r->policy_domain, "example.com");
    trpt_record_set(&r->mta, "postfix");
    trpt_record_set(&r->reporting_host, host);
    r->result = TRPT_RESULT_CERTIFICATE_EXPIRED;
    trpt_record_set(&r->receiving_mx_hostname, "mx.example.com");
}

/* Every record readable in dir, decoded, in spool order. */
typedef struct readback {
    trpt_record rec[64];
    size_t n;
    size_t segments;
    int rc;
} readback;

static void readback_dir(readback *rb, const char *dir)
{
    char **names = NULL;

    memset(rb, 0, sizeof *rb);
    if ((rb->rc = trpt_spool_list(dir, &names)) < 0)
        return;
    for (size_t i = 0; names[i]; i++) {
        trpt_spool_reader *r = NULL;
        const char *p;
        size_t len;

        rb->segments++;
        if ((rb->rc = trpt_spool_reader_open(&r, dir, names[i], 0)) < 0)
            break;
        while (rb->n < 64 && trpt_spool_reader_next(r, &p, &len) == 1) {
            trpt_record_init(&rb->rec[rb->n]);
            if (trpt_record_from_json(&rb->rec[rb->n], p, len) == 0) {
                rb->n++;
            } else {
                trpt_record_clear(&rb->rec[rb->n]);
                rb->rc = -EBADMSG;
            }
        }
        trpt_spool_reader_free(r);
    }
    trpt_spool_list_free(names);
}

static void readback_free(readback *rb)
{
    for (size_t i = 0; i < rb->n; i++)
        trpt_record_clear(&rb->rec[i]);
}

static trpt_sink *open_sink(const char *dir, const char *default_host)
{
    trpt_sink_config cfg = {
        .type = TRPT_SINK_SPOOL,
        .spool_directory = dir,
        .fsync = TRPT_FSYNC_NEVER,
        .default_host = default_host,
    };
    trpt_sink *s = NULL;

    return trpt_sink_open(&s, &cfg) == 0 ? s : NULL;
}

TEST(open_refuses_missing_directory_and_unknown_type)
{
    trpt_sink_config cfg = {.type = TRPT_SINK_SPOOL};
    trpt_sink *s = (trpt_sink *)1;

    EXPECT_EQ(trpt_sink_open(&s, &cfg), -EINVAL);
    EXPECT(s == NULL);
    cfg.spool_directory = "";
    EXPECT_EQ(trpt_sink_open(&s, &cfg), -EINVAL);
    cfg.spool_directory = spool_dir();
    cfg.type = (trpt_sink_type)7;
    EXPECT_EQ(trpt_sink_open(&s, &cfg), -EINVAL);
    cfg.type = TRPT_SINK_SPOOL;
    cfg.spool_directory = "/nonexistent/opentlsrpt/spool";
    EXPECT(trpt_sink_open(&s, &cfg) < 0);
    EXPECT_EQ(trpt_sink_open(NULL, &cfg), -EINVAL);
    EXPECT_EQ(trpt_sink_close(NULL), 0);
}

TEST(only_committed_records_are_visible_and_decode_back_equal)
{
    const char *dir = spool_dir();
    trpt_sink *s = open_sink(dir, NULL);
    trpt_record r;
    readback rb;

    ASSERT(s != NULL);
    for (unsigned i = 1; i <= 3; i++) {
        make_record(&r, i, "mail1.sender.example");
        EXPECT_EQ(trpt_sink_append(s, &r), 0);
        trpt_record_clear(&r);
    }
    EXPECT_EQ(trpt_sink_pending(s), 3);
    readback_dir(&rb, dir);
    EXPECT_EQ(rb.n, 0); /* appended is not written */
    readback_free(&rb);
    EXPECT_EQ(trpt_sink_commit(s), 0);
    EXPECT_EQ(trpt_sink_pending(s), 0);
    readback_dir(&rb, dir);
    EXPECT_EQ(rb.rc, 0);
    ASSERT(rb.n == 3);
    for (unsigned i = 0; i < 3; i++) {
        char id[64];

        snprintf(id, sizeof id, "dg-00112233aabbccdd:%u.0", i + 1);
        EXPECT_STREQ(rb.rec[i].event_id, id);
        EXPECT_STREQ(rb.rec[i].reporting_host, "mail1.sender.example");
        EXPECT_EQ(rb.rec[i].result, TRPT_RESULT_CERTIFICATE_EXPIRED);
    }
    readback_free(&rb);
    EXPECT_EQ(trpt_sink_stats_get(s)->committed, 3);
    EXPECT_EQ(trpt_sink_stats_get(s)->commits, 1);
    EXPECT(trpt_sink_stats_get(s)->bytes > 0);
    EXPECT_EQ(trpt_sink_commit(s), 0); /* nothing pending: no-op */
    EXPECT_EQ(trpt_sink_stats_get(s)->commits, 1);
    EXPECT_EQ(trpt_sink_close(s), 0);
}

TEST(last_json_is_what_the_spool_gets_for_the_last_record)
{
    const char *dir = spool_dir();
    trpt_sink *s = open_sink(dir, "collector.example");
    trpt_record r, back;
    const char *json;
    size_t len = 0;

    ASSERT(s != NULL);
    make_record(&r, 7, NULL);
    EXPECT_EQ(trpt_sink_append(s, &r), 0);
    json = trpt_sink_last_json(s, &len);
    ASSERT(json != NULL && len > 0);
    trpt_record_init(&back);
    ASSERT(trpt_record_from_json(&back, json, len) == 0);
    EXPECT_STREQ(back.event_id, "dg-00112233aabbccdd:7.0");
    EXPECT_STREQ(back.reporting_host, "collector.example"); /* as written */
    EXPECT_EQ(trpt_sink_pending_bytes(s), len);
    EXPECT(trpt_sink_last_json(NULL, &len) == NULL);
    trpt_record_clear(&back);
    trpt_record_clear(&r);
    EXPECT_EQ(trpt_sink_close(s), 0);
}

TEST(default_host_fills_only_records_without_a_host)
{
    const char *dir = spool_dir();
    trpt_sink *s = open_sink(dir, "collector.example");
    trpt_record r;
    readback rb;

    ASSERT(s != NULL);
    make_record(&r, 1, NULL);
    EXPECT_EQ(trpt_sink_emit(s, &r), 0);
    EXPECT(r.reporting_host == NULL); /* the caller's record is untouched */
    trpt_record_clear(&r);
    make_record(&r, 2, "own.example");
    EXPECT_EQ(trpt_sink_append(s, &r), 0);
    trpt_record_clear(&r);
    EXPECT_EQ(trpt_sink_close(s), 0); /* close commits */
    readback_dir(&rb, dir);
    ASSERT(rb.n == 2);
    EXPECT_STREQ(rb.rec[0].reporting_host, "collector.example");
    EXPECT_STREQ(rb.rec[1].reporting_host, "own.example");
    readback_free(&rb);
}

TEST(invalid_records_are_refused_counted_and_leave_the_batch_intact)
{
    const char *dir = spool_dir();
    trpt_sink *s = open_sink(dir, NULL);
    trpt_record r;
    readback rb;

    ASSERT(s != NULL);
    make_record(&r, 1, "h.example");
    EXPECT_EQ(trpt_sink_append(s, &r), 0);
    trpt_record_clear(&r);
    /* An e-mail address where none may be (privacy rule). */
    make_record(&r, 2, "h.example");
    trpt_record_set(&r.receiving_mx_hostname, "postmaster@example.com");
    EXPECT_EQ(trpt_sink_append(s, &r), -EINVAL);
    trpt_record_clear(&r);
    /* No event id. */
    make_record(&r, 3, "h.example");
    trpt_record_set(&r.event_id, NULL);
    EXPECT_EQ(trpt_sink_append(s, &r), -EINVAL);
    trpt_record_clear(&r);
    EXPECT_EQ(trpt_sink_append(s, NULL), -EINVAL);
    EXPECT_EQ(trpt_sink_stats_get(s)->invalid, 2);
    EXPECT_EQ(trpt_sink_pending(s), 1);
    EXPECT_EQ(trpt_sink_close(s), 0);
    readback_dir(&rb, dir);
    ASSERT(rb.n == 1);
    EXPECT_STREQ(rb.rec[0].event_id, "dg-00112233aabbccdd:1.0");
    readback_free(&rb);
}

TEST(discard_drops_the_pending_batch_only)
{
    const char *dir = spool_dir();
    trpt_sink *s = open_sink(dir, NULL);
    trpt_record r;
    readback rb;

    ASSERT(s != NULL);
    make_record(&r, 1, "h.example");
    EXPECT_EQ(trpt_sink_append(s, &r), 0);
    EXPECT_EQ(trpt_sink_commit(s), 0);
    trpt_record_clear(&r);
    make_record(&r, 2, "h.example");
    EXPECT_EQ(trpt_sink_append(s, &r), 0);
    trpt_record_clear(&r);
    trpt_sink_discard(s);
    EXPECT_EQ(trpt_sink_pending(s), 0);
    EXPECT_EQ(trpt_sink_stats_get(s)->discarded, 1);
    make_record(&r, 3, "h.example");
    EXPECT_EQ(trpt_sink_append(s, &r), 0);
    trpt_record_clear(&r);
    EXPECT_EQ(trpt_sink_close(s), 0);
    readback_dir(&rb, dir);
    ASSERT(rb.n == 2);
    EXPECT_STREQ(rb.rec[0].event_id, "dg-00112233aabbccdd:1.0");
    EXPECT_STREQ(rb.rec[1].event_id, "dg-00112233aabbccdd:3.0");
    readback_free(&rb);
}

/* In a child: the file size limit makes the second commit fail partway. */
static int failing_commit_child(const char *dir)
{
    trpt_sink *s = open_sink(dir, NULL);
    struct rlimit lim;
    trpt_record r;
    struct stat st;
    char **names = NULL;
    char path[4400];
    int rc;

    signal(SIGXFSZ, SIG_IGN);
    if (!s)
        return 10;
    make_record(&r, 1, "h.example");
    if (trpt_sink_append(s, &r) != 0 || trpt_sink_commit(s) != 0)
        return 11;
    trpt_record_clear(&r);
    if (trpt_spool_list(dir, &names) != 0 || !names[0])
        return 12;
    snprintf(path, sizeof path, "%s/%s", dir, names[0]);
    trpt_spool_list_free(names);
    if (stat(path, &st) != 0)
        return 13;
    /* Only the soft limit: raising it again needs no privilege. */
    if (getrlimit(RLIMIT_FSIZE, &lim) != 0)
        return 14;
    lim.rlim_cur = (rlim_t)st.st_size + 100;
    if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
        return 14;
    for (unsigned i = 2; i < 10; i++) {
        make_record(&r, i, "h.example");
        if (trpt_sink_append(s, &r) != 0)
            return 15;
        trpt_record_clear(&r);
    }
    if (trpt_sink_commit(s) != -EFBIG)
        return 16;
    if (trpt_sink_stats_get(s)->failures != 1 ||
        trpt_sink_stats_get(s)->discarded != 8 || trpt_sink_pending(s) != 0)
        return 17;
    /* Still usable once the failure is gone. */
    lim.rlim_cur = RLIM_INFINITY;
    if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
        return 21;
    make_record(&r, 10, "h.example");
    if (trpt_sink_append(s, &r) != 0)
        return 18;
    if ((rc = trpt_sink_commit(s)) != 0) {
        fprintf(stderr, "commit after recovery: %s\n", strerror(-rc));
        return 19;
    }
    trpt_record_clear(&r);
    return trpt_sink_close(s) == 0 ? 0 : 20;
}

TEST(a_failed_commit_leaves_nothing_of_its_batch_and_the_sink_recovers)
{
    const char *dir = spool_dir();
    int status = 0;
    pid_t pid = fork();
    readback rb;

    ASSERT(pid >= 0);
    if (pid == 0)
        _exit(failing_commit_child(dir));
    ASSERT(waitpid(pid, &status, 0) == pid);
    EXPECT(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    readback_dir(&rb, dir);
    EXPECT_EQ(rb.rc, 0);
    ASSERT(rb.n == 2);
    EXPECT_STREQ(rb.rec[0].event_id, "dg-00112233aabbccdd:1.0");
    EXPECT_STREQ(rb.rec[1].event_id, "dg-00112233aabbccdd:10.0");
    readback_free(&rb);
}

TEST(reopen_moves_to_a_new_segment_at_the_next_commit)
{
    const char *dir = spool_dir();
    trpt_sink *s = open_sink(dir, NULL);
    trpt_record r;
    readback rb;

    ASSERT(s != NULL);
    EXPECT_EQ(trpt_sink_reopen(s), 0); /* nothing written yet: no-op */
    make_record(&r, 1, "h.example");
    EXPECT_EQ(trpt_sink_append(s, &r), 0);
    trpt_record_clear(&r);
    EXPECT_EQ(trpt_sink_commit(s), 0);
    make_record(&r, 2, "h.example");
    EXPECT_EQ(trpt_sink_append(s, &r), 0);
    trpt_record_clear(&r);
    EXPECT_EQ(trpt_sink_reopen(s), 0); /* pending records are kept */
    EXPECT_EQ(trpt_sink_pending(s), 1);
    EXPECT_EQ(trpt_sink_commit(s), 0);
    EXPECT_EQ(trpt_sink_close(s), 0);
    readback_dir(&rb, dir);
    EXPECT_EQ(rb.segments, 2);
    ASSERT(rb.n == 2);
    EXPECT_STREQ(rb.rec[0].event_id, "dg-00112233aabbccdd:1.0");
    EXPECT_STREQ(rb.rec[1].event_id, "dg-00112233aabbccdd:2.0");
    readback_free(&rb);
}
