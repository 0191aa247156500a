/* frame.c - RFC 5424 template lines into file-format lines; see frame.h. */
#include "frame.h"

#include <string.h>

#define PRI_DIGITS_MAX 3 /* PRI is 0..191 (RFC 5424 section 6.2.1) */

typedef struct span {
    const char *p;
    size_t n;
} span;

typedef struct cursor {
    const char *p, *end;
} cursor;

/* "<PRI>1 " */
static int skip_header(cursor *c)
{
    const char *p = c->p;
    int digits = 0;

    if (p >= c->end || *p++ != '<')
        return -1;
    while (p < c->end && *p >= '0' && *p <= '9' && digits <= PRI_DIGITS_MAX)
        p++, digits++;
    if (digits == 0 || digits > PRI_DIGITS_MAX || c->end - p < 3 ||
        memcmp(p, ">1 ", 3) != 0)
        return -1;
    c->p = p + 3;
    return 0;
}

/* One space-terminated header field (non-empty). */
static int take_field(cursor *c, span *f)
{
    const char *sp = memchr(c->p, ' ', (size_t)(c->end - c->p));

    if (!sp || sp == c->p)
        return -1;
    f->p = c->p;
    f->n = (size_t)(sp - c->p);
    c->p = sp + 1;
    return 0;
}

/* STRUCTURED-DATA: "-" or SD-ELEMENTs "[id k="v\]"...]"...; then a space
 * or the end of the line (no MSG). */
static int skip_structured_data(cursor *c)
{
    const char *p = c->p;

    if (p < c->end && *p == '-') {
        p++;
    } else {
        if (p >= c->end || *p != '[')
            return -1;
        while (p < c->end && *p == '[') {
            int quoted = 0;

            for (p++; p < c->end; p++) {
                if (quoted && *p == '\\' && p + 1 < c->end)
                    p++;
                else if (*p == '"')
                    quoted = !quoted;
                else if (!quoted && *p == ']')
                    break;
            }
            if (p >= c->end)
                return -1;
            p++;
        }
    }
    if (p < c->end && *p != ' ')
        return -1;
    c->p = p < c->end ? p + 1 : p;
    return 0;
}

static int is_nil(const span *f)
{
    return f->n == 1 && f->p[0] == '-';
}

static int rewrite(trpt_buf *out, const span *time, const span *host,
                   const span *app, const span *procid, const char *msg,
                   size_t msg_len)
{
    int r;

    trpt_buf_reset(out);
    if ((r = trpt_buf_reserve(out, time->n + host->n + app->n + procid->n +
                                       msg_len + 8)) < 0)
        return r;
    trpt_buf_append(out, time->p, time->n);
    trpt_buf_putc(out, ' ');
    trpt_buf_append(out, host->p, host->n);
    trpt_buf_putc(out, ' ');
    trpt_buf_append(out, app->p, app->n);
    if (!is_nil(procid)) {
        trpt_buf_putc(out, '[');
        trpt_buf_append(out, procid->p, procid->n);
        trpt_buf_putc(out, ']');
    }
    trpt_buf_putc(out, ':');
    /* a legacy message keeps its own leading space (rsyslog's
     * sp-if-no-1st-sp in RSYSLOG_FileFormat) */
    if (msg_len == 0 || msg[0] != ' ')
        trpt_buf_putc(out, ' ');
    trpt_buf_append(out, msg, msg_len);
    return 0;
}

/* "YYYY-MM-DDT...": the RFC 3339 time rsyslog's file templates start
 * with (Exim's mainlog has a space where the 'T' is). */
static int is_rfc3339_time(const span *f)
{
    return f->n > 11 && f->p[0] >= '0' && f->p[0] <= '9' && f->p[4] == '-' &&
           f->p[10] == 'T';
}

/* RSYSLOG_FileFormat: "TIME HOST TAG MSG", where TAG is "prog[pid]:" for
 * RFC 3164 input but "APP[PROCID]" (no colon: rsyslog emulates the tag)
 * for RFC 5424 input. The colon is put back; returns 1 if the line needed
 * it, 0 if not. */
static int repair_tag(const char *in, size_t inlen, trpt_buf *out)
{
    cursor c = {in, in + inlen};
    span time, host, tag;
    size_t head;
    int r;

    if (take_field(&c, &time) < 0 || !is_rfc3339_time(&time) ||
        take_field(&c, &host) < 0 || take_field(&c, &tag) < 0 ||
        tag.p[tag.n - 1] == ':')
        return 0;
    head = (size_t)(tag.p + tag.n - in);
    trpt_buf_reset(out);
    if ((r = trpt_buf_reserve(out, inlen + 2)) < 0)
        return r;
    trpt_buf_append(out, in, head);
    trpt_buf_putc(out, ':');
    trpt_buf_append(out, in + head, inlen - head);
    return 1;
}

int otr_frame_line(const char *in, size_t inlen, trpt_buf *out,
                   const char **line, size_t *len)
{
    cursor c = {in, in + inlen};
    span time, host, app, procid, msgid;
    int r;

    *line = in;
    *len = inlen;
    if (inlen > 0 && in[0] != '<') {
        if ((r = repair_tag(in, inlen, out)) <= 0)
            return r;
        *line = out->data;
        *len = out->len;
        return 0;
    }
    if (skip_header(&c) < 0 || take_field(&c, &time) < 0 ||
        take_field(&c, &host) < 0 || take_field(&c, &app) < 0 ||
        take_field(&c, &procid) < 0 || take_field(&c, &msgid) < 0 ||
        skip_structured_data(&c) < 0)
        return 0; /* not RFC 5424: the parser frames (or counts) it */
    if (c.end - c.p >= 3 && memcmp(c.p, "\xef\xbb\xbf", 3) == 0)
        c.p += 3;
    if ((r = rewrite(out, &time, &host, &app, &procid, c.p,
                     (size_t)(c.end - c.p))) < 0)
        return r;
    *line = out->data;
    *len = out->len;
    return 0;
}
