/* test_result.c - RFC 8460 result and policy type tables (core/result.h),
 * checked against RFC 8460 §4.3/§4.4 and Postfix 3.10's own output. */
#include <errno.h>

#include "harness.h"
#include "result.h"

/* libtlsrpt's failure codes and the RFC 8460 §4.3 names they stand for
 * (shared/notes/rfc8460.md). */
static const struct {
    int code;
    const char *name;
    trpt_result result;
} rfc_codes[] = {
    {201, "starttls-not-supported", TRPT_RESULT_STARTTLS_NOT_SUPPORTED},
    {202, "certificate-host-mismatch", TRPT_RESULT_CERTIFICATE_HOST_MISMATCH},
    {203, "certificate-not-trusted", TRPT_RESULT_CERTIFICATE_NOT_TRUSTED},
    {204, "certificate-expired", TRPT_RESULT_CERTIFICATE_EXPIRED},
    {205, "validation-failure", TRPT_RESULT_VALIDATION_FAILURE},
    {301, "sts-policy-fetch-error", TRPT_RESULT_STS_POLICY_FETCH_ERROR},
    {302, "sts-policy-invalid", TRPT_RESULT_STS_POLICY_INVALID},
    {303, "sts-webpki-invalid", TRPT_RESULT_STS_WEBPKI_INVALID},
    {304, "tlsa-invalid", TRPT_RESULT_TLSA_INVALID},
    {305, "dnssec-invalid", TRPT_RESULT_DNSSEC_INVALID},
    {306, "dane-required", TRPT_RESULT_DANE_REQUIRED},
};
#define N_CODES (sizeof rfc_codes / sizeof rfc_codes[0])

TEST(every_libtlsrpt_code_maps_to_its_rfc_name_and_back)
{
    for (size_t i = 0; i < N_CODES; i++) {
        trpt_result r = TRPT_RESULT_COUNT;

        EXPECT_EQ(trpt_result_from_code(rfc_codes[i].code, &r), 0);
        EXPECT_EQ(r, rfc_codes[i].result);
        EXPECT_STREQ(trpt_result_name(r), rfc_codes[i].name);
        EXPECT_EQ(trpt_result_code(r), rfc_codes[i].code);
        r = TRPT_RESULT_COUNT;
        EXPECT_EQ(trpt_result_from_name(rfc_codes[i].name, &r), 0);
        EXPECT_EQ(r, rfc_codes[i].result);
    }
    EXPECT_EQ(N_CODES + 1, TRPT_RESULT_COUNT); /* + success */
}

TEST(codes_between_and_around_the_table_are_refused)
{
    trpt_result r;
    int accepted = 0;

    for (int code = -1000; code <= 1000; code++) {
        int known =
            (code >= 201 && code <= 205) || (code >= 301 && code <= 306);

        if (trpt_result_from_code(code, &r) == 0) {
            accepted++;
            EXPECT(known);
        } else {
            EXPECT(!known);
        }
    }
    EXPECT_EQ(accepted, 11);
    EXPECT_EQ(trpt_result_from_code(0, &r), -EINVAL); /* success is no code */
    EXPECT_EQ(trpt_result_from_code(206, &r), -EINVAL);
    EXPECT_EQ(trpt_result_from_code(300, &r), -EINVAL);
    EXPECT_EQ(trpt_result_from_code(307, &r), -EINVAL);
}

TEST(success_is_named_success_and_has_code_zero)
{
    trpt_result r = TRPT_RESULT_COUNT;

    EXPECT_STREQ(trpt_result_name(TRPT_RESULT_SUCCESS), "success");
    EXPECT_EQ(trpt_result_code(TRPT_RESULT_SUCCESS), 0);
    EXPECT_EQ(trpt_result_from_name("success", &r), 0);
    EXPECT_EQ(r, TRPT_RESULT_SUCCESS);
}

TEST(postfix_underscore_forms_parse_to_the_same_result)
{
    char buf[64];

    for (size_t i = 0; i < N_CODES; i++) {
        trpt_result r = TRPT_RESULT_COUNT;

        snprintf(buf, sizeof buf, "%s", rfc_codes[i].name);
        for (char *p = buf; *p; p++)
            if (*p == '-')
                *p = '_';
        EXPECT_EQ(trpt_result_from_name(buf, &r), 0);
        EXPECT_EQ(r, rfc_codes[i].result);
    }
}

TEST(unknown_or_misspelt_result_names_are_refused)
{
    static const char *const bad[] = {
        "",
        "certificate",
        "certificate-expired-",
        "certificate-expiredx",
        "Certificate-Expired",
        "CERTIFICATE_EXPIRED",
        " certificate-expired",
        "certificate--expired",
        "failure",
        "unknown",
        "no-policy-found",
        "self-signed_certificate", /* a failure reason code, not a result */
    };
    trpt_result r;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT_EQ(trpt_result_from_name(bad[i], &r), -EINVAL);
}

TEST(out_of_range_enums_have_safe_names_and_codes)
{
    EXPECT_STREQ(trpt_result_name(TRPT_RESULT_COUNT), "unknown");
    EXPECT_STREQ(trpt_result_name((trpt_result)-1), "unknown");
    EXPECT_EQ(trpt_result_code(TRPT_RESULT_COUNT), -1);
    EXPECT_STREQ(trpt_policy_type_name(TRPT_POLICY_COUNT), "unknown");
    EXPECT_STREQ(trpt_policy_type_name((trpt_policy_type)-1), "unknown");
}

TEST(policy_types_map_rfc_names_and_libtlsrpt_codes)
{
    static const struct {
        int code;
        const char *name;
        trpt_policy_type type;
    } rows[] = {
        {1, "tlsa", TRPT_POLICY_TLSA},
        {2, "sts", TRPT_POLICY_STS},
        {9, "no-policy-found", TRPT_POLICY_NONE},
    };

    for (size_t i = 0; i < 3; i++) {
        trpt_policy_type t = TRPT_POLICY_COUNT;

        EXPECT_EQ(trpt_policy_type_from_code(rows[i].code, &t), 0);
        EXPECT_EQ(t, rows[i].type);
        EXPECT_STREQ(trpt_policy_type_name(t), rows[i].name);
        t = TRPT_POLICY_COUNT;
        EXPECT_EQ(trpt_policy_type_from_name(rows[i].name, &t), 0);
        EXPECT_EQ(t, rows[i].type);
    }
    EXPECT_STREQ(trpt_policy_type_name(TRPT_POLICY_UNKNOWN), "unknown");
}

TEST(unknown_policy_types_are_refused)
{
    static const char *const bad[] = {
        "", "unknown", "STS", "no_policy_found", "dane", "sts "};
    trpt_policy_type t;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT_EQ(trpt_policy_type_from_name(bad[i], &t), -EINVAL);
    for (int code = -5; code <= 20; code++)
        EXPECT_EQ(trpt_policy_type_from_code(code, &t) == 0,
                  code == 1 || code == 2 || code == 9);
}

/* Postfix 3.10 logs "TLSRPT: status=failure, ..., failure_type=X" and sends
 * a datagram with "c":CODE for the same handshake, line for line. */
static int next_failure_type(FILE *log, char *out, size_t outlen)
{
    char line[4096];

    while (fgets(line, sizeof line, log)) {
        const char *p = strstr(line, "TLSRPT: status=");
        const char *ft;
        size_t n;

        if (!p)
            continue;
        if (!(ft = strstr(p, "failure_type="))) {
            snprintf(out, outlen, "success");
            return 1;
        }
        ft += strlen("failure_type=");
        n = strcspn(ft, ", \n");
        snprintf(out, outlen, "%.*s", (int)n, ft);
        return 1;
    }
    return 0;
}

static int datagram_code(const char *line)
{
    const char *c = strstr(line, "\"c\":");

    return c ? atoi(c + 4) : 0;
}

TEST(postfix_log_failure_types_agree_with_its_datagram_codes)
{
    FILE *log =
        fopen(shared_path("corpus/postfix-3.10-tlsrpt/maillog.txt"), "r");
    FILE *dg =
        fopen(shared_path("corpus/postfix-3.10-tlsrpt/datagrams.ndjson"), "r");
    char type[128], line[8192];
    int pairs = 0, failures = 0;

    ASSERT(log && dg);
    while (next_failure_type(log, type, sizeof type)) {
        trpt_result by_name, by_code;
        int code;

        ASSERT(fgets(line, sizeof line, dg));
        EXPECT_EQ(trpt_result_from_name(type, &by_name), 0);
        code = datagram_code(line);
        if (code == 0) {
            EXPECT_EQ(by_name, TRPT_RESULT_SUCCESS);
        } else {
            EXPECT_EQ(trpt_result_from_code(code, &by_code), 0);
            EXPECT_EQ(by_name, by_code);
            failures++;
        }
        pairs++;
    }
    EXPECT(!fgets(line, sizeof line, dg)); /* 1:1 */
    EXPECT(pairs > 100);
    EXPECT(failures > 50);
    fclose(log);
    fclose(dg);
}
