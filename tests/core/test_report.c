/* test_report.c - RFC 8460 report JSON, names, gzip and atomic writes, and
 * the written files against tests/data/tlsrpt-report.schema.json. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "harness.h"
#include "report.h"

#define DAY0  19970 /* 2024-09-04 */
#define BEGIN "1725408000"
#define END   "1725494399"
#define REC   "v=TLSRPTv1; rua=mailto:tlsrpt@example.com"

static const char *const sts_strings[] = {"version: STSv1", "mode: enforce",
                                          "mx: *.mail.example.com",
                                          "max_age: 604800"};
static const char *const sts_mx[] = {"*.mail.example.com"};

static const trpt_agg_detail sts_details[] = {
    {TRPT_RESULT_CERTIFICATE_EXPIRED, "192.0.2.1", "mx1.mail.example.com", NULL,
     "198.51.100.7", NULL, NULL, 7},
    {TRPT_RESULT_VALIDATION_FAILURE, "2001:db8::1", "mx2.mail.example.com",
     "mx2.mail.example.com", "198.51.100.8", "self-signed_certificate",
     "https://reports.example.org/info#1", 2},
};

static const trpt_agg_policy two_policies[] = {
    {TRPT_POLICY_NONE, NULL, 0, NULL, 0, 5, 0, NULL, 0},
    {TRPT_POLICY_STS, sts_strings, 4, sts_mx, 1, 100, 9, sts_details, 2},
};

static const trpt_agg_group group = {DAY0, "example.com", REC, two_policies, 2};

static const trpt_report_meta meta = {"Example Org", "tlsrpt@example.org",
                                      "example.org", 1};

/* ---- helpers ------------------------------------------------------------ */

static struct fjson_object *parse(const char *text)
{
    return fjson_tokener_parse(text);
}

static struct fjson_object *get(struct fjson_object *o, const char *key)
{
    struct fjson_object *v = NULL;

    if (!o || !fjson_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

static const char *get_str(struct fjson_object *o, const char *key)
{
    struct fjson_object *v = get(o, key);

    return v && fjson_object_is_type(v, fjson_type_string)
               ? fjson_object_get_string(v)
               : NULL;
}

static long long get_int(struct fjson_object *o, const char *key)
{
    struct fjson_object *v = get(o, key);

    return v && fjson_object_is_type(v, fjson_type_int)
               ? (long long)fjson_object_get_int64(v)
               : -1;
}

static struct fjson_object *idx(struct fjson_object *arr, int i)
{
    if (!arr || !fjson_object_is_type(arr, fjson_type_array) ||
        i >= fjson_object_array_length(arr))
        return NULL;
    return fjson_object_array_get_idx(arr, i);
}

static int gunzip(const char *data, size_t len, trpt_buf *out)
{
    z_stream z;
    char chunk[4096];
    int zr;

    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        return -1;
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    do {
        z.next_out = (Bytef *)chunk;
        z.avail_out = sizeof(chunk);
        zr = inflate(&z, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END)
            break;
        trpt_buf_append(out, chunk, sizeof(chunk) - z.avail_out);
    } while (zr != Z_STREAM_END);
    inflateEnd(&z);
    return zr == Z_STREAM_END && z.avail_in == 0 ? 0 : -1;
}

static int read_file(const char *path, trpt_buf *out)
{
    FILE *f = fopen(path, "rb");
    char chunk[4096];
    size_t n;

    if (!f)
        return -1;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        trpt_buf_append(out, chunk, n);
    fclose(f);
    return 0;
}

static int count_dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static const char *src_dir(void)
{
    return getenv("TRPT_SRC") ? getenv("TRPT_SRC") : ".";
}

/* Runs the schema checker; returns its exit status. */
static int run_checker(const char *targets)
{
    char cmd[8192];
    int st;

    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 %s/tests/check_report_schema.py "
             "%s/tests/data/tlsrpt-report.schema.json %s >&2",
             src_dir(), src_dir(), targets);
    st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

/* ---- JSON content -------------------------------------------------- */

TEST(report_json_has_every_rfc8460_field)
{
    trpt_buf out;
    struct fjson_object *o, *dr, *pol, *p, *sum, *fd, *d0, *d1;

    trpt_buf_init(&out);
    ASSERT(trpt_report_json(&group, &meta, 0, &out) == 0);
    o = parse(out.data);
    ASSERT(o);
    EXPECT_STREQ(get_str(o, "organization-name"), "Example Org");
    EXPECT_STREQ(get_str(o, "contact-info"), "tlsrpt@example.org");
    dr = get(o, "date-range");
    EXPECT_STREQ(get_str(dr, "start-datetime"), "2024-09-04T00:00:00Z");
    EXPECT_STREQ(get_str(dr, "end-datetime"), "2024-09-04T23:59:59Z");
    EXPECT(get_str(o, "report-id") != NULL);
    pol = get(o, "policies");
    ASSERT(pol && fjson_object_array_length(pol) == 2);

    /* the sts policy, second in order */
    p = get(idx(pol, 1), "policy");
    EXPECT_STREQ(get_str(p, "policy-type"), "sts");
    EXPECT_STREQ(get_str(p, "policy-domain"), "example.com");
    ASSERT(get(p, "policy-string") &&
           fjson_object_is_type(get(p, "policy-string"), fjson_type_array));
    EXPECT_EQ(fjson_object_array_length(get(p, "policy-string")), 4);
    EXPECT_STREQ(fjson_object_get_string(idx(get(p, "policy-string"), 3)),
                 "max_age: 604800");
    ASSERT(get(p, "mx-host") &&
           fjson_object_is_type(get(p, "mx-host"), fjson_type_array));
    EXPECT_STREQ(fjson_object_get_string(idx(get(p, "mx-host"), 0)),
                 "*.mail.example.com");
    sum = get(idx(pol, 1), "summary");
    EXPECT_EQ(get_int(sum, "total-successful-session-count"), 100);
    EXPECT_EQ(get_int(sum, "total-failure-session-count"), 9);
    fd = get(idx(pol, 1), "failure-details");
    ASSERT(fd && fjson_object_array_length(fd) == 2);
    d0 = idx(fd, 0);
    EXPECT_STREQ(get_str(d0, "result-type"), "certificate-expired");
    EXPECT_STREQ(get_str(d0, "sending-mta-ip"), "192.0.2.1");
    EXPECT_STREQ(get_str(d0, "receiving-mx-hostname"), "mx1.mail.example.com");
    EXPECT_STREQ(get_str(d0, "receiving-ip"), "198.51.100.7");
    EXPECT_EQ(get_int(d0, "failed-session-count"), 7);
    /* unknown optional fields are left out, not written empty */
    EXPECT(get(d0, "receiving-mx-helo") == NULL);
    EXPECT(get(d0, "failure-reason-code") == NULL);
    EXPECT(get(d0, "additional-information") == NULL);
    d1 = idx(fd, 1);
    EXPECT_STREQ(get_str(d1, "result-type"), "validation-failure");
    EXPECT_STREQ(get_str(d1, "receiving-mx-helo"), "mx2.mail.example.com");
    EXPECT_STREQ(get_str(d1, "failure-reason-code"), "self-signed_certificate");
    EXPECT_STREQ(get_str(d1, "additional-information"),
                 "https://reports.example.org/info#1");
    EXPECT_EQ(get_int(d1, "failed-session-count"), 2);
    /* the RFC's field order: metadata first, policies last */
    EXPECT(strstr(out.data, "\"organization-name\"") <
           strstr(out.data, "\"policies\""));
    /* compact: no newline; '/' not escaped (readable URIs) */
    EXPECT(strchr(out.data, '\n') == NULL);
    EXPECT(strstr(out.data, "https://reports.example.org/info#1") != NULL);
    fjson_object_put(o);
    trpt_buf_free(&out);
}

TEST(report_no_policy_found_has_policy_domain_and_no_empty_arrays)
{
    trpt_buf out;
    struct fjson_object *o, *e, *p;

    trpt_buf_init(&out);
    ASSERT(trpt_report_json(&group, &meta, 1, &out) == 0);
    o = parse(out.data);
    ASSERT(o);
    e = idx(get(o, "policies"), 0);
    p = get(e, "policy");
    EXPECT_STREQ(get_str(p, "policy-type"), "no-policy-found");
    EXPECT_STREQ(get_str(p, "policy-domain"), "example.com");
    EXPECT(get(p, "policy-string") == NULL);
    EXPECT(get(p, "mx-host") == NULL);
    EXPECT(get(e, "failure-details") == NULL);
    EXPECT_EQ(get_int(get(e, "summary"), "total-successful-session-count"), 5);
    EXPECT_EQ(get_int(get(e, "summary"), "total-failure-session-count"), 0);
    /* pretty output is the same document */
    EXPECT(strchr(out.data, '\n') != NULL);
    fjson_object_put(o);
    trpt_buf_free(&out);
}

TEST(report_json_escapes_hostile_strings_and_round_trips_them)
{
    static const char nasty[] =
        "quote\" backslash\\ esc-slash\\/ / ctl\x01\x1f tab\t "
        "utf8 \xc3\xa9\xe2\x82\xac";
    trpt_agg_detail d = {
        TRPT_RESULT_VALIDATION_FAILURE, NULL, NULL, NULL, NULL, nasty, NULL, 1};
    trpt_agg_policy p = {TRPT_POLICY_STS, NULL, 0, NULL, 0, 0, 1, &d, 1};
    trpt_agg_group g = {DAY0, "example.com", REC, &p, 1};
    trpt_buf out;
    struct fjson_object *o;

    trpt_buf_init(&out);
    ASSERT(trpt_report_json(&g, &meta, 0, &out) == 0);
    for (size_t i = 0; i < out.len; i++)
        if ((unsigned char)out.data[i] < 0x20) {
            EXPECT(!"raw control character in JSON");
            break;
        }
    o = parse(out.data);
    ASSERT(o);
    EXPECT_STREQ(
        get_str(idx(get(idx(get(o, "policies"), 0), "failure-details"), 0),
                "failure-reason-code"),
        nasty);
    fjson_object_put(o);
    trpt_buf_free(&out);
}

TEST(report_json_refuses_missing_metadata)
{
    trpt_report_meta m = meta;
    trpt_buf out;

    trpt_buf_init(&out);
    m.organization_name = NULL;
    EXPECT_EQ(trpt_report_json(&group, &m, 0, &out), -EINVAL);
    m = meta;
    m.contact_info = NULL;
    EXPECT_EQ(trpt_report_json(&group, &m, 0, &out), -EINVAL);
    EXPECT_EQ(out.len, 0);
    trpt_buf_free(&out);
}

/* ---- names ------------------------------------------------------------ */

static uint32_t fnv1a32(const char *s)
{
    uint32_t h = 0x811c9dc5u;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x01000193u;
    return h;
}

TEST(report_names_follow_grammar_and_are_stable)
{
    trpt_buf id, name, expect;
    trpt_agg_group g = group;
    trpt_report_meta m = meta;

    trpt_buf_init(&id);
    trpt_buf_init(&name);
    trpt_buf_init(&expect);
    ASSERT(trpt_report_names(&g, &m, &id, &name) == 0);
    trpt_buf_printf(&expect,
                    "2024-09-04T00:00:00Z_example.com_%08x@example.org",
                    fnv1a32(REC));
    EXPECT_STREQ(id.data, expect.data);
    trpt_buf_reset(&expect);
    /* RFC 8460 §5.3: submitter!domain!begin!end!unique.json.gz */
    trpt_buf_printf(&expect,
                    "example.org!example.com!" BEGIN "!" END "!%08x.json.gz",
                    fnv1a32(REC));
    EXPECT_STREQ(name.data, expect.data);

    /* a supplementary report of late events */
    m.seq = 2;
    trpt_buf_reset(&id);
    trpt_buf_reset(&name);
    ASSERT(trpt_report_names(&g, &m, &id, &name) == 0);
    EXPECT(strstr(id.data, "_2@example.org") != NULL);
    EXPECT(strstr(name.data, "_2.json.gz") != NULL);

    /* no record seen */
    m.seq = 1;
    g.tlsrpt_record = NULL;
    trpt_buf_reset(&id);
    trpt_buf_reset(&name);
    ASSERT(trpt_report_names(&g, &m, &id, &name) == 0);
    EXPECT_STREQ(id.data, "2024-09-04T00:00:00Z_example.com_none@example.org");
    EXPECT_STREQ(name.data,
                 "example.org!example.com!" BEGIN "!" END "!none.json.gz");

    /* the report-id inside the JSON is the same */
    {
        trpt_buf out;
        struct fjson_object *o;

        trpt_buf_init(&out);
        ASSERT(trpt_report_json(&g, &m, 0, &out) == 0);
        o = parse(out.data);
        EXPECT_STREQ(get_str(o, "report-id"), id.data);
        fjson_object_put(o);
        trpt_buf_free(&out);
    }
    trpt_buf_free(&id);
    trpt_buf_free(&name);
    trpt_buf_free(&expect);
}

TEST(report_names_refuse_unsafe_domains_and_absurd_days)
{
    static const char *const bad[] = {
        "",     "../etc", "a/b",   "a!b",       ".hidden",
        "a..b", "sp ace", "nl\nx", "x\xc3\xa9", "semi;colon"};
    char longname[300];
    trpt_agg_group g = group;
    trpt_report_meta m = meta;
    trpt_buf name;

    trpt_buf_init(&name);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        g.policy_domain = bad[i];
        EXPECT_EQ(trpt_report_names(&g, &m, NULL, &name), -EINVAL);
        g = group;
        m.submitter_domain = bad[i];
        EXPECT_EQ(trpt_report_names(&g, &m, NULL, &name), -EINVAL);
        m = meta;
    }
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    g.policy_domain = longname;
    EXPECT_EQ(trpt_report_names(&g, &m, NULL, &name), -EINVAL);
    g = group;
    g.day = -1;
    EXPECT_EQ(trpt_report_names(&g, &m, NULL, &name), -ERANGE);
    g.day = 5000000;
    EXPECT_EQ(trpt_report_names(&g, &m, NULL, &name), -ERANGE);
    EXPECT_EQ(name.len, 0);
    trpt_buf_free(&name);
}

/* ---- gzip ------------------------------------------------------------- */

TEST(report_gzip_round_trips_with_a_fixed_header)
{
    trpt_buf json, gz1, gz2, back;
    const unsigned char *h;

    trpt_buf_init(&json);
    trpt_buf_init(&gz1);
    trpt_buf_init(&gz2);
    trpt_buf_init(&back);
    ASSERT(trpt_report_json(&group, &meta, 1, &json) == 0);
    ASSERT(trpt_report_gzip(json.data, json.len, &gz1) == 0);
    ASSERT(trpt_report_gzip(json.data, json.len, &gz2) == 0);
    EXPECT(gz1.len == gz2.len && memcmp(gz1.data, gz2.data, gz1.len) == 0);
    ASSERT(gz1.len > 18);
    h = (const unsigned char *)gz1.data;
    /* RFC 1952: magic, deflate, no flags, mtime 0, OS 255 */
    EXPECT(h[0] == 0x1f && h[1] == 0x8b && h[2] == 8 && h[3] == 0);
    EXPECT(h[4] == 0 && h[5] == 0 && h[6] == 0 && h[7] == 0);
    EXPECT_EQ(h[9], 255);
    ASSERT(gunzip(gz1.data, gz1.len, &back) == 0);
    EXPECT(back.len == json.len && memcmp(back.data, json.data, json.len) == 0);

    /* empty and large inputs */
    trpt_buf_reset(&gz1);
    trpt_buf_reset(&back);
    ASSERT(trpt_report_gzip("", 0, &gz1) == 0);
    EXPECT(gunzip(gz1.data, gz1.len, &back) == 0 && back.len == 0);
    {
        size_t n = 3 * 1024 * 1024;
        char *big = malloc(n);
        uint32_t x = 1;

        ASSERT(big);
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            big[i] = (char)(x >> 24);
        }
        trpt_buf_reset(&gz1);
        trpt_buf_reset(&back);
        ASSERT(trpt_report_gzip(big, n, &gz1) == 0);
        ASSERT(gunzip(gz1.data, gz1.len, &back) == 0);
        EXPECT(back.len == n && memcmp(back.data, big, n) == 0);
        free(big);
    }
    /* appends: what was in the buffer stays */
    trpt_buf_reset(&gz1);
    trpt_buf_puts(&gz1, "keep");
    ASSERT(trpt_report_gzip("x", 1, &gz1) == 0);
    EXPECT(memcmp(gz1.data, "keep", 4) == 0);
    trpt_buf_free(&json);
    trpt_buf_free(&gz1);
    trpt_buf_free(&gz2);
    trpt_buf_free(&back);
}

/* ---- writing ------------------------------------------------------------ */

TEST(report_write_is_atomic_mode_0640_and_replaces_existing)
{
    const char *dir = test_tmpdir();
    trpt_agg_policy p[2];
    trpt_agg_group g = group;
    trpt_buf path, file, json, want;
    struct stat st;

    trpt_buf_init(&path);
    trpt_buf_init(&file);
    trpt_buf_init(&json);
    trpt_buf_init(&want);
    ASSERT(trpt_report_write(&group, &meta, dir, &path) == 0);
    EXPECT(strncmp(path.data, dir, strlen(dir)) == 0);
    EXPECT(strstr(path.data, "/example.org!example.com!" BEGIN "!" END "!"));
    ASSERT(stat(path.data, &st) == 0);
    EXPECT_EQ(st.st_mode & 07777, 0640);
    ASSERT(read_file(path.data, &file) == 0);
    ASSERT(gunzip(file.data, file.len, &json) == 0);
    ASSERT(trpt_report_json(&group, &meta, 0, &want) == 0);
    EXPECT_STREQ(json.data, want.data);

    /* same name again with other counts: replaced, nothing left behind */
    memcpy(p, two_policies, sizeof(p));
    p[0].success = 6;
    g.policies = p;
    trpt_buf_reset(&path);
    ASSERT(trpt_report_write(&g, &meta, dir, &path) == 0);
    trpt_buf_reset(&file);
    trpt_buf_reset(&json);
    trpt_buf_reset(&want);
    ASSERT(read_file(path.data, &file) == 0);
    ASSERT(gunzip(file.data, file.len, &json) == 0);
    ASSERT(trpt_report_json(&g, &meta, 0, &want) == 0);
    EXPECT_STREQ(json.data, want.data);
    EXPECT_EQ(count_dir_entries(dir), 1);

    /* no outbox: an error, not a crash */
    EXPECT(trpt_report_write(&group, &meta, "/nonexistent/outbox", NULL) < 0);
    trpt_buf_free(&path);
    trpt_buf_free(&file);
    trpt_buf_free(&json);
    trpt_buf_free(&want);
}

TEST(report_write_never_follows_symlinks)
{
    const char *dir = test_tmpdir();
    char outbox[4200], victim[4200], link[8400];
    trpt_buf name, victim_after;

    trpt_buf_init(&name);
    trpt_buf_init(&victim_after);
    snprintf(outbox, sizeof(outbox), "%s/outbox", dir);
    snprintf(victim, sizeof(victim), "%s/victim", dir);
    ASSERT(mkdir(outbox, 0750) == 0);
    {
        FILE *f = fopen(victim, "w");

        ASSERT(f);
        fputs("precious", f);
        fclose(f);
    }
    ASSERT(trpt_report_names(&group, &meta, NULL, &name) == 0);
    /* a planted link at the temporary name and at the final name */
    snprintf(link, sizeof(link), "%s/.%s.%ld.tmp", outbox, name.data,
             (long)getpid());
    ASSERT(symlink(victim, link) == 0);
    snprintf(link, sizeof(link), "%s/%s", outbox, name.data);
    ASSERT(symlink(victim, link) == 0);
    ASSERT(trpt_report_write(&group, &meta, outbox, NULL) == 0);
    ASSERT(read_file(victim, &victim_after) == 0);
    EXPECT_STREQ(victim_after.data, "precious");
    {
        struct stat st;

        ASSERT(lstat(link, &st) == 0);
        EXPECT(S_ISREG(st.st_mode));
    }
    EXPECT_EQ(count_dir_entries(outbox), 1);
    trpt_buf_free(&name);
    trpt_buf_free(&victim_after);
}

/* ---- batches ------------------------------------------------------------ */

/* Entries of dir: how many are temporary (".*.tmp") and how many final. */
static void count_kinds(const char *dir, int *tmp, int *final)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    *tmp = *final = 0;
    if (!d)
        return;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);

        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (e->d_name[0] == '.' && n > 4 && !strcmp(e->d_name + n - 4, ".tmp"))
            (*tmp)++;
        else
            (*final)++;
    }
    closedir(d);
}

/* The report file of g in dir holds exactly g's report. */
static int holds_report(const char *dir, const trpt_agg_group *g)
{
    trpt_buf name, path, file, json, want;
    int ok;

    trpt_buf_init(&name);
    trpt_buf_init(&path);
    trpt_buf_init(&file);
    trpt_buf_init(&json);
    trpt_buf_init(&want);
    ok = trpt_report_names(g, &meta, NULL, &name) == 0 &&
         trpt_buf_printf(&path, "%s/%s", dir, name.data) == 0 &&
         read_file(path.data, &file) == 0 &&
         gunzip(file.data, file.len, &json) == 0 &&
         trpt_report_json(g, &meta, 0, &want) == 0 &&
         strcmp(json.data, want.data) == 0;
    trpt_buf_free(&name);
    trpt_buf_free(&path);
    trpt_buf_free(&file);
    trpt_buf_free(&json);
    trpt_buf_free(&want);
    return ok;
}

TEST(report_batch_publishes_nothing_before_commit_and_all_after)
{
    const char *dir = test_tmpdir();
    trpt_agg_group g[3] = {group, group, group};
    trpt_report_batch *b = NULL;
    int tmp, final;

    g[1].policy_domain = "b.example";
    g[2].policy_domain = "c.example";
    g[2].tlsrpt_record = NULL;
    ASSERT(trpt_report_batch_open(&b, dir) == 0);
    for (int i = 0; i < 3; i++)
        EXPECT_EQ(trpt_report_batch_add(b, &g[i], &meta), 0);
    EXPECT_EQ(trpt_report_batch_pending(b), 3);
    count_kinds(dir, &tmp, &final);
    EXPECT_EQ(tmp, 3);
    EXPECT_EQ(final, 0); /* no name shows a report before the commit */
    EXPECT_EQ(trpt_report_batch_commit(b), 0);
    EXPECT_EQ(trpt_report_batch_pending(b), 0);
    count_kinds(dir, &tmp, &final);
    EXPECT_EQ(tmp, 0);
    EXPECT_EQ(final, 3);
    for (int i = 0; i < 3; i++)
        EXPECT(holds_report(dir, &g[i]));
    EXPECT_EQ(trpt_report_batch_commit(b), 0); /* nothing left: no-op */
    trpt_report_batch_free(b);
    EXPECT_EQ(count_dir_entries(dir), 3);
}

TEST(report_batch_freed_without_commit_leaves_nothing)
{
    const char *dir = test_tmpdir();
    trpt_agg_group g2 = group;
    trpt_report_batch *b = NULL;

    g2.policy_domain = "b.example";
    ASSERT(trpt_report_batch_open(&b, dir) == 0);
    EXPECT_EQ(trpt_report_batch_add(b, &group, &meta), 0);
    EXPECT_EQ(trpt_report_batch_add(b, &g2, &meta), 0);
    EXPECT_EQ(count_dir_entries(dir), 2);
    trpt_report_batch_free(b);
    EXPECT_EQ(count_dir_entries(dir), 0);
    trpt_report_batch_free(NULL);
}

TEST(report_batch_killed_before_commit_leaves_only_stale_temporaries)
{
    const char *dir = test_tmpdir();
    trpt_agg_group g2 = group;
    int status, tmp, final;
    pid_t pid;

    g2.policy_domain = "b.example";
    pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) { /* written, then gone without any cleanup */
        trpt_report_batch *b = NULL;

        if (trpt_report_batch_open(&b, dir) < 0 ||
            trpt_report_batch_add(b, &group, &meta) < 0 ||
            trpt_report_batch_add(b, &g2, &meta) < 0)
            _exit(1);
        _exit(0);
    }
    ASSERT(waitpid(pid, &status, 0) == pid);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    count_kinds(dir, &tmp, &final);
    EXPECT_EQ(tmp, 2);
    EXPECT_EQ(final, 0);
    EXPECT_EQ(trpt_report_remove_stale(dir), 0);
    EXPECT_EQ(count_dir_entries(dir), 0);
}

TEST(report_batch_same_name_twice_keeps_the_later_report)
{
    const char *dir = test_tmpdir();
    trpt_agg_policy p[2];
    trpt_agg_group g = group;
    trpt_report_batch *b = NULL;

    memcpy(p, two_policies, sizeof(p));
    p[0].success = 77;
    g.policies = p;
    ASSERT(trpt_report_batch_open(&b, dir) == 0);
    EXPECT_EQ(trpt_report_batch_add(b, &group, &meta), 0);
    EXPECT_EQ(trpt_report_batch_add(b, &g, &meta), 0);
    EXPECT_EQ(trpt_report_batch_pending(b), 1);
    EXPECT_EQ(trpt_report_batch_commit(b), 0);
    trpt_report_batch_free(b);
    EXPECT_EQ(count_dir_entries(dir), 1);
    EXPECT(holds_report(dir, &g));
}

TEST(report_batch_rename_failure_keeps_the_rest_pending_then_removed)
{
    const char *dir = test_tmpdir();
    trpt_agg_group g2 = group;
    trpt_report_batch *b = NULL;
    trpt_buf name, path;
    int tmp, final;

    trpt_buf_init(&name);
    trpt_buf_init(&path);
    g2.policy_domain = "b.example";
    /* a directory where the first report's file should go */
    ASSERT(trpt_report_names(&group, &meta, NULL, &name) == 0);
    ASSERT(trpt_buf_printf(&path, "%s/%s", dir, name.data) == 0);
    ASSERT(mkdir(path.data, 0750) == 0);
    ASSERT(trpt_report_batch_open(&b, dir) == 0);
    EXPECT_EQ(trpt_report_batch_add(b, &group, &meta), 0);
    EXPECT_EQ(trpt_report_batch_add(b, &g2, &meta), 0);
    EXPECT(trpt_report_batch_commit(b) < 0);
    EXPECT_EQ(trpt_report_batch_pending(b), 2); /* nothing was published */
    trpt_report_batch_free(b);
    count_kinds(dir, &tmp, &final);
    EXPECT_EQ(tmp, 0);
    EXPECT_EQ(final, 1); /* the directory alone */
    trpt_buf_free(&name);
    trpt_buf_free(&path);
}

TEST(report_batch_refuses_bad_arguments_and_missing_outbox)
{
    const char *dir = test_tmpdir();
    trpt_report_batch *b = NULL;
    trpt_agg_group bad = group;

    EXPECT(trpt_report_batch_open(&b, "/nonexistent/outbox") < 0);
    EXPECT(b == NULL);
    EXPECT_EQ(trpt_report_batch_open(NULL, dir), -EINVAL);
    ASSERT(trpt_report_batch_open(&b, dir) == 0);
    EXPECT_EQ(trpt_report_batch_add(b, NULL, &meta), -EINVAL);
    EXPECT_EQ(trpt_report_batch_add(NULL, &group, &meta), -EINVAL);
    bad.policy_domain = "../etc"; /* never a file name */
    EXPECT(trpt_report_batch_add(b, &bad, &meta) < 0);
    EXPECT_EQ(trpt_report_batch_pending(b), 0);
    EXPECT_EQ(trpt_report_batch_commit(NULL), -EINVAL);
    trpt_report_batch_free(b);
    EXPECT_EQ(count_dir_entries(dir), 0);
}

/* ---- schema --------------------------------------------------------- */

TEST(report_written_files_pass_the_rfc8460_schema_check)
{
    static const char *const tlsa_strings[] = {"3 1 1 0123ABCD"};
    static const trpt_agg_detail tlsa_detail[] = {
        {TRPT_RESULT_TLSA_INVALID, NULL, "mx.dane.example", NULL, NULL,
         "all-TLSA-records-unusable", NULL, 3}};
    trpt_agg_policy tlsa = {
        TRPT_POLICY_TLSA, tlsa_strings, 1, NULL, 0, 1, 3, tlsa_detail, 1};
    trpt_agg_group g2 = {DAY0 + 1, "mx.dane.example", NULL, &tlsa, 1};
    trpt_agg_group g3 = {DAY0, "example.net", REC, two_policies, 1};
    trpt_report_meta late = meta;
    const char *dir = test_tmpdir();
    char targets[4200];

    late.seq = 3;
    ASSERT(trpt_report_write(&group, &meta, dir, NULL) == 0);
    ASSERT(trpt_report_write(&g2, &meta, dir, NULL) == 0);
    ASSERT(trpt_report_write(&g3, &late, dir, NULL) == 0);
    EXPECT_EQ(count_dir_entries(dir), 3);
    snprintf(targets, sizeof(targets), "'%s'", dir);
    EXPECT_EQ(run_checker(targets), 0);
}

TEST(schema_accepts_real_reports_and_refuses_invalid_ones)
{
    static const char *const good[] = {
        "google.com!cardinalhealth.ca!1725321600!1725407999!001.json.gz",
        "smtp_tls.json",
        "rpt01.json",
        "rpt02.json",
        "mail.ru.json",
        "tlsrpt-rs-google2.extracted.json",
        "tlsrpt-rs-microsoft1.extracted.json"};
    char targets[32768] = "";
    const char *dir = test_tmpdir();
    char path[4200];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char rel[512], one[4200];

        snprintf(rel, sizeof(rel), "corpus/reports/%s", good[i]);
        snprintf(one, sizeof(one), " '%s'", shared_path(rel));
        strncat(targets, one, sizeof(targets) - strlen(targets) - 1);
    }
    EXPECT_EQ(run_checker(targets), 0);
    /* no policy-domain and a bogus policy-type (a deliberately bad fixture) */
    snprintf(targets, sizeof(targets), "'%s'",
             shared_path("corpus/reports/rpt03.json"));
    EXPECT_EQ(run_checker(targets), 1);
    /* the RFC's own example predates erratum 6241: mx-host is a string */
    snprintf(targets, sizeof(targets), "'%s'",
             shared_path("corpus/reports/rfc8460.json"));
    EXPECT_EQ(run_checker(targets), 1);
    /* a valid report under a file name that names another domain */
    {
        trpt_buf json;
        FILE *f;

        trpt_buf_init(&json);
        ASSERT(trpt_report_json(&group, &meta, 0, &json) == 0);
        snprintf(path, sizeof(path),
                 "%s/example.org!other.example!" BEGIN "!" END "!x.json", dir);
        f = fopen(path, "w");
        ASSERT(f);
        fputs(json.data, f);
        fclose(f);
        trpt_buf_free(&json);
        snprintf(targets, sizeof(targets), "'%s'", path);
        EXPECT_EQ(run_checker(targets), 1);
    }
}
