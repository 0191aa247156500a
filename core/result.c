/* result.c - RFC 8460 result and policy type tables; see result.h. */
#include "result.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* RFC 8460 §4.3 names; codes as libtlsrpt sends them in a datagram's "c"
 * (shared/corpus/postfix-3.10-tlsrpt/README.md). */
static const struct {
    const char *name;
    int code;
} result_table[TRPT_RESULT_COUNT] = {
    [TRPT_RESULT_SUCCESS] = {"success", 0},
    [TRPT_RESULT_STARTTLS_NOT_SUPPORTED] = {"starttls-not-supported", 201},
    [TRPT_RESULT_CERTIFICATE_HOST_MISMATCH] = {"certificate-host-mismatch",
                                               202},
    [TRPT_RESULT_CERTIFICATE_NOT_TRUSTED] = {"certificate-not-trusted", 203},
    [TRPT_RESULT_CERTIFICATE_EXPIRED] = {"certificate-expired", 204},
    [TRPT_RESULT_VALIDATION_FAILURE] = {"validation-failure", 205},
    [TRPT_RESULT_STS_POLICY_FETCH_ERROR] = {"sts-policy-fetch-error", 301},
    [TRPT_RESULT_STS_POLICY_INVALID] = {"sts-policy-invalid", 302},
    [TRPT_RESULT_STS_WEBPKI_INVALID] = {"sts-webpki-invalid", 303},
    [TRPT_RESULT_TLSA_INVALID] = {"tlsa-invalid", 304},
    [TRPT_RESULT_DNSSEC_INVALID] = {"dnssec-invalid", 305},
    [TRPT_RESULT_DANE_REQUIRED] = {"dane-required", 306},
};

/* RFC 8460 §4.4 policy types; libtlsrpt codes 1, 2, 9. */
static const struct {
    const char *name;
    int code;
} policy_table[TRPT_POLICY_COUNT] = {
    [TRPT_POLICY_UNKNOWN] = {"unknown", 0},
    [TRPT_POLICY_TLSA] = {"tlsa", 1},
    [TRPT_POLICY_STS] = {"sts", 2},
    [TRPT_POLICY_NONE] = {"no-policy-found", 9},
};

const char *trpt_result_name(trpt_result r)
{
    if ((unsigned)r >= TRPT_RESULT_COUNT)
        return "unknown";
    return result_table[r].name;
}

/* Accepts the RFC form and Postfix's log form, which writes '_' for '-'. */
int trpt_result_from_name(const char *s, trpt_result *out)
{
    for (int i = 0; i < TRPT_RESULT_COUNT; i++) {
        const char *n = result_table[i].name;
        size_t k = 0;

        for (; n[k] && s[k]; k++) {
            char c = s[k] == '_' ? '-' : s[k];
            if (c != n[k])
                break;
        }
        if (!n[k] && !s[k]) {
            *out = (trpt_result)i;
            return 0;
        }
    }
    return -EINVAL;
}

int trpt_result_from_code(int code, trpt_result *out)
{
    if (code == 0)
        return -EINVAL; /* success is the datagram's "f", not a code */
    for (int i = 1; i < TRPT_RESULT_COUNT; i++) {
        if (result_table[i].code == code) {
            *out = (trpt_result)i;
            return 0;
        }
    }
    return -EINVAL;
}

int trpt_result_code(trpt_result r)
{
    if ((unsigned)r >= TRPT_RESULT_COUNT)
        return -1;
    return result_table[r].code;
}

const char *trpt_policy_type_name(trpt_policy_type t)
{
    if ((unsigned)t >= TRPT_POLICY_COUNT)
        return "unknown";
    return policy_table[t].name;
}

int trpt_policy_type_from_name(const char *s, trpt_policy_type *out)
{
    for (int i = 1; i < TRPT_POLICY_COUNT; i++) {
        if (strcmp(s, policy_table[i].name) == 0) {
            *out = (trpt_policy_type)i;
            return 0;
        }
    }
    return -EINVAL;
}

int trpt_policy_type_from_code(int code, trpt_policy_type *out)
{
    for (int i = 1; i < TRPT_POLICY_COUNT; i++) {
        if (policy_table[i].code == code) {
            *out = (trpt_policy_type)i;
            return 0;
        }
    }
    return -EINVAL;
}
