/*
 * dkim.h - DKIM signatures (RFC 6376) for report mail, with OpenSSL 3.
 *
 * RFC 8460 §5.3: report mail MUST be DKIM-signed by the submitter's domain,
 * and the TLS-Report-Domain and TLS-Report-Submitter headers are signed.
 * Signatures are rsa-sha256 (RFC 6376 §3.3.1) or ed25519-sha256 (RFC 8463),
 * always c=relaxed/relaxed (§3.4.2, §3.4.4), never l= (a length limit would
 * let anyone append to the body).
 *
 * trpt_dkim_load_key()     a private key from PEM text (starts with
 *                          "-----BEGIN") or from a PEM file path; RSA of
 *                          1024..8192 bits (2048 recommended) or Ed25519;
 *                          encrypted keys are refused, never prompted for
 * trpt_dkim_key_free()     NULL ok
 * trpt_dkim_key_algorithm() "rsa-sha256" or "ed25519-sha256"
 * trpt_dkim_public_txt()   the DNS TXT value for <selector>._domainkey.<d>:
 *                          "v=DKIM1; k=rsa|ed25519; s=tlsrpt; p=<base64>"
 *                          (RFC 8460 §5.3: s=tlsrpt marks a key for
 *                          reports; RSA p= is the SubjectPublicKeyInfo
 *                          DER, Ed25519 p= the raw 32-byte key, RFC 8463)
 * trpt_dkim_sign()         the "DKIM-Signature: ...\r\n" header field for
 *                          msg (a whole CRLF message: headers, empty line,
 *                          body), folded at <= 78 columns; the caller
 *                          prepends it to msg. headers_to_sign is a NULL-
 *                          terminated list of field names, NULL for
 *                          trpt_dkim_report_headers. Each listed name is
 *                          signed once per instance present plus once more
 *                          ("oversigning", §8.15): an instance added later,
 *                          e.g. a second From:, breaks the signature.
 * trpt_dkim_canon_header() relaxed canonical form of one header field
 *                          (name ':' value, folded or not, without its
 *                          final CRLF), appended to out with CRLF (§3.4.2)
 * trpt_dkim_canon_body()   relaxed canonical form of a body (§3.4.4); a
 *                          last line without CRLF loses its trailing WSP
 *                          and gains a CRLF (the signer refuses such
 *                          bodies: verifiers differ on them)
 *
 * trpt_dkim_report_headers: From, To, Subject, Date, Message-ID,
 * MIME-Version, Content-Type, TLS-Report-Domain, TLS-Report-Submitter.
 * TLS-Required and Auto-Submitted stay unsigned: they steer delivery, not
 * what the report says, and a relay that rewrote them would void it.
 *
 * Errors: -EINVAL bad input (a message with bare CR or LF, NUL bytes, no
 * header/body separator, a header line without ':', a body whose last
 * line lacks its CRLF, not exactly one From:, a header list without From;
 * a domain or selector that is not a DNS name; a key that is not PEM),
 * -EOPNOTSUPP a key type or size we do not sign with, -EFBIG a key file
 * over 64 KiB, -ENOMEM, -EIO an OpenSSL failure, or the errno of opening
 * the key file.
 */
#ifndef TRPT_DKIM_H
#define TRPT_DKIM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct trpt_dkim_key trpt_dkim_key;

/* The headers a report mail signs: RFC 8460 §5.3 plus what a receiver
 * displays or parses. */
extern const char *const trpt_dkim_report_headers[];

int trpt_dkim_load_key(const char *path_or_pem, trpt_dkim_key **out);
void trpt_dkim_key_free(trpt_dkim_key *k);
const char *trpt_dkim_key_algorithm(const trpt_dkim_key *k);
int trpt_dkim_public_txt(const trpt_dkim_key *k, trpt_buf *out);

int trpt_dkim_sign(const trpt_dkim_key *k, const char *domain,
                   const char *selector, const char *const *headers_to_sign,
                   const char *msg, size_t len, int64_t timestamp,
                   trpt_buf *out_header);

int trpt_dkim_canon_header(const char *field, size_t len, trpt_buf *out);
int trpt_dkim_canon_body(const char *body, size_t len, trpt_buf *out);

#endif
