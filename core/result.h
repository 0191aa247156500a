/*
 * result.h - RFC 8460 result types and policy types, and their names.
 *
 * trpt_result_name()        enum -> RFC 8460 string ("certificate-expired")
 * trpt_result_from_name()   RFC string, or Postfix's underscore form
 *                           ("certificate_expired"), -> enum; -EINVAL if
 * unknown trpt_result_from_code()   libtlsrpt failure code 201..306 -> enum
 * trpt_result_code()        enum -> libtlsrpt code (0 for success)
 * trpt_policy_type_name()   enum -> "sts" | "tlsa" | "no-policy-found"
 * trpt_policy_type_from_name(), trpt_policy_type_from_code() (1, 2, 9)
 *
 * The tables live in result.c, one row per value, with the RFC section or the
 * corpus line each row came from.
 */
#ifndef TRPT_RESULT_H
#define TRPT_RESULT_H

typedef enum trpt_result {
    TRPT_RESULT_SUCCESS = 0,
    TRPT_RESULT_STARTTLS_NOT_SUPPORTED,
    TRPT_RESULT_CERTIFICATE_HOST_MISMATCH,
    TRPT_RESULT_CERTIFICATE_EXPIRED,
    TRPT_RESULT_CERTIFICATE_NOT_TRUSTED,
    TRPT_RESULT_VALIDATION_FAILURE,
    TRPT_RESULT_TLSA_INVALID,
    TRPT_RESULT_DNSSEC_INVALID,
    TRPT_RESULT_DANE_REQUIRED,
    TRPT_RESULT_STS_POLICY_FETCH_ERROR,
    TRPT_RESULT_STS_POLICY_INVALID,
    TRPT_RESULT_STS_WEBPKI_INVALID,
    TRPT_RESULT_COUNT
} trpt_result;

/* Policy type as known to whoever made the record. UNKNOWN means the MTA's
 * output did not say; the aggregator resolves it (policy hints, later DNS)
 * and falls back to no-policy-found. */
typedef enum trpt_policy_type {
    TRPT_POLICY_UNKNOWN = 0,
    TRPT_POLICY_STS,
    TRPT_POLICY_TLSA,
    TRPT_POLICY_NONE, /* "no-policy-found" */
    TRPT_POLICY_COUNT
} trpt_policy_type;

const char *trpt_result_name(trpt_result r);
int trpt_result_from_name(const char *s, trpt_result *out);
int trpt_result_from_code(int code, trpt_result *out);
int trpt_result_code(trpt_result r);

const char *trpt_policy_type_name(trpt_policy_type t);
int trpt_policy_type_from_name(const char *s, trpt_policy_type *out);
int trpt_policy_type_from_code(int code, trpt_policy_type *out);

#endif
