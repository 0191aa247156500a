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
