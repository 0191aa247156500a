/* mail.c - the RFC 8460 §5.3 report mail; see mail.h. */
#include "mail.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/evp.h>

enum {
    FOLD_COLUMN = 78,      /* RFC 5322 §2.1.1 SHOULD */
    LINE_MAX_OCTETS = 998, /* RFC 5322 §2.1.1 MUST */
    B64_IN = 57,           /* 57 octets -> 76 base64 chars (RFC 2045 §6.8) */
    DOMAIN_MAX = 253,
    ADDRESS_MAX = 254, /* RFC 5321 §4.5.3.1.3 path minus <> */
    REPORT_ID_MAX = 512,
    FILE_NAME_MAX = 900, /* keeps filename="..." under 998 */
    MSGID_UNIQUE_MAX = 128,
    MAX_RECIPIENTS = 64,
    BOUNDARY_TRIES = 64
};

#define GZIP_MAX ((size_t)256 << 20) /* a day's report is far smaller */

static const char default_text_fmt[] =
    "This is an SMTP TLS report (RFC 8460), generated automatically.\n"
    "\n"
    "Submitter: %s\n"
    "Policy domain: %s\n"
    "Report-ID: <%s>\n"
    "\n"
    "The report is the attached gzip-compressed JSON file.\n";

/* ---- input checks: nothing reaches a header unless it is plain ---- */

static int is_ldh(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-';
}

/* A domain as it appears in DNS: labels of LDH (and '_', seen in the
 * wild) separated by single dots. A-labels only: no raw UTF-8. */
static int is_domain(const char *s)
{
    size_t label = 0, n = 0;

    for (; s[n]; n++) {
        if (s[n] == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if ((is_ldh(s[n]) || s[n] == '_') && ++label <= 63) {
            continue;
        } else {
            return 0;
        }
    }
    return label > 0 && n <= DOMAIN_MAX;
}

/* RFC 5322 §3.2.3 atext. */
static int is_atext(char c)
{
    return is_ldh(c) || (c && strchr("!#$%&'*+/=?^_`{|}~", c));
}

/* dot-atom-text: atext runs separated by single dots. */
static int is_dot_atom(const char *s, size_t n)
{
    if (n == 0 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(is_atext(s[i]) || (s[i] == '.' && s[i + 1] != '.')))
            return 0;
    return 1;
}

/* A plain addr-spec: dot-atom "@" domain, no quoting, no display name. */
static int is_address(const char *s)
{
    const char *at = s ? strrchr(s, '@') : NULL;

    if (!at || strlen(s) > ADDRESS_MAX)
        return 0;
    return is_dot_atom(s, (size_t)(at - s)) && is_domain(at + 1);
}

/* Printable ASCII, no SP (RFC 5322 VCHAR), none of reject, 1..max. */
static int is_vchar_token(const char *s, size_t max, const char *reject)
{
    size_t n = 0;

    if (!s)
        return 0;
    for (; s[n]; n++)
        if (s[n] < 0x21 || s[n] > 0x7e || strchr(reject, s[n]) || n >= max)
            return 0;
    return n > 0;
}

static int is_gzip(const void *p, size_t n)
{
    const unsigned char *b = p;

    return p && n >= 18 && n <= GZIP_MAX && b[0] == 0x1f && b[1] == 0x8b;
}

static int check_recipients(const char *const *to)
{
    size_t n = 0;

    if (!to)
        return 0;
    for (; to[n]; n++)
        if (n >= MAX_RECIPIENTS || !is_address(to[n]))
            return 0;
    return n > 0;
}

/* RFC 8460 §5.3 puts it in the Subject as "<" id-left "@" id-right ">". */
static int is_report_id(const char *id)
{
    const char *at;

    if (!is_vchar_token(id, REPORT_ID_MAX, "<>"))
        return 0;
    at = strrchr(id, '@');
    return at && at != id && at[1] != '\0';
}

/* RFC 8460 §5.3: "submitter!policy-domain!begin!end[!unique].json.gz"
 * for a gzip body; a name of another report or type is a caller bug. */
static int is_report_file_name(const trpt_report_mail *m)
{
    static const char ext[] = ".json.gz";
    const char *f = m->file_name;
    size_t sl = strlen(m->submitter), dl = strlen(m->policy_domain);
    size_t n;

    if (!is_vchar_token(f, FILE_NAME_MAX, "\"\\/"))
        return 0;
    n = strlen(f);
    return n > sl + dl + 2 + sizeof ext - 1 &&
           strncmp(f, m->submitter, sl) == 0 && f[sl] == '!' &&
           strncmp(f + sl + 1, m->policy_domain, dl) == 0 &&
           f[sl + 1 + dl] == '!' && strcmp(f + n - (sizeof ext - 1), ext) == 0;
}

static int check_inputs(const trpt_report_mail *m)
{
    if (!is_address(m->from) || !check_recipients(m->to) || !m->policy_domain ||
        !is_domain(m->policy_domain) || !m->submitter ||
        !is_domain(m->submitter))
        return -EINVAL;
    if (!is_report_id(m->report_id) || !is_report_file_name(m))
        return -EINVAL;
    if (m->msgid_unique &&
        (strlen(m->msgid_unique) > MSGID_UNIQUE_MAX ||
         !is_dot_atom(m->msgid_unique, strlen(m->msgid_unique))))
        return -EINVAL;
    if (m->msgid_domain && !is_domain(m->msgid_domain))
        return -EINVAL;
    /* RFC 5322 §3.3 years are 4 digits: 1970 .. 9999-12-31. */
    if (m->date < 0 || m->date > 253402300799LL)
        return -EINVAL;
    return is_gzip(m->gzip, m->gzip_len) ? 0 : -EINVAL;
}

/* ---- the text part ---- */

/* ASCII text to CRLF lines: LF or CRLF ends a line, TAB is kept, any other
 * control octet, a bare CR, 8-bit data or a line over 998 octets is
 * refused (7bit, RFC 2045 §2.7). The text ends with a line break. */
static int text_to_crlf(const char *text, trpt_buf *out)
{
    size_t col = 0;
    int r;

    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char)*p;

        if (c == '\r' && p[1] == '\n')
            continue;
        if (c == '\n') {
            if ((r = trpt_buf_append(out, "\r\n", 2)) < 0)
                return r;
            col = 0;
            continue;
        }
        if ((c < 0x20 && c != '\t') || c > 0x7e || ++col > LINE_MAX_OCTETS)
            return -EINVAL;
        if ((r = trpt_buf_putc(out, (char)c)) < 0)
            return r;
    }
    if (col > 0)
        return trpt_buf_append(out, "\r\n", 2);
    return out->len ? 0 : -EINVAL;
}

static int make_text(const trpt_report_mail *m, trpt_buf *out)
{
    trpt_buf tmp;
    int r;

    if (m->text)
        return text_to_crlf(m->text, out);
    trpt_buf_init(&tmp);
    r = trpt_buf_printf(&tmp, default_text_fmt, m->submitter, m->policy_domain,
                        m->report_id);
    if (r == 0)
        r = text_to_crlf(tmp.data, out);
    trpt_buf_free(&tmp);
    return r;
}

/* ---- header fields ---- */

/* Appends "Name: value" CRLF, folding at spaces of value (RFC 5322
 * §2.2.3: a fold is CRLF before WSP, so unfolding gives value back). */
static int put_header(trpt_buf *out, const char *name, const char *value)
{
    size_t col = strlen(name) + 1;
    const char *p = value;
    int r;

    if ((r = trpt_buf_printf(out, "%s:", name)) < 0)
        return r;
    while (*p) {
        const char *sp = strchr(p + 1, ' ');
        size_t word = sp ? (size_t)(sp - p) : strlen(p);

        /* Each word after the first starts with its space; a lone space
         * is never folded, so no line holds only WSP (§3.2.2). */
        if (p != value && word > 1 && col + word > FOLD_COLUMN) {
            if ((r = trpt_buf_append(out, "\r\n", 2)) < 0)
                return r;
            col = 0;
        }
        if (p == value && (r = trpt_buf_putc(out, ' ')) < 0)
            return r;
        if ((r = trpt_buf_append(out, p, word)) < 0)
            return r;
        col += word + (p == value);
        p += word;
    }
    return trpt_buf_append(out, "\r\n", 2);
}

static const char *const wdays[] = {"Sun", "Mon", "Tue", "Wed",
                                    "Thu", "Fri", "Sat"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* RFC 5322 §3.3, in UTC and with English names whatever the locale. */
static int format_date(int64_t t, char out[40])
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (!gmtime_r(&tt, &tm))
        return -EINVAL;
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000",
             wdays[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return 0;
}

static int random_unique(char out[33])
{
    unsigned char rnd[16];
    ssize_t n = getrandom(rnd, sizeof rnd, 0);

    if (n != (ssize_t)sizeof rnd)
        return n < 0 ? -errno : -EIO;
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(out + 2 * i, 3, "%02x", rnd[i]);
    return 0;
}

static int put_recipients(trpt_buf *out, const char *const *to)
{
    trpt_buf list;
    int r = 0;

    trpt_buf_init(&list);
    for (size_t i = 0; to[i] && r == 0; i++)
        r = trpt_buf_printf(&list, "%s%s", i ? ", " : "", to[i]);
    if (r == 0)
        r = put_header(out, "To", list.data);
    trpt_buf_free(&list);
    return r;
}

static int put_message_id(trpt_buf *out, const trpt_report_mail *m)
{
    char rnd[33], value[MSGID_UNIQUE_MAX + DOMAIN_MAX + 8];
    const char *unique = m->msgid_unique;
    int r;

    if (!unique) {
        if ((r = random_unique(rnd)) < 0)
            return r;
        unique = rnd;
    }
    snprintf(value, sizeof value, "<%s@%s>", unique,
             m->msgid_domain ? m->msgid_domain : m->submitter);
    return put_header(out, "Message-ID", value);
}

/* RFC 8460 §5.3: "Report" "Domain:" domain "Submitter:" domain
 * "Report-ID:" "<" id ">", separated by FWS. */
static int put_subject(trpt_buf *out, const trpt_report_mail *m)
{
    trpt_buf s;
    int r;

    trpt_buf_init(&s);
    r = trpt_buf_printf(&s, "Report Domain: %s Submitter: %s Report-ID: <%s>",
                        m->policy_domain, m->submitter, m->report_id);
    if (r == 0)
        r = put_header(out, "Subject", s.data);
    trpt_buf_free(&s);
    return r;
}

static int put_top_headers(trpt_buf *out, const trpt_report_mail *m,
                           const char *boundary)
{
    char date[40], ctype[96];
    int r;

    if ((r = format_date(m->date, date)) < 0)
        return r;
    snprintf(ctype, sizeof ctype,
             "multipart/report; report-type=\"tlsrpt\"; boundary=\"%s\"",
             boundary);
    if ((r = put_header(out, "From", m->from)) < 0 ||
        (r = put_recipients(out, m->to)) < 0 || (r = put_subject(out, m)) < 0 ||
        (r = put_header(out, "Date", date)) < 0 ||
        (r = put_message_id(out, m)) < 0 ||
        (r = put_header(out, "MIME-Version", "1.0")) < 0 ||
        (r = put_header(out, "Content-Type", ctype)) < 0 ||
        (r = put_header(out, "TLS-Report-Domain", m->policy_domain)) < 0 ||
        (r = put_header(out, "TLS-Report-Submitter", m->submitter)) < 0 ||
        (r = put_header(out, "TLS-Required", "No")) < 0)
        return r;
    return put_header(out, "Auto-Submitted", "auto-generated");
}

/* ---- body ---- */

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* "=_" never occurs in base64 (RFC 2045 §6.8: '=' only pads the end), so
 * only the text part can collide; derived from the inputs so that equal
 * inputs give equal bytes. */
static int choose_boundary(const trpt_report_mail *m, const trpt_buf *text,
                           char out[40])
{
    uint64_t h = 0xcbf29ce484222325ULL;

    h = fnv1a(h, m->report_id, strlen(m->report_id));
    h = fnv1a(h, m->file_name, strlen(m->file_name));
    h = fnv1a(h, &m->date, sizeof m->date);
    for (unsigned i = 0; i < BOUNDARY_TRIES; i++) {
        snprintf(out, 40, "=_tlsrpt_%016llx", (unsigned long long)h);
        if (!memmem(text->data, text->len, out, strlen(out)))
            return 0;
        h = fnv1a(h, &i, sizeof i);
    }
    return -EINVAL;
}

static int put_base64_lines(trpt_buf *out, const unsigned char *p, size_t n)
{
    unsigned char line[4 * B64_IN / 3 + 1];
    int r;

    while (n > 0) {
        size_t take = n < B64_IN ? n : B64_IN;
        int len = EVP_EncodeBlock(line, p, (int)take);

        if ((r = trpt_buf_append(out, line, (size_t)len)) < 0 ||
            (r = trpt_buf_append(out, "\r\n", 2)) < 0)
            return r;
        p += take;
        n -= take;
    }
    return 0;
}

static int put_parts(trpt_buf *out, const trpt_report_mail *m,
                     const trpt_buf *text, const char *boundary)
{
    trpt_buf param;
    int r;

    trpt_buf_init(&param);
    r = trpt_buf_printf(out,
                        "\r\nThis is a multipart message in MIME format.\r\n"
                        "\r\n--%s\r\n",
                        boundary);
    if (r == 0)
        r = put_header(out, "Content-Type", "text/plain; charset=us-ascii");
    if (r == 0)
        r = put_header(out, "Content-Transfer-Encoding", "7bit");
    if (r == 0)
        r = trpt_buf_printf(out, "\r\n%s\r\n--%s\r\n", text->data, boundary);
    /* The file name of §5.3; quoted-string, checked free of '"' and '\'. */
    if (r == 0)
        r = trpt_buf_printf(&param, "application/tlsrpt+gzip; name=\"%s\"",
                            m->file_name);
    if (r == 0)
        r = put_header(out, "Content-Type", param.data);
    if (r == 0)
        r = put_header(out, "Content-Transfer-Encoding", "base64");
    trpt_buf_reset(&param);
    if (r == 0)
        r = trpt_buf_printf(&param, "attachment; filename=\"%s\"",
                            m->file_name);
    if (r == 0)
        r = put_header(out, "Content-Disposition", param.data);
    trpt_buf_free(&param);
    if (r == 0)
        r = trpt_buf_append(out, "\r\n", 2);
    if (r == 0)
        r = put_base64_lines(out, m->gzip, m->gzip_len);
    if (r == 0)
        r = trpt_buf_printf(out, "--%s--\r\n", boundary);
    return r;
}

int trpt_report_mail_build(const trpt_report_mail *m, trpt_buf *out)
{
    size_t start = out->len;
    char boundary[40];
    trpt_buf text;
    int r;

    if (!m)
        return -EINVAL;
    r = check_inputs(m);
    if (r < 0)
        return r;
    trpt_buf_init(&text);
    r = make_text(m, &text);
    if (r == 0)
        r = choose_boundary(m, &text, boundary);
    if (r == 0)
        r = put_top_headers(out, m, boundary);
    if (r == 0)
        r = put_parts(out, m, &text, boundary);
    trpt_buf_free(&text);
    if (r < 0 && out->data) {
        out->len = start;
        out->data[start] = '\0';
    }
    return r;
}
