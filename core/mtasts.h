/*
 * mtasts.h - MTA-STS (RFC 8461) as far as a TLSRPT report needs it: the
 * "_mta-sts" TXT record (§3.1), the policy file (§3.2) and MX host pattern
 * matching (§4.1). Pure parsing: the caller does DNS and HTTPS.
 *
 * For the report (RFC 8460 §4.3, policy-type "sts"): policy_strings are
 * the policy file's lines in file order, each written "key: value", and
 * mx holds the mx patterns for "mx-host". docs/delivery-parsing.md states
 * every decision with its RFC reference.
 *
 * trpt_mtasts_txt_parse()        select the one "v=STSv1" record of an
 *                                RRset and parse it (its id)
 * trpt_mtasts_txt_parse_rdata()  the same from wire RDATA (tlsrpt_txt.h)
 * trpt_mtasts_txt_record_parse() parse one record text (already selected)
 * trpt_mtasts_txt_free()         NULL ok
 * trpt_mtasts_policy_parse()     parse a policy file body
 * trpt_mtasts_policy_free()      NULL ok
 * trpt_mtasts_mx_match()         1 if an MX host name matches a pattern
 * trpt_mtasts_policy_mx_match()  1 if it matches any mx of a policy
 *
 * Errors (negative errno), with a message in err (may be NULL):
 *   -ENOENT, -EEXIST   no / several TXT records begin with "v=STSv1"
 *   -EMSGSIZE          record text over TRPT_TXT_MAX, policy body over
 *                      TRPT_MTASTS_POLICY_MAX
 *   -EINVAL            does not match the grammar, a required field is
 *                      missing, a value is out of range; bad arguments
 *   -ENOMEM
 * An -EINVAL policy is what RFC 8460 §4.3 calls sts-policy-invalid.
 */
#ifndef TRPT_MTASTS_H
#define TRPT_MTASTS_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "tlsrpt_txt.h"

#define TRPT_MTASTS_VERSION    "v=STSv1" /* RFC 8461 §3.1, case-sensitive */
#define TRPT_MTASTS_ID_MAX     32        /* sts-id = 1*32(ALPHA / DIGIT) */
#define TRPT_MTASTS_POLICY_MAX 65536     /* body size limit (§3.3: 64 KiB) */
#define TRPT_MTASTS_MAX_AGE    31557600  /* §3.2: max_age maximum */
#define TRPT_MTASTS_MAX_MX     256       /* distinct mx patterns kept */

typedef struct trpt_mtasts_txt {
    char *record; /* the record text (strings joined) */
    char id[TRPT_MTASTS_ID_MAX + 1];
    size_t n_extensions; /* unknown fields, ignored */
} trpt_mtasts_txt;

typedef enum trpt_mtasts_mode {
    TRPT_MTASTS_MODE_NONE = 1,
    TRPT_MTASTS_MODE_TESTING,
    TRPT_MTASTS_MODE_ENFORCE,
} trpt_mtasts_mode;

typedef struct trpt_mtasts_policy {
    trpt_mtasts_mode mode;
    uint32_t max_age;         /* seconds, at most TRPT_MTASTS_MAX_AGE */
    int max_age_clamped;      /* 1: the file said more; it was lowered */
    trpt_strv mx;             /* patterns: lower case, no final dot, unique */
    trpt_strv policy_strings; /* "key: value" per line, file order */
    size_t n_extensions;      /* lines with unknown keys (kept as strings) */
} trpt_mtasts_policy;

int trpt_mtasts_txt_parse(const trpt_txt_rr *rrs, size_t n,
                          trpt_mtasts_txt **out, char *err, size_t errlen);
int trpt_mtasts_txt_parse_rdata(const trpt_txt_string *rdata, size_t n,
                                trpt_mtasts_txt **out, char *err,
                                size_t errlen);
int trpt_mtasts_txt_record_parse(const char *text, size_t len,
                                 trpt_mtasts_txt **out, char *err,
                                 size_t errlen);
void trpt_mtasts_txt_free(trpt_mtasts_txt *t);

int trpt_mtasts_policy_parse(const char *body, size_t len,
                             trpt_mtasts_policy **out, char *err,
                             size_t errlen);
void trpt_mtasts_policy_free(trpt_mtasts_policy *p);

/* RFC 8461 §4.1: "mx.example.com" matches only itself; "*.example.com"
 * matches a host with exactly one more left-most label ("a.example.com",
 * not "example.com" nor "a.b.example.com"). ASCII case is ignored, a
 * final dot on either side is ignored. NUL-terminated strings; NULL or
 * empty never matches. */
int trpt_mtasts_mx_match(const char *pattern, const char *host);
int trpt_mtasts_policy_mx_match(const trpt_mtasts_policy *p, const char *host);

#endif
