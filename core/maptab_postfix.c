/* maptab_postfix.c - Postfix certificate verification failures -> RFC 8460
 * result (§4.3). The text is what follows "[server ]certificate verification
 * failed for HOST[IP]:PORT: ". Verdicts follow Postfix 3.10's own TLSRPT
 * output (shared/corpus/postfix-3.10-tlsrpt, datagrams.ndjson) where it was
 * observed; the example is the corpus line each row came from. Texts not
 * listed here become validation-failure (postfix.c). */
#include "maptab.h"

#include <stddef.h>

const trpt_maprow trpt_maptab_postfix_verify[] = {
    {"certificate has expired", 1, TRPT_RESULT_CERTIFICATE_EXPIRED, NULL,
     TRPT_POLICY_UNKNOWN,
     "Nov 28 11:56:49 sender postfix/smtp[15407]: server certificate "
     "verification failed for mx.expired.test[127.0.31.12]:25: certificate "
     "has expired"},
    {"num=62:hostname mismatch", 1, TRPT_RESULT_CERTIFICATE_HOST_MISMATCH, NULL,
     TRPT_POLICY_UNKNOWN,
     "Nov 28 11:56:52 sender postfix/smtp[15407]: server certificate "
     "verification failed for mx.wronghost.test[127.0.31.13]:25: "
     "num=62:hostname mismatch"},
    /* Postfix 3.10 reports a DANE mismatch as certificate-not-trusted
     * (danebad.test, c=203, policy-type 1), not tlsa-invalid. */
    {"num=65:no matching DANE TLSA records", 1,
     TRPT_RESULT_CERTIFICATE_NOT_TRUSTED, NULL, TRPT_POLICY_TLSA,
     "Nov 28 11:57:20 sender postfix/smtp[15407]: server certificate "
     "verification failed for mx.danebad.test[127.0.31.11]:25: "
     "num=65:no matching DANE TLSA records"},
    /* Postfix 3.10 reports self-signed as validation-failure with
     * f=self-signed_certificate (selfsigned.test, c=205). */
    {"self-signed certificate", 1, TRPT_RESULT_VALIDATION_FAILURE,
     "self-signed_certificate", TRPT_POLICY_UNKNOWN,
     "Nov 28 11:56:55 sender postfix/smtp[15407]: certificate verification "
     "failed for mx.selfsigned.test[127.0.31.14]:25: self-signed "
     "certificate"},
    /* Not observed with Postfix 3.10. It is the same family of chain
     * failures as self-signed, which 3.10 reports as validation-failure
     * with OpenSSL's reason; the log does not say which OpenSSL error it
     * was, so the reason is Postfix's own wording, written as a token. */
    {"untrusted issuer ", 1, TRPT_RESULT_VALIDATION_FAILURE, "untrusted_issuer",
     TRPT_POLICY_UNKNOWN,
     "Nov 28 11:45:40 mta-out postfix/smtp[2066]: certificate verification "
     "failed for mx.example-untrusted.test[127.0.77.15]:25: untrusted "
     "issuer /O=Rogue/CN=Rogue Unknown CA"},
    /* MTA-STS failures passed in through smtp_tls_policy_maps
     * policy_failure= (Postfix 3.10 TLSRPT_README): policy type sts. */
    {"external policy failure (sts-webpki-invalid)", 1,
     TRPT_RESULT_STS_WEBPKI_INVALID, NULL, TRPT_POLICY_STS,
     "Nov 28 11:57:38 sender postfix/smtp[15407]: certificate verification "
     "failed for mx.stsfail.test[127.0.31.11]:25: external policy failure "
     "(sts-webpki-invalid)"},
    {"external policy failure (sts-policy-fetch-error)", 1,
     TRPT_RESULT_STS_POLICY_FETCH_ERROR, NULL, TRPT_POLICY_STS,
     "Nov 28 11:57:41 sender postfix/smtp[15407]: certificate verification "
     "failed for mx.stsfetch.test[127.0.31.11]:25: external policy failure "
     "(sts-policy-fetch-error)"},
    {"external policy failure (sts-policy-invalid)", 1,
     TRPT_RESULT_STS_POLICY_INVALID, NULL, TRPT_POLICY_STS,
     "Nov 28 11:57:44 sender postfix/smtp[15407]: certificate verification "
     "failed for mx.stsinval.test[127.0.31.11]:25: external policy failure "
     "(sts-policy-invalid)"},
    {NULL, 0, TRPT_RESULT_SUCCESS, NULL, TRPT_POLICY_UNKNOWN, NULL},
};
