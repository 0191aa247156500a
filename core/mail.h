/*
 * mail.h - the report mail of RFC 8460 §5.3 (RFC 5322 + MIME).
 *
 * trpt_report_mail_build() appends to out one complete message, CRLF line
 * ends, header lines folded at 78 columns where the grammar allows and
 * never longer than 998 (RFC 5322 §2.1.1):
 *
 *   From, To, Subject "Report Domain: <policy-domain> Submitter:
 *   <submitter> Report-ID: <<report-id>>" (RFC 8460 §5.3), Date (RFC 5322
 *   §3.3, always +0000), Message-ID, MIME-Version, Content-Type
 *   multipart/report; report-type="tlsrpt" (RFC 6522), TLS-Report-Domain,
 *   TLS-Report-Submitter, TLS-Required: No (RFC 8689 §5: a TLS problem must
 *   not stop the report about it), Auto-Submitted: auto-generated
 *   (RFC 3834 §5);
 *   part 1 text/plain, us-ascii: a short note on what this is;
 *   part 2 application/tlsrpt+gzip, base64 (76 columns, RFC 2045 §6.8),
 *   Content-Disposition: attachment; filename="<file_name>".
 *
 * The boundary is derived from the inputs (equal inputs give equal bytes)
 * and contains "=_", which base64 never does; it is checked against the
 * text part too.
 *
 * Input checks: every header input is printable ASCII without CR, LF or
 * NUL (header injection), domains are LDH names, addresses are plain
 * addr-specs (local@domain, no display names, no comments), the Report-ID
 * is "left@right" in printable ASCII without '<', '>' or space (the §5.3
 * Subject grammar; RFC 5322's dot-atom is not enforced), the file name
 * has no '"', backslash, '/' or space and reads
 * "<submitter>!<policy_domain>!...json.gz", the gzip bytes start with the
 * gzip magic; text is ASCII (TAB and LF allowed, LF becomes CRLF) with
 * lines of at most 998 octets. Anything else: -EINVAL, and out is left as
 * it was. -ENOMEM on allocation failure, or the errno of getrandom().
 *
 * Privacy: the mail carries the report and the names above, nothing from
 * the logs.
 */
#ifndef TRPT_MAIL_H
#define TRPT_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct trpt_report_mail {
    const char *from;          /* our report mailbox, "tlsrpt@submitter" */
    const char *const *to;     /* NULL-terminated, >= 1 (the rua mailto:s) */
    const char *policy_domain; /* the report's policy domain */
    const char *submitter;     /* the submitter's domain */
    const char *report_id;     /* the report's report-id, without <> */
    const char *file_name;     /* §5.3 "sub!dom!begin!end[!uid].json.gz" */
    const void *gzip;          /* the report, gzip-compressed */
    size_t gzip_len;
    int64_t date;             /* Date:, seconds since the epoch */
    const char *msgid_unique; /* Message-ID left part; NULL: random */
    const char *msgid_domain; /* Message-ID right part; NULL: submitter */
    const char *text;         /* the human-readable part; NULL: default */
} trpt_report_mail;

int trpt_report_mail_build(const trpt_report_mail *m, trpt_buf *out);

#endif
