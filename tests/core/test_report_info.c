/* test_report_info.c - reading back what the sender needs from a report
 * file: report-id, policy domain, counts; damaged files refused. */
#include "harness.h"
#include "report.h"
#include "report_info.h"

#include <errno.h>

static const char report[] =
    "{\"organization-name\":\"o\",\"date-range\":{\"start-datetime\":"
    "\"2026-11-27T00:00:00Z\",\"end-datetime\":\"2026-11-27T23:59:59Z\"},"
    "\"contact-info\":\"mailto:a@s.test\",\"report-id\":\"2026-11-27T00:00:"
    "00Z_valid.test_0a1b2c3d@s.test\",\"policies\":[{\"policy\":{\"policy-"
    "type\":\"sts\",\"policy-string\":[\"version: STSv1\"],\"policy-domain\":"
    "\"valid.test\",\"mx-host\":[\"mx.valid.test\"]},\"summary\":{\"total-"
    "successful-session-count\":5,\"total-failure-session-count\":2}},"
    "{\"policy\":{\"policy-type\":\"no-policy-found\",\"policy-domain\":"
    "\"valid.test\"},\"summary\":{\"total-successful-session-count\":1,"
    "\"total-failure-session-count\":0}}]}";

static int read_text(const char *json, trpt_report_info *info)
{
    trpt_buf gz;
    int r;

    trpt_buf_init(&gz);
    r = trpt_report_gzip(json, strlen(json), &gz);
    if (r == 0)
        r = trpt_report_info_read(gz.data, gz.len, info);
    trpt_buf_free(&gz);
    return r;
}

TEST(report_id_domain_and_summed_counts_are_read)
{
    trpt_report_info info;

    ASSERT(read_text(report, &info) == 0);
    EXPECT_STREQ(info.report_id, "2026-11-27T00:00:00Z_valid.test_0a1b2c3d@"
                                 "s.test");
    EXPECT_STREQ(info.policy_domain, "valid.test");
    EXPECT_EQ(info.n_policies, 2);
    EXPECT_EQ(info.successes, 6);
    EXPECT_EQ(info.failures, 2);
    trpt_report_info_clear(&info);
    trpt_report_info_clear(NULL);
}

TEST(damaged_or_foreign_files_are_refused)
{
    static const unsigned char not_gzip[32] = "{\"report-id\":\"x\"}";
    trpt_report_info info;
    trpt_buf gz;

    EXPECT_EQ(trpt_report_info_read(not_gzip, sizeof not_gzip, &info),
              -EBADMSG);
    EXPECT(info.report_id == NULL);
    EXPECT_EQ(read_text("[]", &info), -EBADMSG);
    EXPECT_EQ(read_text("{\"report-id\":\"x\"}", &info), -EBADMSG);
    EXPECT_EQ(read_text("{\"report-id\":\"x\",\"policies\":[]}", &info),
              -EBADMSG);
    EXPECT_EQ(read_text("{\"report-id\":\"x\",\"policies\":[{\"policy\":{},"
                        "\"summary\":{}}]}",
                        &info),
              -EBADMSG);
    EXPECT_EQ(read_text("{\"report-id\":\"x\",\"policies\":[{\"policy\":{"
                        "\"policy-domain\":\"d\"},\"summary\":{\"total-"
                        "successful-session-count\":-1,\"total-failure-"
                        "session-count\":0}}]}",
                        &info),
              -EBADMSG);
    EXPECT_EQ(read_text("{\"report-id\":", &info), -EBADMSG);
    /* A report cut short: the gzip stream ends early. */
    trpt_buf_init(&gz);
    ASSERT(trpt_report_gzip(report, strlen(report), &gz) == 0);
    EXPECT_EQ(trpt_report_info_read(gz.data, gz.len / 2, &info), -EBADMSG);
    EXPECT(info.report_id == NULL);
    trpt_buf_free(&gz);
    EXPECT_EQ(trpt_report_info_read(NULL, 10, &info), -EINVAL);
}

TEST(deep_nesting_is_refused_not_recursed)
{
    char deep[4096];
    trpt_report_info info;
    size_t n = 0;

    n += (size_t)snprintf(deep, sizeof deep, "{\"report-id\":\"x\",\"p\":");
    for (int i = 0; i < 1000; i++)
        deep[n++] = '[';
    deep[n] = '\0';
    EXPECT_EQ(read_text(deep, &info), -EBADMSG);
}

static int read_file(const char *path, trpt_buf *out)
{
    FILE *f = fopen(path, "rb");
    char chunk[4096];
    size_t n;

    if (!f)
        return -1;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        trpt_buf_append(out, chunk, n);
    fclose(f);
    return 0;
}

TEST(split_gives_one_report_per_policy_with_its_own_id)
{
    const char *dir = test_tmpdir();
    const char *name = "s.test!valid.test!1795824000!1795910399!0a1b.json.gz";
    trpt_buf gz, part, again;
    trpt_report_info info;
    uint64_t s = 0, f = 0;
    size_t n = 0;
    char path[4400];

    trpt_buf_init(&gz);
    ASSERT(trpt_report_gzip(report, strlen(report), &gz) == 0);
    ASSERT(trpt_report_split(gz.data, gz.len, name, dir, &n) == 0);
    ASSERT(n == 2);
    for (size_t i = 1; i <= 2; i++) {
        char want[128];

        snprintf(path, sizeof path,
                 "%s/s.test!valid.test!1795824000!1795910399!0a1b-p%zu.json.gz",
                 dir, i);
        trpt_buf_init(&part);
        ASSERT(read_file(path, &part) == 0);
        ASSERT(trpt_report_info_read(part.data, part.len, &info) == 0);
        snprintf(want, sizeof want,
                 "2026-11-27T00:00:00Z_valid.test_0a1b2c3d-p%zu@s.test", i);
        EXPECT_STREQ(info.report_id, want);
        EXPECT_EQ(info.n_policies, 1);
        EXPECT_STREQ(info.policy_domain, "valid.test");
        s += info.successes;
        f += info.failures;
        trpt_report_info_clear(&info);
        trpt_buf_free(&part);
    }
    EXPECT_EQ(s, 6); /* nothing lost, nothing twice */
    EXPECT_EQ(f, 2);
    /* The same bytes again: a crash between split and its record is
     * harmless. */
    snprintf(path, sizeof path,
             "%s/s.test!valid.test!1795824000!1795910399!0a1b-p1.json.gz", dir);
    trpt_buf_init(&part);
    trpt_buf_init(&again);
    ASSERT(read_file(path, &part) == 0);
    ASSERT(trpt_report_split(gz.data, gz.len, name, dir, &n) == 0);
    ASSERT(read_file(path, &again) == 0);
    EXPECT(part.len == again.len &&
           memcmp(part.data, again.data, part.len) == 0);
    trpt_buf_free(&part);
    trpt_buf_free(&again);
    trpt_buf_free(&gz);
}

TEST(split_refuses_a_single_policy_report_and_bad_names)
{
    const char *one = "{\"report-id\":\"x@s\",\"policies\":[{\"policy\":{"
                      "\"policy-domain\":\"d\"},\"summary\":{\"total-"
                      "successful-session-count\":1,\"total-failure-"
                      "session-count\":0}}]}";
    trpt_buf gz;
    size_t n = 9;

    trpt_buf_init(&gz);
    ASSERT(trpt_report_gzip(one, strlen(one), &gz) == 0);
    EXPECT_EQ(trpt_report_split(gz.data, gz.len, "s!d!1!2!x.json.gz",
                                test_tmpdir(), &n),
              -EINVAL);
    EXPECT_EQ(n, 0);
    EXPECT_EQ(
        trpt_report_split(gz.data, gz.len, "../x.json.gz", test_tmpdir(), &n),
        -EINVAL);
    EXPECT_EQ(
        trpt_report_split(gz.data, gz.len, "s!d!1!2!x.json", test_tmpdir(), &n),
        -EINVAL);
    EXPECT_EQ(
        trpt_report_split(gz.data, 5, "s!d!1!2!x.json.gz", test_tmpdir(), &n),
        -EBADMSG);
    trpt_buf_free(&gz);
}
