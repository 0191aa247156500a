/* maptab_exim.c - Exim 4.9x error texts -> RFC 8460 section 4.3 result
 * types; see maptab.h. exim.c looks rows up in the error text of a
 * delivery line ("== addr ... defer (-37) H=mx [ip]:25: <error text>").
 *
 * Order matters: the first matching row wins, so the specific
 * "(certificate verification failed): <suffix>" rows come before the bare
 * one. Examples are lines of corpus/postfix-3.7-exim-4.96 (Exim 4.96,
 * Debian build with GnuTLS); the scenario number is the exim/NN-*.log file.
 *
 * Verdicts follow Postfix 3.10's own TLSRPT datagrams where a case exists
 * there (docs/design.md), else the RFC 8460 definition:
 *   - GnuTLS says only "certificate invalid" for expired, self-signed and
 *     unknown-CA certificates (scenarios 03, 07, 08 all log the same line),
 *     so the type cannot be told: validation-failure (the RFC's "general
 *     failure"), failure-reason-code "certificate-invalid", as Postfix
 *     reports self-signed (validation-failure, self-signed_certificate).
 *   - a bare "(certificate verification failed)" is Exim's
 *     tls_verify_cert_hostnames failing after the chain verified (05, 06).
 *   - a DANE mismatch is certificate-not-trusted for policy tlsa, as
 *     Postfix 3.10 reports danebad.test (203, policy-type 1).
 *   - "tlsa lookup FAIL" under hosts_require_dane: the MX has no
 *     DNSSEC-validated TLSA records although DANE is required, which is the
 *     RFC 8460 section 4.3.2.2 definition of dane-required (Postfix 3.10
 *     makes no connection and reports nothing in that case).
 *   - "tlsa lookup DEFER": the TLSA RRset did not validate (17).
 */
#include "maptab.h"

const trpt_maprow trpt_maptab_exim[] = {
    {"(certificate verification failed): Verification failed. The "
     "certificate differs.",
     0, TRPT_RESULT_CERTIFICATE_NOT_TRUSTED, NULL, TRPT_POLICY_TLSA,
     "2026-11-28 11:48:35 [10370] 1xXGux-0002hB-05 == "
     "postmaster@example-dane-bad.test R=dnslookup T=remote_dane defer (-37) "
     "H=mx.example-dane-bad.test [127.0.77.21]:25: TLS session: (certificate "
     "verification failed): Verification failed. The certificate differs. "},
    {"(certificate verification failed): certificate invalid", 0,
     TRPT_RESULT_VALIDATION_FAILURE, "certificate-invalid", TRPT_POLICY_UNKNOWN,
     "2026-11-28 11:48:34 [10286] 1xXGuw-0002fp-1F == "
     "postmaster@example-expired.test R=dnslookup T=remote_verify defer (-37) "
     "H=mx.example-expired.test [127.0.77.11]:25: TLS session: (certificate "
     "verification failed): certificate invalid"},
    /* Other GnuTLS status texts after the colon: still a chain failure. */
    {"(certificate verification failed): ", 0, TRPT_RESULT_VALIDATION_FAILURE,
     NULL, TRPT_POLICY_UNKNOWN,
     "2026-11-28 11:48:34 [10320] 1xXGuw-0002gN-1y == "
     "postmaster@example-selfsigned.test R=dnslookup T=remote_verify defer "
     "(-37) H=mx.example-selfsigned.test [127.0.77.13]:25: TLS session: "
     "(certificate verification failed): certificate invalid"},
    {"(certificate verification failed)", 0,
     TRPT_RESULT_CERTIFICATE_HOST_MISMATCH, NULL, TRPT_POLICY_UNKNOWN,
     "2026-11-28 11:48:34 [10303] 1xXGuw-0002g6-1c == "
     "postmaster@example-mismatch.test R=dnslookup T=remote_verify defer (-37) "
     "H=mx.example-mismatch.test [127.0.77.12]:25: TLS session: (certificate "
     "verification failed)"},
    {"a TLS session is required, but the server did not offer TLS support", 0,
     TRPT_RESULT_STARTTLS_NOT_SUPPORTED, NULL, TRPT_POLICY_UNKNOWN,
     "2026-11-28 11:48:34 [10346] 1xXGuw-0002gn-2c == "
     "postmaster@example-nostarttls.test R=dnslookup T=remote_encrypt defer "
     "(-38) H=mx.example-nostarttls.test [127.0.77.14]:25: a TLS session is "
     "required, but the server did not offer TLS support"},
    {"DANE error: tlsa lookup DEFER", 0, TRPT_RESULT_DNSSEC_INVALID, NULL,
     TRPT_POLICY_TLSA,
     "2026-11-28 11:48:35 [10411] 1xXGux-0002hp-16 "
     "H=mx.example-dane-bogustlsa.test [127.0.77.24]:25: DANE error: tlsa "
     "lookup DEFER"},
    {"DANE error: tlsa lookup FAIL", 0, TRPT_RESULT_DANE_REQUIRED, NULL,
     TRPT_POLICY_TLSA,
     "2026-11-28 11:48:35 [10379] 1xXGux-0002hK-0L ** "
     "postmaster@example-dane-notlsa.test R=dnslookup T=remote_dane: DANE "
     "error: tlsa lookup FAIL"},
    /* Any other failed TLS session on a delivery (handshake errors, the
     * OpenSSL build's "(SSL_connect): ..."): a TLS failure of no listed
     * kind, RFC 8460 section 4.3.2.1 validation-failure. */
    {"TLS session: ", 0, TRPT_RESULT_VALIDATION_FAILURE, NULL,
     TRPT_POLICY_UNKNOWN,
     "2026-11-28 11:48:34 [10303] 1xXGuw-0002g6-1c == "
     "postmaster@example-mismatch.test R=dnslookup T=remote_verify defer (-37) "
     "H=mx.example-mismatch.test [127.0.77.12]:25: TLS session: (certificate "
     "verification failed)"},
    {NULL, 0, TRPT_RESULT_SUCCESS, NULL, TRPT_POLICY_UNKNOWN, NULL},
};
