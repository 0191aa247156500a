/* parser.c - the parser front end: framing, dispatch to the MTA parsers,
 * event ids, exclusions and counters. See parser.h and parser_internal.h. */
#include "parser.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parser_internal.h"
#include "timeutil.h"

#define EVENT_ID_MAX 512 /* buffer for "<source>:<offset>.<sub>" */

struct trpt_parser {
    trpt_parser_config cfg;
    char *source_id;
    char **exclude_senders; /* owned copies, NULL-terminated */
    trpt_parser_stats stats;
    int ref_is_now; /* no fixed reference: follow the clock (daemons) */
    trpt_parser_ctx ctx;
    trpt_postfix *postfix;
    trpt_exim *exim;
};

static const char *const perr_names[TRPT_PERR_COUNT] = {
    [TRPT_PERR_TOO_LONG] = "too-long",
    [TRPT_PERR_NUL_BYTE] = "nul-byte",
    [TRPT_PERR_BAD_UTF8] = "bad-utf8",
    [TRPT_PERR_NO_FRAMING] = "no-framing",
    [TRPT_PERR_BAD_DATE] = "bad-date",
    [TRPT_PERR_BAD_TLSRPT_LINE] = "bad-tlsrpt-line",
    [TRPT_PERR_BAD_DOMAIN] = "bad-domain",
};

const char *trpt_parse_error_name(trpt_parse_error e)
{
    if ((unsigned)e >= TRPT_PERR_COUNT)
        return "unknown";
    return perr_names[e];
}

static trpt_parse_error perr_from_reason(const char *reason)
{
    for (int i = 0; i < TRPT_PERR_COUNT; i++)
        if (reason && strcmp(reason, perr_names[i]) == 0)
            return (trpt_parse_error)i;
    return TRPT_PERR_NO_FRAMING;
}

static void free_strings(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

static int copy_strings(const char *const *in, char ***out)
{
    size_t n = 0;
    char **v;

    *out = NULL;
    if (!in)
        return 0;
    while (in[n])
        n++;
    v = calloc(n + 1, sizeof *v);
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        v[i] = strdup(in[i]);
        if (!v[i]) {
            free_strings(v);
            return -ENOMEM;
        }
    }
    *out = v;
    return 0;
}

/* strlen(source) when every id of it fits and is well formed (checked
 * once here, with the largest offset and sub), else 0. */
static size_t checked_source_len(const char *source)
{
    char probe[EVENT_ID_MAX];

    if (trpt_event_id_format(probe, sizeof probe, source, UINT64_MAX,
                             UINT_MAX) < 0)
        return 0;
    return strlen(source);
}

int trpt_parser_new(trpt_parser **out, const trpt_parser_config *cfg,
                    trpt_emit_fn emit, void *emit_ctx)
{
    trpt_parser *p;
    int r;

    if (!out || !cfg || !cfg->source_id || !*cfg->source_id || !emit)
        return -EINVAL;
    if (strchr(cfg->source_id, ':'))
        return -EINVAL; /* ':' separates source from position */
    p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->cfg = *cfg;
    p->source_id = strdup(cfg->source_id);
    if (!p->source_id) {
        free(p);
        return -ENOMEM;
    }
    if ((r = copy_strings(cfg->exclude_senders, &p->exclude_senders)) < 0) {
        free(p->source_id);
        free(p);
        return r;
    }
    p->cfg.source_id = p->source_id;
    p->cfg.exclude_senders = (const char *const *)p->exclude_senders;
    if (!p->cfg.ref_time_us) {
        p->ref_is_now = 1;
        p->cfg.ref_time_us = trpt_now_us();
    }
    if (!p->cfg.max_sessions)
        p->cfg.max_sessions = 100000;
    if (!p->cfg.session_timeout_s)
        p->cfg.session_timeout_s = 3600;
    p->ctx.cfg = &p->cfg;
    p->ctx.stats = &p->stats;
    p->ctx.emit = emit;
    p->ctx.emit_ctx = emit_ctx;
    p->ctx.id_source_len = checked_source_len(p->source_id);
    if ((r = trpt_postfix_new(&p->postfix, &p->ctx)) < 0 ||
        (r = trpt_exim_new(&p->exim, &p->ctx)) < 0) {
        trpt_parser_free(p);
        return r;
    }
    *out = p;
    return 0;
}

/* Program names: "postfix/smtp", and multi-instance "postfix-out/smtp". */
static int prog_is_postfix(const trpt_logline *ll)
{
    return ll->prog && ll->prog_len >= 8 &&
           memcmp(ll->prog, "postfix", 7) == 0 &&
           memchr(ll->prog + 7, '/', ll->prog_len - 7) != NULL;
}

static int prog_is_exim(const trpt_logline *ll)
{
    return ll->prog && ll->prog_len >= 4 && memcmp(ll->prog, "exim", 4) == 0;
}

static int dispatch(trpt_parser *p, const trpt_logline *ll, uint64_t offset)
{
    int used = 0;
    int want_postfix = p->cfg.format != TRPT_FORMAT_EXIM;
    int want_exim = p->cfg.format != TRPT_FORMAT_POSTFIX;

    if (ll->framing == TRPT_FRAMING_EXIM) {
        if (want_exim)
            used = trpt_exim_line(p->exim, ll, offset);
    } else if (prog_is_postfix(ll)) {
        if (want_postfix)
            used = trpt_postfix_line(p->postfix, ll, offset);
    } else if (prog_is_exim(ll)) {
        if (want_exim)
            used = trpt_exim_line(p->exim, ll, offset);
    }
    if (used < 0)
        return used;
    if (used)
        p->stats.lines_used++;
    else
        p->stats.lines_ignored++;
    return 0;
}

/* One line; `ascii`: the caller found it ASCII without NUL bytes. */
static int feed_line(trpt_parser *p, const char *line, size_t len,
                     uint64_t offset, int ascii)
{
    trpt_logline ll;
    const char *reason = NULL;
    int r;

    p->stats.lines++;
    /* A long-running edge crosses New Year: keep the year reference fresh
     * (cheaply, once per 4096 lines). */
    if (p->ref_is_now && (p->stats.lines & 4095) == 0)
        p->cfg.ref_time_us = trpt_now_us();
    if (ascii)
        r = trpt_logline_parse_ascii(line, len, p->cfg.ref_time_us, &ll,
                                     &reason);
    else
        r = trpt_logline_parse(line, len, p->cfg.ref_time_us, &ll, &reason);
    if (r < 0) {
        p->stats.errors[perr_from_reason(reason)]++;
        return 0;
    }
    return dispatch(p, &ll, offset);
}

int trpt_parser_feed(trpt_parser *p, const char *line, size_t len,
                     uint64_t offset)
{
    return feed_line(p, line, len, offset, 0);
}

int trpt_parser_feed_ascii(trpt_parser *p, const char *line, size_t len,
                           uint64_t offset)
{
    return feed_line(p, line, len, offset, 1);
}

int trpt_parser_feed_msg(trpt_parser *p, int64_t time_us, const char *host,
                         const char *prog, long pid, const char *msg,
                         size_t msg_len, uint64_t offset)
{
    trpt_logline ll = {0};

    p->stats.lines++;
    if (!msg || !prog) {
        p->stats.errors[TRPT_PERR_NO_FRAMING]++;
        return 0;
    }
    if (msg_len > TRPT_LOGLINE_MAX) {
        p->stats.errors[TRPT_PERR_TOO_LONG]++;
        return 0;
    }
    if (memchr(msg, '\0', msg_len)) {
        p->stats.errors[TRPT_PERR_NUL_BYTE]++;
        return 0;
    }
    ll.framing = TRPT_FRAMING_RFC3339;
    ll.time_us = time_us;
    ll.host = host;
    ll.host_len = host ? strlen(host) : 0;
    ll.prog = prog;
    ll.prog_len = strlen(prog);
    ll.pid = pid;
    ll.msg = msg;
    ll.msg_len = msg_len;
    return dispatch(p, &ll, offset);
}

int trpt_parser_flush(trpt_parser *p, uint64_t offset)
{
    int r = trpt_postfix_flush(p->postfix, offset);

    if (r < 0)
        return r;
    return trpt_exim_flush(p->exim, offset);
}

int trpt_parser_oldest_open(const trpt_parser *p, uint64_t *offset)
{
    uint64_t pf = 0, ex = 0;
    int has_pf = trpt_postfix_oldest_open(p->postfix, &pf);
    int has_ex = trpt_exim_oldest_open(p->exim, &ex);

    if (!has_pf && !has_ex)
        return 0;
    if (has_pf && has_ex)
        *offset = pf < ex ? pf : ex;
    else
        *offset = has_pf ? pf : ex;
    return 1;
}

const char *trpt_parser_native_host(const trpt_parser *p, size_t i)
{
    return trpt_postfix_native_host(p->postfix, i);
}

int trpt_parser_add_native_host(trpt_parser *p, const char *host)
{
    return trpt_postfix_add_native_host(p->postfix, host);
}

const trpt_parser_stats *trpt_parser_stats_get(const trpt_parser *p)
{
    return &p->stats;
}

void trpt_parser_free(trpt_parser *p)
{
    if (!p)
        return;
    trpt_postfix_free(p->postfix);
    trpt_exim_free(p->exim);
    free_strings(p->exclude_senders);
    free(p->source_id);
    free(p);
}

/* The .sub part of the next event id concluded at `offset`. */
static unsigned next_sub(trpt_parser_ctx *ctx, uint64_t offset)
{
    if (ctx->have_last && offset == ctx->last_offset) {
        ctx->last_sub++;
    } else {
        ctx->last_offset = offset;
        ctx->last_sub = 0;
        ctx->have_last = 1;
    }
    return ctx->last_sub;
}

/* Decimal digits of v at o; returns their number. */
static size_t put_u64(char *o, uint64_t v)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[sizeof tmp - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(o, tmp + sizeof tmp - n, n);
    return n;
}

/* The event id (design.md): trpt_event_id_format()'s text, without
 * checking the source again once trpt_parser_new() has. */
static int format_id(const trpt_parser_ctx *ctx, char id[EVENT_ID_MAX],
                     uint64_t offset, unsigned sub)
{
    size_t n = ctx->id_source_len;

    if (n == 0)
        return trpt_event_id_format(id, EVENT_ID_MAX, ctx->cfg->source_id,
                                    offset, sub);
    memcpy(id, ctx->cfg->source_id, n);
    id[n++] = ':';
    n += put_u64(id + n, offset);
    id[n++] = '.';
    n += put_u64(id + n, sub);
    id[n] = '\0';
    return 0;
}

/* Names, validates and hands over a record whose event_id is `id`. */
static int emit_named(trpt_parser_ctx *ctx, trpt_record *rec, char *id)
{
    rec->event_id = id;
    rec->version = TRPT_RECORD_VERSION;
    if (trpt_record_validate(rec) < 0) {
        ctx->stats->errors[TRPT_PERR_BAD_DOMAIN]++;
        return 0;
    }
    ctx->stats->records++;
    return ctx->emit(ctx->emit_ctx, rec);
}

int trpt_parser_emit(trpt_parser_ctx *ctx, trpt_record *rec, uint64_t offset)
{
    char id[EVENT_ID_MAX];
    int r;

    r = format_id(ctx, id, offset, next_sub(ctx, offset));
    if (r == 0) {
        free(rec->event_id); /* the id is ours; the caller's is replaced */
        rec->event_id = NULL;
        r = emit_named(ctx, rec, id);
        rec->event_id = NULL; /* on the stack: not for clear() */
    }
    trpt_record_clear(rec);
    return r;
}

int trpt_parser_emit_borrowed(trpt_parser_ctx *ctx, trpt_record *rec,
                              uint64_t offset)
{
    char id[EVENT_ID_MAX];
    int r;

    r = format_id(ctx, id, offset, next_sub(ctx, offset));
    if (r == 0)
        r = emit_named(ctx, rec, id);
    rec->event_id = NULL;
    return r;
}

int trpt_parser_sender_excluded(const trpt_parser_ctx *ctx, const char *addr,
                                size_t len)
{
    const char *const *v = ctx->cfg->exclude_senders;

    if (!v)
        return 0;
    for (; *v; v++)
        if (strlen(*v) == len && strncasecmp(*v, addr, len) == 0)
            return 1;
    return 0;
}

/* Domain bytes, lower-cased: letters, digits and '_' map to themselves
 * (capitals to small), '-' and '.' too; every other byte to 0. A table,
 * not isalnum()/tolower(): this runs for every MX host and recipient
 * domain, and must not depend on the locale. */
static const unsigned char domain_byte[256] = {
    ['-'] = '-', ['.'] = '.', ['_'] = '_', ['0'] = '0', ['1'] = '1',
    ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5', ['6'] = '6',
    ['7'] = '7', ['8'] = '8', ['9'] = '9', ['A'] = 'a', ['B'] = 'b',
    ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f', ['G'] = 'g',
    ['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k', ['L'] = 'l',
    ['M'] = 'm', ['N'] = 'n', ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q',
    ['R'] = 'r', ['S'] = 's', ['T'] = 't', ['U'] = 'u', ['V'] = 'v',
    ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y', ['Z'] = 'z', ['a'] = 'a',
    ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f',
    ['g'] = 'g', ['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k',
    ['l'] = 'l', ['m'] = 'm', ['n'] = 'n', ['o'] = 'o', ['p'] = 'p',
    ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't', ['u'] = 'u',
    ['v'] = 'v', ['w'] = 'w', ['x'] = 'x', ['y'] = 'y', ['z'] = 'z',
};

/* RFC 1035 LDH labels (A-labels are LDH too); '_' is tolerated because
 * real policy domains sometimes carry it. Two passes over the few bytes of
 * a name: map and check every byte (no branch per byte), then check the
 * labels between the dots. */
int trpt_domain_normalize(const char *in, size_t len, char *out, size_t outlen)
{
    const char *p = out, *end;
    unsigned char all = 0xff;

    if (len && in[len - 1] == '.')
        len--;
    if (len == 0 || len > 253 || len + 1 > outlen)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = domain_byte[(unsigned char)in[i]];

        out[i] = (char)c;
        all &= (unsigned char)-(c != 0); /* 0 once a byte maps to 0 */
    }
    if (!all)
        return -EINVAL;
    out[len] = '\0';
    for (end = out + len;;) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        const char *e = dot ? dot : end;

        /* "a.." came in as "a.": an empty last label has always been
         * accepted; kept so that records do not change */
        if (!dot && e == p)
            return 0;
        /* 1..63 bytes, no leading or trailing '-' */
        if (e == p || e - p > 63 || *p == '-' || e[-1] == '-')
            return -EINVAL;
        if (!dot)
            return 0;
        p = dot + 1;
    }
}
