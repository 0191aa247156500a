/* unit_omtlsrpt.c - omtlsrpt's parts without rsyslogd: line reframing
 * (frame.c), parameter validation (params.c) and the engine (engine.c):
 * commit, failed commits and rsyslog's retries, ordered batches from
 * several threads, HUP, shutdown. Built and run by test_unit.sh. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "engine.h"
#include "frame.h"
#include "harness.h"
#include "params.h"
#include "record.h"
#include "spool.h"

/* --- frame.c --------------------------------------------------------- */

static const char *framed(const char *in, trpt_buf *b)
{
    static char out[4096];
    const char *p;
    size_t n;

    if (otr_frame_line(in, strlen(in), b, &p, &n) < 0 || n >= sizeof out)
        return "(error)";
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
}

TEST(frame_file_format_line_with_tag_colon_passes_unchanged)
{
    trpt_buf b;
    const char *l = "2026-11-28T11:56:37+00:00 sender postfix/smtp[15407]: "
                    "5DB55A7C088: to=<u@valid.test>";

    trpt_buf_init(&b);
    EXPECT_STREQ(framed(l, &b), l);
    trpt_buf_free(&b);
}

TEST(frame_rfc5424_input_in_file_format_gets_its_tag_colon_back)
{
    trpt_buf b;

    trpt_buf_init(&b);
    EXPECT_STREQ(framed("2026-11-28T11:56:37+00:00 sender postfix/smtp[15407] "
                        "5DB55A7C088: to=<u@valid.test>",
                        &b),
                 "2026-11-28T11:56:37+00:00 sender postfix/smtp[15407]: "
                 "5DB55A7C088: to=<u@valid.test>");
    /* no pid: the tag is the APP-NAME alone */
    EXPECT_STREQ(framed("2026-11-28T11:56:37.5+01:00 h exim x y", &b),
                 "2026-11-28T11:56:37.5+01:00 h exim: x y");
    trpt_buf_free(&b);
}

TEST(frame_exim_mainlog_and_traditional_lines_pass_unchanged)
{
    trpt_buf b;
    const char *exim = "2026-11-28 11:48:30 [10212] 1xXGus-0002ed-1e => a";
    const char *trad = "Nov 28 11:56:37 sender postfix/smtp[1] x";

    trpt_buf_init(&b);
    EXPECT_STREQ(framed(exim, &b), exim);
    EXPECT_STREQ(framed(trad, &b), trad);
    EXPECT_STREQ(framed("", &b), "");
    trpt_buf_free(&b);
}

TEST(frame_rfc5424_line_becomes_file_format)
{
    trpt_buf b;

    trpt_buf_init(&b);
    EXPECT_STREQ(framed("<22>1 2026-11-28T11:56:37+00:00 sender postfix/smtp "
                        "15407 - - 5DB55A7C088: status=sent",
                        &b),
                 "2026-11-28T11:56:37+00:00 sender postfix/smtp[15407]: "
                 "5DB55A7C088: status=sent");
    /* nil PROCID; structured data with an escaped ']' and a quoted ' ' */
    EXPECT_STREQ(framed("<165>1 2026-11-28T11:56:37Z h exim - ID47 "
                        "[a@1 k=\"x\\]y z\"][b@2 q=\"\"] msg text",
                        &b),
                 "2026-11-28T11:56:37Z h exim: msg text");
    /* a BOM before MSG is dropped (RFC 5424 section 6.4) */
    EXPECT_STREQ(
        framed("<13>1 2026-11-28T11:56:37Z h app 7 - - \xef\xbb\xbfm", &b),
        "2026-11-28T11:56:37Z h app[7]: m");
    /* no MSG at all */
    EXPECT_STREQ(framed("<13>1 2026-11-28T11:56:37Z h app 7 - -", &b),
                 "2026-11-28T11:56:37Z h app[7]: ");
    /* a legacy message keeps its own leading space, no second one */
    EXPECT_STREQ(framed("<13>1 2026-11-28T11:56:37Z h app 7 - -  m", &b),
                 "2026-11-28T11:56:37Z h app[7]: m");
    trpt_buf_free(&b);
}

TEST(frame_malformed_rfc5424_lines_pass_unchanged_for_the_parser_to_count)
{
    static const char *const bad[] = {
        "<",
        "<>1 t h a p m - x",
        "<1234>1 t h a p m - x",         /* PRI of four digits */
        "<13>2 t h a p m - x",           /* not version 1 */
        "<13>1 t h a p",                 /* header cut short */
        "<13>1 t h a p m [unterminated", /* structured data never ends */
        "<13>1 t h a p m [x]y",          /* no space after SD */
        "<13>1 t h a p m  - x",          /* empty MSGID field */
        "<13>1 t h a p m *",
    };
    trpt_buf b;

    trpt_buf_init(&b);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT_STREQ(framed(bad[i], &b), bad[i]);
    trpt_buf_free(&b);
}

TEST(frame_handles_nul_bytes_and_long_lines_without_reading_past_the_end)
{
    char line[40000];
    trpt_buf b;
    const char *p;
    size_t n;

    trpt_buf_init(&b);
    memcpy(line, "<13>1 2026-11-28T00:00:00Z h a 1 - - ", 37);
    memset(line + 37, 'x', sizeof line - 37);
    line[40] = '\0'; /* a NUL inside MSG is copied, not a terminator */
    EXPECT_EQ(otr_frame_line(line, sizeof line, &b, &p, &n), 0);
    EXPECT_EQ(n, sizeof line - 37 + strlen("2026-11-28T00:00:00Z h a[1]: "));
    EXPECT(p == b.data);
    /* cut inside the header: unchanged */
    EXPECT_EQ(otr_frame_line(line, 20, &b, &p, &n), 0);
    EXPECT(p == line && n == 20);
    trpt_buf_free(&b);
}

/* --- params.c -------------------------------------------------------- */

TEST(params_words_are_case_insensitive_and_unknown_words_refused)
{
    trpt_mta_format f;
    trpt_tlsrpt_mode m;
    trpt_fsync_policy y;
    trpt_sink_type s;

    EXPECT(otr_parse_format("EXIM", &f) == 0 && f == TRPT_FORMAT_EXIM);
    EXPECT(otr_parse_format("", &f) < 0);
    EXPECT(otr_parse_format("postfix ", &f) < 0);
    EXPECT(otr_parse_tlsrpt_mode("datagrams", &m) == 0 &&
           m == TRPT_TLSRPT_DATAGRAMS);
    EXPECT(otr_parse_tlsrpt_mode("no", &m) == 0 && m == TRPT_TLSRPT_CLASSIC);
    EXPECT(otr_parse_tlsrpt_mode("true", &m) < 0);
    EXPECT(otr_parse_fsync("Never", &y) == 0 && y == TRPT_FSYNC_NEVER);
    EXPECT(otr_parse_fsync("sometimes", &y) < 0);
    EXPECT(otr_parse_sink("spool", &s) == 0 && s == TRPT_SINK_SPOOL);
    EXPECT(otr_parse_sink("kafka", &s) < 0);
}

TEST(params_sender_loses_brackets_and_needs_one_clean_address)
{
    char long_addr[400], *out = NULL;

    EXPECT(otr_parse_sender("<tlsrpt@example.test>", &out) == 0);
    EXPECT_STREQ(out, "tlsrpt@example.test");
    free(out);
    EXPECT(otr_parse_sender("postmaster", &out) == -EINVAL);
    EXPECT(otr_parse_sender("a b@c.test", &out) == -EINVAL);
    EXPECT(otr_parse_sender("<>", &out) == -EINVAL);
    EXPECT(otr_parse_sender("a@b.test\n", &out) == -EINVAL);
    EXPECT(otr_parse_sender("<a@b.test", &out) == -EINVAL);
    memset(long_addr, 'a', sizeof long_addr - 1);
    long_addr[sizeof long_addr - 1] = '\0';
    long_addr[10] = '@';
    EXPECT(otr_parse_sender(long_addr, &out) == -EINVAL);
}

/* Values as nvlstGetParams() hands them over. */
typedef struct fake_vals {
    struct cnfparamvals v[32];
    es_str_t *strs[32];
    struct cnfarray ar;
    es_str_t *arr[4];
} fake_vals;

static int param_index(const char *name)
{
    for (int i = 0; i < otr_params_blk.nParams; i++)
        if (strcasecmp(otr_params_blk.descr[i].name, name) == 0)
            return i;
    return -1;
}

static void set_str(fake_vals *f, const char *name, const char *v, size_t n)
{
    int i = param_index(name);

    if (i < 0)
        return;
    f->strs[i] = es_newStrFromCStr(v, n);
    f->v[i].val.datatype = 'S';
    f->v[i].val.d.estr = f->strs[i];
    f->v[i].bUsed = 1;
}

static void set_num(fake_vals *f, const char *name, long long n)
{
    int i = param_index(name);

    if (i < 0)
        return;
    f->v[i].val.datatype = 'N';
    f->v[i].val.d.n = n;
    f->v[i].bUsed = 1;
}

static void fake_free(fake_vals *f)
{
    for (int i = 0; i < 32; i++)
        if (f->strs[i])
            es_deleteStr(f->strs[i]);
    for (int i = 0; i < f->ar.nmemb; i++)
        es_deleteStr(f->arr[i]);
}

TEST(params_defaults_match_tlsrpt_conf_and_the_file_template)
{
    fake_vals f = {0};
    otr_config c;
    char err[256];

    ASSERT(otr_params_blk.nParams <= 32);
    ASSERT(otr_params_read(f.v, &c, err, sizeof err) == 0);
    EXPECT_STREQ(c.template_name, "RSYSLOG_FileFormat");
    EXPECT_STREQ(c.spool_directory, "/var/spool/opentlsrpt");
    EXPECT_EQ(c.fsync, TRPT_FSYNC_ALWAYS);
    EXPECT_EQ(c.format, TRPT_FORMAT_AUTO);
    EXPECT_EQ(c.max_sessions, 100000);
    EXPECT_EQ(c.session_timeout_s, 3600);
    EXPECT_EQ(c.ordered, 0);
    EXPECT(c.stats_file == NULL && c.exclude_senders == NULL);
    otr_config_clear(&c);
}

TEST(params_bad_values_name_the_parameter)
{
    static const struct {
        const char *name, *value;
    } bad[] = {
        {"mtaFormat", "qmail"},
        {"spoolFsync", "1"},
        {"sink", "kafka"},
        {"postfixTlsrpt", "on"},
        {"spoolDirectory", "rel/dir"},
        {"statsFile", ""},
        {"template", ""},
        {"configFile", "/nonexistent/x.conf"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fake_vals f = {0};
        otr_config c;
        char err[256] = "";

        set_str(&f, bad[i].name, bad[i].value, strlen(bad[i].value));
        EXPECT(otr_params_read(f.v, &c, err, sizeof err) == -EINVAL);
        EXPECT(strstr(err, bad[i].name) != NULL);
        fake_free(&f);
    }
}

TEST(params_numbers_out_of_range_and_nul_bytes_refused)
{
    fake_vals f = {0};
    otr_config c;
    char err[256];

    set_num(&f, "maxSessions", 100000001);
    EXPECT(otr_params_read(f.v, &c, err, sizeof err) == -EINVAL);
    memset(&f, 0, sizeof f);
    set_num(&f, "sessionTimeout", 0);
    EXPECT(otr_params_read(f.v, &c, err, sizeof err) == -EINVAL);
    memset(&f, 0, sizeof f);
    set_num(&f, "spoolMaxSegmentSize", 4096);
    EXPECT(otr_params_read(f.v, &c, err, sizeof err) == -EINVAL);
    memset(&f, 0, sizeof f);
    set_num(&f, "orderTimeout", -1);
    EXPECT(otr_params_read(f.v, &c, err, sizeof err) == -EINVAL);
    memset(&f, 0, sizeof f);
    /* rsyslog strings may hold NUL bytes: "/tmp\0/etc" is refused */
    set_str(&f, "spoolDirectory", "/tmp\0/etc", 9);
    EXPECT(otr_params_read(f.v, &c, err, sizeof err) == -EINVAL);
    fake_free(&f);
}

TEST(params_config_file_then_explicit_parameters_override_it)
{
    char path[4200], spool[4200];
    fake_vals f = {0};
    otr_config c;
    char err[256];
    FILE *fp;

    snprintf(path, sizeof path, "%s/tlsrpt.conf", test_tmpdir());
    snprintf(spool, sizeof spool, "%s/spool-from-file", test_tmpdir());
    ASSERT((fp = fopen(path, "w")) != NULL);
    fprintf(fp,
            "submitter_domain = s.test\nspool_directory = %s\n"
            "spool_fsync = never\nmax_sessions = 77\n"
            "postfix_tlsrpt = yes\nexclude_sender = rep@s.test\n",
            spool);
    fclose(fp);
    chmod(path, 0644);
    set_str(&f, "configFile", path, strlen(path));
    set_num(&f, "maxSessions", 99);
    ASSERT(otr_params_read(f.v, &c, err, sizeof err) == 0);
    EXPECT_STREQ(c.spool_directory, spool);
    EXPECT_EQ(c.fsync, TRPT_FSYNC_NEVER);
    EXPECT_EQ(c.tlsrpt_mode, TRPT_TLSRPT_ONLY);
    EXPECT_EQ(c.max_sessions, 99); /* the parameter wins */
    ASSERT(c.exclude_senders);
    {
        int found = 0;

        for (char **s = c.exclude_senders; *s; s++)
            found += strcmp(*s, "rep@s.test") == 0;
        EXPECT_EQ(found, 1);
    }
    otr_config_clear(&c);
    fake_free(&f);
}

TEST(params_exclude_sender_array_is_validated_per_address)
{
    fake_vals f = {0};
    otr_config c;
    char err[256];
    int i = param_index("excludeSender");

    ASSERT(i >= 0);
    f.arr[0] = es_newStrFromCStr("<a@x.test>", 10);
    f.arr[1] = es_newStrFromCStr("b@y.test", 8);
    f.ar.nmemb = 2;
    f.ar.arr = f.arr;
    f.v[i].val.datatype = 'A';
    f.v[i].val.d.ar = &f.ar;
    f.v[i].bUsed = 1;
    ASSERT(otr_params_read(f.v, &c, err, sizeof err) == 0);
    EXPECT_STREQ(c.exclude_senders[0], "a@x.test");
    EXPECT_STREQ(c.exclude_senders[1], "b@y.test");
    EXPECT(c.exclude_senders[2] == NULL);
    otr_config_clear(&c);
    f.arr[2] = es_newStrFromCStr("nobody", 6);
    f.ar.nmemb = 3;
    EXPECT(otr_params_read(f.v, &c, err, sizeof err) == -EINVAL);
    EXPECT(strstr(err, "nobody") != NULL);
    f.ar.nmemb = -1; /* absurd count */
    EXPECT(otr_params_read(f.v, &c, err, sizeof err) == -EINVAL);
    f.ar.nmemb = 3;
    fake_free(&f);
}

/* --- engine.c -------------------------------------------------------- */

/* One Postfix session to valid.test in two lines (TLS line, delivery
 * line of the same smtp process), as RSYSLOG_FileFormat renders them. */
#define TLS_LINE                                                               \
    "2026-11-28T11:56:37+00:00 sender postfix/smtp[15407]: Verified TLS "      \
    "connection established to mx.valid.test[127.0.31.11]:25: TLSv1.3 with "   \
    "cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n"
#define SENT_LINE                                                              \
    "2026-11-28T11:56:37+00:00 sender postfix/smtp[15407]: 5DB55A7C088: "      \
    "to=<user@valid.test>, relay=mx.valid.test[127.0.31.11]:25, delay=0.15, "  \
    "delays=0.01/0/0.09/0.04, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n"

typedef struct batch {
    const char *line[8];
} batch;

static void batch_line(void *ctx, size_t i, const char **line, size_t *len)
{
    batch *b = ctx;

    *line = b->line[i];
    *len = strlen(b->line[i]);
}

static otr_engine *engine_waiting(const char *dir, int ordered,
                                  unsigned timeout_ms)
{
    otr_config c = {0};
    otr_engine *e = NULL;

    c.spool_directory = strdup(dir);
    c.fsync = TRPT_FSYNC_NEVER;
    c.ordered = ordered;
    c.order_timeout_ms = timeout_ms;
    if (otr_engine_new(&e, &c) < 0)
        otr_config_clear(&c);
    return e;
}

static otr_engine *engine_in(const char *dir, int ordered)
{
    return engine_waiting(dir, ordered, 200);
}

static char *spool_in(const char *name)
{
    static char path[4200];

    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    return path;
}

/* Records in the spool; *success_valid = those of valid.test / success. */
static int spool_records(const char *dir, int *success_valid)
{
    char **names = NULL;
    int n = 0;

    *success_valid = 0;
    if (trpt_spool_list(dir, &names) < 0)
        return -1;
    for (char **nm = names; *nm; nm++) {
        trpt_spool_reader *r;
        const char *p;
        size_t len;

        if (trpt_spool_reader_open(&r, dir, *nm, 0) < 0)
            continue;
        while (trpt_spool_reader_next(r, &p, &len) == 1) {
            trpt_record rec;

            n++;
            trpt_record_init(&rec);
            if (trpt_record_from_json(&rec, p, len) == 0 && rec.policy_domain &&
                strcmp(rec.policy_domain, "valid.test") == 0 &&
                rec.result == TRPT_RESULT_SUCCESS)
                (*success_valid)++;
            trpt_record_free(&rec);
        }
        trpt_spool_reader_free(r);
    }
    trpt_spool_list_free(names);
    return n;
}

static int segments(const char *dir)
{
    char **names = NULL;
    int n = 0;

    if (trpt_spool_list(dir, &names) < 0)
        return -1;
    while (names[n])
        n++;
    trpt_spool_list_free(names);
    return n;
}

TEST(engine_commits_a_session_as_one_record_and_counts_lines)
{
    const char *dir = spool_in("spool");
    otr_engine *e = engine_in(dir, 0);
    otr_worker *w = NULL;
    batch b = {{TLS_LINE, SENT_LINE}};
    otr_counters c;
    trpt_parser_stats ps;
    int ok;

    ASSERT(e && otr_worker_new(&w) == 0);
    EXPECT_EQ(otr_engine_commit(e, w, 2, batch_line, &b), 0);
    otr_engine_counters(e, &c, &ps, NULL);
    EXPECT_EQ(c.messages, 2);
    EXPECT_EQ(ps.records, 1);
    EXPECT_EQ(spool_records(dir, &ok), 1);
    EXPECT_EQ(ok, 1);
    EXPECT(strncmp(otr_engine_source(e), "rs-", 3) == 0 &&
           strlen(otr_engine_source(e)) == 19);
    otr_worker_free(w);
    EXPECT_EQ(otr_engine_close(e), 0);
    EXPECT_EQ(spool_records(dir, &ok), 1);
}

TEST(engine_without_spool_parses_nothing_and_retries_from_scratch)
{
    char file[4200];
    otr_engine *e;
    otr_worker *w = NULL;
    batch b = {{TLS_LINE, SENT_LINE}};
    otr_counters c;
    int ok, fd;

    /* a regular file where the spool directory should be */
    snprintf(file, sizeof file, "%s/notadir", test_tmpdir());
    ASSERT((fd = open(file, O_CREAT | O_WRONLY, 0600)) >= 0);
    close(fd);
    ASSERT((e = engine_in(file, 0)) != NULL && otr_worker_new(&w) == 0);
    EXPECT(otr_engine_commit(e, w, 2, batch_line, &b) < 0);
    EXPECT(otr_engine_probe(e) < 0);
    otr_engine_counters(e, &c, NULL, NULL);
    EXPECT_EQ(c.messages, 0);
    EXPECT_EQ(c.failures, 1);
    unlink(file); /* the directory can be made now */
    EXPECT_EQ(otr_engine_probe(e), 0);
    EXPECT_EQ(otr_engine_commit(e, w, 2, batch_line, &b), 0);
    otr_engine_counters(e, &c, NULL, NULL);
    EXPECT_EQ(c.messages, 2);
    otr_worker_free(w);
    EXPECT_EQ(otr_engine_close(e), 0);
    EXPECT_EQ(spool_records(file, &ok), 1);
}

/* A line of no interest: committing it opens the sink (and its segment),
 * so that a later commit can fail after its lines were parsed. */
static batch idle = {
    {"2026-11-28T11:50:00+00:00 sender postfix/qmgr[1]: idle\n"}};

/* Writes fail while the file size limit is tiny (EFBIG): a spool that
 * cannot take a commit after the lines were parsed. */
static void limit_file_size(rlim_t bytes)
{
    struct rlimit rl;

    getrlimit(RLIMIT_FSIZE, &rl);
    rl.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &rl);
}

static void unlimit_file_size(void)
{
    struct rlimit rl;

    getrlimit(RLIMIT_FSIZE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_FSIZE, &rl);
}

TEST(engine_retried_batch_is_not_parsed_again_and_lands_once)
{
    const char *dir = spool_in("spool");
    otr_engine *e = engine_in(dir, 0);
    otr_worker *w = NULL;
    batch b = {{TLS_LINE, SENT_LINE}};
    otr_counters c;
    int ok, r;

    ASSERT(e && otr_worker_new(&w) == 0);
    ASSERT(otr_engine_commit(e, w, 1, batch_line, &idle) == 0);
    signal(SIGXFSZ, SIG_IGN);
    limit_file_size(1);
    r = otr_engine_commit(e, w, 2, batch_line, &b);
    unlimit_file_size();
    EXPECT(r < 0);
    otr_engine_counters(e, &c, NULL, NULL);
    EXPECT_EQ(c.held, 1);
    EXPECT_EQ(spool_records(dir, &ok), 0);
    /* rsyslog hands in the same batch again */
    EXPECT_EQ(otr_engine_commit(e, w, 2, batch_line, &b), 0);
    otr_engine_counters(e, &c, NULL, NULL);
    EXPECT_EQ(c.messages, 3); /* with the idle line */
    EXPECT_EQ(c.replay_skips, 2);
    EXPECT_EQ(c.held, 0);
    EXPECT_EQ(spool_records(dir, &ok), 1);
    EXPECT_EQ(ok, 1);
    /* the same lines once more, now as new lines: parsed again */
    EXPECT_EQ(otr_engine_commit(e, w, 2, batch_line, &b), 0);
    otr_engine_counters(e, &c, NULL, NULL);
    EXPECT_EQ(c.messages, 5);
    otr_worker_free(w);
    otr_engine_close(e);
}

TEST(engine_batch_retried_one_message_at_a_time_lands_once)
{
    const char *dir = spool_in("spool");
    otr_engine *e = engine_in(dir, 0);
    otr_worker *w = NULL;
    batch b = {{TLS_LINE, SENT_LINE}};
    batch one = {{TLS_LINE}}, two = {{SENT_LINE}};
    otr_counters c;
    int ok, r;

    ASSERT(e && otr_worker_new(&w) == 0);
    ASSERT(otr_engine_commit(e, w, 1, batch_line, &idle) == 0);
    signal(SIGXFSZ, SIG_IGN);
    limit_file_size(1);
    r = otr_engine_commit(e, w, 2, batch_line, &b);
    /* rsyslog's action.c then tries each message alone; the first still
     * fails, the second succeeds, then the first is retried */
    EXPECT(r < 0);
    EXPECT(otr_engine_commit(e, w, 1, batch_line, &one) < 0);
    unlimit_file_size();
    EXPECT_EQ(otr_engine_commit(e, w, 1, batch_line, &two), 0);
    EXPECT_EQ(otr_engine_commit(e, w, 1, batch_line, &one), 0);
    otr_engine_counters(e, &c, NULL, NULL);
    EXPECT_EQ(c.messages, 3); /* with the idle line */
    EXPECT_EQ(c.replay_skips, 3);
    EXPECT_EQ(spool_records(dir, &ok), 1);
    EXPECT_EQ(ok, 1);
    otr_worker_free(w);
    otr_engine_close(e);
}

TEST(engine_failed_batch_is_committed_by_another_workers_next_commit)
{
    const char *dir = spool_in("spool");
    otr_engine *e = engine_in(dir, 0);
    otr_worker *w1 = NULL, *w2 = NULL;
    batch b = {{TLS_LINE, SENT_LINE}};
    batch other = {{"2026-11-28T11:57:00+00:00 sender postfix/qmgr[1]: x\n"}};
    otr_counters c;
    int ok, r;

    ASSERT(e && otr_worker_new(&w1) == 0 && otr_worker_new(&w2) == 0);
    ASSERT(otr_engine_commit(e, w2, 1, batch_line, &idle) == 0);
    signal(SIGXFSZ, SIG_IGN);
    limit_file_size(1);
    r = otr_engine_commit(e, w1, 2, batch_line, &b);
    unlimit_file_size();
    EXPECT(r < 0);
    EXPECT_EQ(otr_engine_commit(e, w2, 1, batch_line, &other), 0);
    EXPECT_EQ(spool_records(dir, &ok), 1); /* w1's record, via w2 */
    EXPECT_EQ(otr_engine_commit(e, w1, 2, batch_line, &b), 0);
    otr_engine_counters(e, &c, NULL, NULL);
    EXPECT_EQ(c.messages, 4); /* with idle and other */
    EXPECT_EQ(spool_records(dir, &ok), 1);
    otr_worker_free(w1);
    otr_worker_free(w2);
    otr_engine_close(e);
}

typedef struct committer {
    otr_engine *e;
    batch b;
    size_t n;
    int rc;
} committer;

static void *commit_thread(void *arg)
{
    committer *t = arg;
    otr_worker *w = NULL;

    if (otr_worker_new(&w) < 0) {
        t->rc = -ENOMEM;
        return NULL;
    }
    t->rc = otr_engine_commit(t->e, w, t->n, batch_line, &t->b);
    otr_worker_free(w);
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

TEST(engine_ordered_batch_waits_for_the_batch_numbered_before_it)
{
    const char *dir = spool_in("spool");
    otr_engine *e = engine_in(dir, 1);
    committer late = {e, {{"1 " SENT_LINE}}, 1, 1};
    committer early = {e, {{"0 " TLS_LINE}}, 1, 1};
    pthread_t t1, t2;
    otr_counters c;
    int ok;

    ASSERT(e);
    /* the delivery line's batch reaches the module first */
    pthread_create(&t1, NULL, commit_thread, &late);
    sleep_ms(50);
    pthread_create(&t2, NULL, commit_thread, &early);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    EXPECT_EQ(late.rc, 0);
    EXPECT_EQ(early.rc, 0);
    otr_engine_counters(e, &c, NULL, NULL);
    EXPECT_EQ(c.order_waits, 1);
    EXPECT_EQ(c.order_gaps, 0);
    EXPECT_EQ(otr_engine_close(e), 0);
    EXPECT_EQ(spool_records(dir, &ok), 1);
    EXPECT_EQ(ok, 1); /* the TLS line was parsed first */
}

TEST(engine_ordered_batch_with_a_gap_waits_for_another_worker_to_fill_it)
{
    const char *dir = spool_in("spool");
    /* long time-out: the gap must be filled, not given up on */
    otr_engine *e = engine_waiting(dir, 1, 2000);
    /* a disk-assisted queue handed this worker 0 and 2 (its memory part)
     * while 1 (the disk part) went to another worker */
    committer gap = {e,
                     {{"0 2026-11-28T11:56:36+00:00 sender postfix/qmgr[1]: "
                       "idle\n",
                       "2 " SENT_LINE}},
                     2,
                     1};
    committer fill = {e, {{"1 " TLS_LINE}}, 1, 1};
    pthread_t t1, t2;
    otr_counters c;
    int ok;

    ASSERT(e);
    pthread_create(&t1, NULL, commit_thread, &gap);
    sleep_ms(50);
    pthread_create(&t2, NULL, commit_thread, &fill);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    EXPECT_EQ(gap.rc, 0);
    EXPECT_EQ(fill.rc, 0);
    otr_engine_counters(e, &c, NULL, NULL);
    EXPECT_EQ(c.order_gaps, 0);
    EXPECT_EQ(c.order_waits, 1);
    EXPECT_EQ(otr_engine_close(e), 0);
    EXPECT_EQ(spool_records(dir, &ok), 1);
    EXPECT_EQ(ok, 1); /* 1 (TLS) was parsed before 2 (delivery) */
}

TEST(engine_ordered_batch_sorts_its_lines_and_gives_up_on_a_missing_number)
{
    const char *dir = spool_in("spool");
    otr_engine *e = engine_in(dir, 1);
    otr_worker *w = NULL;
    batch b = {{"6 " SENT_LINE, "5 " TLS_LINE, "garbage without number\n"}};
    otr_counters c;
    struct timespec t0, t1;
    int ok;

    ASSERT(e && otr_worker_new(&w) == 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    EXPECT_EQ(otr_engine_commit(e, w, 3, batch_line, &b), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    otr_engine_counters(e, &c, NULL, NULL);
    EXPECT_EQ(c.order_gaps, 1); /* 0..4 never came */
    EXPECT_EQ(c.unnumbered, 1);
    /* waited for the time-out (200 ms), not longer than a second */
    EXPECT((t1.tv_sec - t0.tv_sec) * 1000 +
               (t1.tv_nsec - t0.tv_nsec) / 1000000 >=
           190);
    EXPECT(t1.tv_sec - t0.tv_sec <= 1);
    /* numbers going back (a restart of numbering) are parsed at once */
    EXPECT_EQ(otr_engine_commit(e, w, 1, batch_line, &(batch){{"2 x\n"}}), 0);
    otr_engine_counters(e, &c, NULL, NULL);
    EXPECT_EQ(c.order_gaps, 1);
    otr_worker_free(w);
    EXPECT_EQ(otr_engine_close(e), 0);
    EXPECT_EQ(spool_records(dir, &ok), 1);
    EXPECT_EQ(ok, 1);
}

TEST(engine_hup_starts_a_new_segment_and_writes_stats)
{
    const char *dir = spool_in("spool");
    char stats[4200], buf[4096] = "";
    otr_engine *e = engine_in(dir, 0);
    otr_worker *w = NULL;
    batch b = {{TLS_LINE, SENT_LINE}};
    FILE *f;
    int ok;

    snprintf(stats, sizeof stats, "%s/stats", test_tmpdir());
    ASSERT(e && otr_worker_new(&w) == 0);
    EXPECT_EQ(otr_engine_commit(e, w, 2, batch_line, &b), 0);
    EXPECT_EQ(segments(dir), 1);
    EXPECT_EQ(otr_engine_hup(e), 0);
    EXPECT_EQ(otr_engine_commit(e, w, 2, batch_line, &b), 0);
    EXPECT_EQ(segments(dir), 2);
    EXPECT_EQ(otr_engine_write_stats(e, stats), 0);
    ASSERT((f = fopen(stats, "r")) != NULL);
    buf[fread(buf, 1, sizeof buf - 1, f)] = '\0';
    fclose(f);
    EXPECT(strstr(buf, "messages=4\n") != NULL);
    EXPECT(strstr(buf, "records=2\n") != NULL);
    EXPECT(strstr(buf, "sink.committed=2\n") != NULL);
    EXPECT(strstr(buf, "error.bad-utf8=0\n") != NULL);
    otr_worker_free(w);
    otr_engine_close(e);
    EXPECT_EQ(spool_records(dir, &ok), 2);
}

TEST(engine_counts_and_skips_malformed_lines)
{
    const char *dir = spool_in("spool");
    otr_engine *e = engine_in(dir, 0);
    otr_worker *w = NULL;
    static char big[20000];
    batch b = {{"2026-11-28T11:56:37+00:00 h postfix/smtp[1]: \xff\xfe\n", big,
                "\x01\x02\x03", "", "<13>1 t", TLS_LINE, SENT_LINE}};
    trpt_parser_stats ps;
    int ok;

    memset(big, 'a', sizeof big - 1);
    ASSERT(e && otr_worker_new(&w) == 0);
    EXPECT_EQ(otr_engine_commit(e, w, 7, batch_line, &b), 0);
    otr_engine_counters(e, NULL, &ps, NULL);
    EXPECT_EQ(ps.lines, 7);
    EXPECT_EQ(ps.errors[TRPT_PERR_BAD_UTF8], 1);
    EXPECT_EQ(ps.errors[TRPT_PERR_TOO_LONG], 1);
    EXPECT(ps.errors[TRPT_PERR_NO_FRAMING] >= 3);
    otr_worker_free(w);
    otr_engine_close(e);
    EXPECT_EQ(spool_records(dir, &ok), 1);
    EXPECT_EQ(ok, 1);
}

TEST(engine_close_of_null_and_of_an_unused_engine_is_harmless)
{
    otr_engine *e = engine_in(spool_in("never"), 0);

    EXPECT_EQ(otr_engine_close(NULL), 0);
    otr_worker_free(NULL);
    ASSERT(e);
    EXPECT_EQ(otr_engine_close(e), 0);
}
