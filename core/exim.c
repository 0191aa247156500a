/* exim.c - Exim 4.9x mainlog parser (also Exim lines via syslog, where the
 * message starts with the message id); see parser_internal.h.
 *
 * Every Exim line of interest carries the message id. One record is made
 * per concluding line of an outgoing SMTP attempt:
 *   "=> addr ... H=mx [ip]:port X=TLS1.3:... CV=yes|no|dane ..."  delivered
 *   "-> addr ..."        another recipient of the same delivery
 *   "== addr ... defer (N) H=mx [ip]:port: <error>"              deferred
 *   "** addr ... : <error>"                                       bounced
 * Results (RFC 8460 section 4.3):
 *   - X= present: a TLS session was established: success. CV=dane: policy
 *     tlsa, and the policy domain is the MX host (RFC 8460 section 3, the
 *     TLSA base domain; Postfix 3.10 reports DANE the same way). CV=yes:
 *     verified, policy unknown. CV=no: TLS without verification (Exim's
 *     tls_try_verify_hosts, like Postfix "may"/Untrusted): success with
 *     policy unknown; the aggregator resolves the policy (design.md).
 *   - no X= on a delivered line: plaintext, no record (there is no TLS
 *     session to report; Postfix 3.10 reports nothing for it either).
 *   - deferrals and bounces: the error text is looked up in
 *     trpt_maptab_exim[] (maptab_exim.c says why each verdict). Errors not
 *     in the table are not TLS results and make no record. In particular
 *     "host lookup did not complete" (corpus scenario 16, a bogus MX
 *     signature) is the same text for every SERVFAIL or resolver time-out;
 *     calling each of those dnssec-invalid would send false failure
 *     reports, and Postfix 3.10 makes no TLSRPT event when the MX lookup
 *     fails, so no record is made.
 * The recipient domain (the part after the last '@' of the address) is the
 * policy domain, except for tlsa where it is the MX host. The local part is
 * never copied anywhere.
 *
 * Per message id the parser keeps (bounded by cfg->max_sessions, least
 * recently used evicted; idle entries time out after session_timeout_s):
 *   - "excluded": the "<=" line named an excluded envelope sender (our own
 *     report mail); its deliveries are dropped and counted as excluded;
 *   - failed host attempts logged on their own line by the transport
 *     process before the concluding line ("H=mx [ip]:25: a TLS session is
 *     required ...", "DANE attempt failed; TLS connection to mx [ip]: ...",
 *     "H=mx [ip]:25: DANE error: tlsa lookup DEFER"). They give the MX host
 *     to a concluding line that lacks H= (scenario 17), mark DANE, and an
 *     attempt on another host than the concluding line's is a separate
 *     session (multi-MX) and gets its own record.
 * A concluding line from the same process, message and recipient domain as
 * the previous one is the same SMTP session (another recipient) and is not
 * counted twice.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maptab.h"
#include "parser_internal.h"

#define EXIM_ID_MAX       23 /* 4.97+: 6-11-4; 4.9x and older: 6-6-2 */
#define EXIM_MAX_ATTEMPTS 4  /* failed hosts remembered per message */
#define DOMAIN_BUF        256
#define IP_BUF            48

typedef struct span {
    const char *p;
    size_t n;
} span;

/* One SMTP attempt's host and outcome. */
typedef struct exim_attempt {
    char mx[DOMAIN_BUF];    /* normalized MX host name, "" if not logged */
    char ip[IP_BUF];        /* "" if not logged */
    const trpt_maprow *row; /* failure; NULL for a TLS session (success) */
    int dane;               /* the attempt used DANE */
} exim_attempt;

typedef struct exim_msg {
    struct exim_msg *hnext;       /* hash chain */
    struct exim_msg *prev, *next; /* LRU order, least recent at head */
    int64_t seen_us;              /* log time of the last line */
    uint64_t open_offset; /* the line that made it open (excluded or with
                             attempts): trpt_parser_oldest_open */
    int excluded;
    unsigned nattempts;
    exim_attempt *attempts; /* EXIM_MAX_ATTEMPTS, allocated on first use */
    char id[EXIM_ID_MAX + 1];
} exim_msg;

typedef struct exim_table {
    exim_msg **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
    exim_msg *head, *tail;
} exim_table;

struct trpt_exim {
    trpt_parser_ctx *ctx;
    exim_table tab;
    /* the last concluding line, to count one session once */
    char last_id[EXIM_ID_MAX + 1];
    long last_pid;
    char last_domain[DOMAIN_BUF];
    int have_last;
    uint64_t last_start; /* the first concluding line of that session */
    uint64_t cur_offset; /* of the line being handled */
};

/* ---- small scanning helpers ---- */

static int is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z');
}

static int starts_with(span s, const char *prefix)
{
    size_t n = strlen(prefix);

    return s.n >= n && memcmp(s.p, prefix, n) == 0;
}

static span skip(span s, size_t n)
{
    return (span){s.p + n, s.n - n};
}

static const char *find(span s, const char *needle)
{
    return memmem(s.p, s.n, needle, strlen(needle));
}

static size_t alnum_run(span s, size_t from)
{
    size_t i = from;

    while (i < s.n && is_alnum(s.p[i]))
        i++;
    return i - from;
}

/* Exim message id "1xXGus-0002ed-1e" (6-6-2) or 4.97's 6-11-4; returns
 * its length or 0. */
static size_t message_id_len(span s)
{
    size_t a = alnum_run(s, 0), b, c;

    if (a != 6 || a >= s.n || s.p[a] != '-')
        return 0;
    b = alnum_run(s, a + 1);
    if ((b != 6 && b != 11) || a + 1 + b >= s.n || s.p[a + 1 + b] != '-')
        return 0;
    c = alnum_run(s, a + 2 + b);
    if (c < 2 || c > 4)
        return 0;
    if (a + 2 + b + c < s.n && s.p[a + 2 + b + c] != ' ')
        return 0;
    return a + 2 + b + c;
}

/* ---- the per-message table ---- */

static uint64_t hash_id(const char *id)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 0x100000001b3ULL;
    return h;
}

static exim_msg **bucket_of(exim_table *t, const char *id)
{
    return &t->buckets[hash_id(id) & (t->nbuckets - 1)];
}

static exim_msg *table_find(exim_table *t, const char *id)
{
    if (!t->buckets)
        return NULL;
    for (exim_msg *m = *bucket_of(t, id); m; m = m->hnext)
        if (strcmp(m->id, id) == 0)
            return m;
    return NULL;
}

static void lru_unlink(exim_table *t, exim_msg *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        t->head = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        t->tail = m->prev;
    m->prev = m->next = NULL;
}

static void lru_append(exim_table *t, exim_msg *m)
{
    m->prev = t->tail;
    m->next = NULL;
    if (t->tail)
        t->tail->next = m;
    else
        t->head = m;
    t->tail = m;
}

static void table_remove(exim_table *t, exim_msg *m)
{
    exim_msg **pp = bucket_of(t, m->id);

    while (*pp != m)
        pp = &(*pp)->hnext;
    *pp = m->hnext;
    lru_unlink(t, m);
    t->count--;
    free(m->attempts);
    free(m);
}

static int table_grow(exim_table *t)
{
    size_t n = t->nbuckets ? t->nbuckets * 2 : 64;
    exim_msg **b = calloc(n, sizeof *b);

    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < t->nbuckets; i++) {
        exim_msg *m = t->buckets[i], *next;

        for (; m; m = next) {
            exim_msg **slot = &b[hash_id(m->id) & (n - 1)];

            next = m->hnext;
            m->hnext = *slot;
            *slot = m;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
    return 0;
}

/* Drop entries idle for longer than the session time-out (exclusions stay:
 * a deferred report mail is retried hours later), then make room under
 * max_sessions by evicting the least recently used entry. */
static void table_expire(trpt_exim *st, int64_t now_us)
{
    exim_table *t = &st->tab;
    int64_t idle_us = (int64_t)st->ctx->cfg->session_timeout_s * 1000000;

    while (t->head && !t->head->excluded &&
           t->head->seen_us + idle_us < now_us) {
        if (t->head->nattempts)
            st->ctx->stats->timed_out++;
        table_remove(t, t->head);
    }
    while (t->head && t->count >= st->ctx->cfg->max_sessions) {
        st->ctx->stats->evicted++;
        table_remove(t, t->head);
    }
}

/* The entry for id, created when `create`; it becomes most recently used. */
static int table_get(trpt_exim *st, const char *id, int64_t now_us, int create,
                     exim_msg **out)
{
    exim_table *t = &st->tab;
    exim_msg *m = table_find(t, id);
    int r;

    *out = NULL;
    if (m) {
        lru_unlink(t, m);
        lru_append(t, m);
        if (now_us > m->seen_us)
            m->seen_us = now_us;
        *out = m;
        return 0;
    }
    if (!create)
        return 0;
    table_expire(st, now_us);
    if (t->count >= t->nbuckets && (r = table_grow(t)) < 0)
        return r;
    if (!(m = calloc(1, sizeof *m)))
        return -ENOMEM;
    memcpy(m->id, id, strlen(id) + 1);
    m->seen_us = now_us;
    m->hnext = *bucket_of(t, id);
    *bucket_of(t, id) = m;
    lru_append(t, m);
    t->count++;
    *out = m;
    return 0;
}

/* Excluded, or holding attempts: a later line needs what it remembers. */
static int msg_open(const exim_msg *m)
{
    return m->excluded || m->nattempts;
}

static void table_free(exim_table *t)
{
    while (t->head)
        table_remove(t, t->head);
    free(t->buckets);
    memset(t, 0, sizeof *t);
}

/* ---- host fields: "mx.example.test [127.0.77.10]:25" ---- */

static int ip_char(char c)
{
    return is_alnum(c) || c == '.' || c == ':' || c == '%';
}

/* Parses "name [ip][:port]" (name optional) at s; fills a->mx, a->ip.
 * Returns the rest of s after it, or {NULL, 0} if it is not a host. */
static span parse_host(span s, exim_attempt *a)
{
    const char *sp, *close;
    span ip;

    a->mx[0] = a->ip[0] = '\0';
    if (s.n && s.p[0] != '[') {
        sp = memchr(s.p, ' ', s.n);
        if (!sp)
            return (span){NULL, 0};
        if (trpt_domain_normalize(s.p, (size_t)(sp - s.p), a->mx,
                                  sizeof a->mx) < 0)
            a->mx[0] = '\0'; /* keep the IP; the name is only a detail */
        s = skip(s, (size_t)(sp - s.p) + 1);
    }
    if (!s.n || s.p[0] != '[' || !(close = memchr(s.p, ']', s.n)))
        return (span){NULL, 0};
    ip = (span){s.p + 1, (size_t)(close - s.p - 1)};
    if (ip.n && ip.n < IP_BUF) {
        size_t i = 0;

        while (i < ip.n && ip_char(ip.p[i]))
            i++;
        if (i == ip.n) {
            memcpy(a->ip, ip.p, ip.n);
            a->ip[ip.n] = '\0';
        }
    }
    s = skip(s, (size_t)(close - s.p) + 1);
    if (s.n >= 2 && s.p[0] == ':' && s.p[1] >= '0' && s.p[1] <= '9') {
        s = skip(s, 1);
        while (s.n && s.p[0] >= '0' && s.p[0] <= '9')
            s = skip(s, 1);
    }
    return s;
}

/* The error text after ": " (the first one in s), or {NULL, 0}. */
static span error_text(span s)
{
    const char *c = find(s, ": ");

    if (!c)
        return (span){NULL, 0};
    return skip(s, (size_t)(c - s.p) + 2);
}

/* Remote servers' replies are not our TLS verdicts, whatever they say. */
static const trpt_maprow *lookup_error(span err)
{
    if (!err.p || starts_with(err, "SMTP error from remote"))
        return NULL;
    return trpt_maptab_lookup(trpt_maptab_exim, err.p, err.n);
}

/* TLS fields after the host: " X=TLS1.3:... CV=yes|no|dane". Exim writes
 * them right after H= (and I=/PRX= when enabled), before DN= and C=. */
static void parse_tls_fields(span s, int *tls, int *dane)
{
    *tls = *dane = 0;
    for (int k = 0; k < 6 && s.n > 1 && s.p[0] == ' '; k++) {
        const char *sp;
        span tok;

        s = skip(s, 1);
        sp = memchr(s.p, ' ', s.n);
        tok = (span){s.p, sp ? (size_t)(sp - s.p) : s.n};
        if (starts_with(tok, "X="))
            *tls = 1;
        else if (starts_with(tok, "CV=dane"))
            *dane = 1;
        else if (!starts_with(tok, "CV=") && !starts_with(tok, "I=") &&
                 !starts_with(tok, "PRX="))
            break;
        s = skip(s, tok.n);
    }
}

/* ---- records ---- */

static int set_span(char **field, const char *p, size_t n)
{
    char buf[DOMAIN_BUF];

    if (n >= sizeof buf)
        return 0; /* an over-long optional field is left out */
    memcpy(buf, p, n);
    buf[n] = '\0';
    return trpt_record_set(field, buf);
}

static int set_optional(char **field, const char *s)
{
    return s && *s ? trpt_record_set(field, s) : 0;
}

/* RFC 8460 section 3: a tlsa policy's domain is the TLSA base domain, the
 * MX host; without a logged MX host the recipient domain stays. */
static int emit_attempt(trpt_exim *st, const trpt_logline *ll,
                        const char *msgid, const char *rcpt_domain,
                        const exim_attempt *a, uint64_t offset)
{
    trpt_record rec;
    int tlsa = a->mx[0] &&
               (a->dane || (a->row && a->row->implies == TRPT_POLICY_TLSA));
    int r;

    trpt_record_init(&rec);
    rec.time_us = ll->time_us;
    rec.policy_type = tlsa ? TRPT_POLICY_TLSA : TRPT_POLICY_UNKNOWN;
    rec.result = a->row ? a->row->result : TRPT_RESULT_SUCCESS;
    if ((r = trpt_record_set(&rec.policy_domain, tlsa ? a->mx : rcpt_domain)) <
            0 ||
        (r = trpt_record_set(&rec.mta, "exim")) < 0 ||
        (r = set_optional(&rec.receiving_mx_hostname, a->mx)) < 0 ||
        (r = set_optional(&rec.receiving_ip, a->ip)) < 0 ||
        (r = set_optional(&rec.failure_reason_code,
                          a->row ? a->row->reason : NULL)) < 0 ||
        (r = trpt_record_set(&rec.queue_id, msgid)) < 0 ||
        (ll->host &&
         (r = set_span(&rec.reporting_host, ll->host, ll->host_len)) < 0)) {
        trpt_record_clear(&rec);
        return r;
    }
    return trpt_parser_emit(st->ctx, &rec, offset);
}

static int same_host(const exim_attempt *a, const exim_attempt *b)
{
    return strcmp(a->ip, b->ip) == 0 &&
           (!a->mx[0] || !b->mx[0] || strcmp(a->mx, b->mx) == 0);
}

/* ---- line kinds ---- */

/* "<= sender ..." : remember ids whose envelope sender is excluded. */
static int on_arrival(trpt_exim *st, const trpt_logline *ll, const char *id,
                      span rest)
{
    const char *sp = memchr(rest.p, ' ', rest.n);
    size_t n = sp ? (size_t)(sp - rest.p) : rest.n;
    exim_msg *m;
    int r;

    if (!trpt_parser_sender_excluded(st->ctx, rest.p, n))
        return 0;
    if ((r = table_get(st, id, ll->time_us, 1, &m)) < 0)
        return r;
    if (!msg_open(m))
        m->open_offset = st->cur_offset;
    m->excluded = 1;
    return 1;
}

/* Remember a failed host attempt logged on its own line. */
static int remember_attempt(trpt_exim *st, const trpt_logline *ll,
                            const char *id, const exim_attempt *a)
{
    exim_msg *m;
    int r;

    if ((r = table_get(st, id, ll->time_us, 1, &m)) < 0)
        return r;
    if (!m->attempts &&
        !(m->attempts = calloc(EXIM_MAX_ATTEMPTS, sizeof *m->attempts)))
        return -ENOMEM;
    if (!msg_open(m))
        m->open_offset = st->cur_offset;
    if (m->nattempts == EXIM_MAX_ATTEMPTS) { /* keep the latest ones */
        memmove(m->attempts, m->attempts + 1,
                (EXIM_MAX_ATTEMPTS - 1) * sizeof *m->attempts);
        m->nattempts--;
    }
    m->attempts[m->nattempts++] = *a;
    return 1;
}

/* "H=mx [ip]:25: <error>" from the transport process. */
static int on_host_detail(trpt_exim *st, const trpt_logline *ll, const char *id,
                          span rest)
{
    exim_attempt a = {0};
    span after = parse_host(skip(rest, 2), &a);

    if (!after.p || !(a.row = lookup_error(error_text(after))))
        return 0; /* e.g. "TLS error on connection (recv)" after a success */
    return remember_attempt(st, ll, id, &a);
}

/* "DANE attempt failed; TLS connection to mx [ip]: <error>" */
static int on_dane_detail(trpt_exim *st, const trpt_logline *ll, const char *id,
                          span rest)
{
    static const char lead[] = "DANE attempt failed; TLS connection to ";
    exim_attempt a = {0};
    span after = parse_host(skip(rest, sizeof lead - 1), &a);

    if (!after.p)
        return 0;
    a.row = lookup_error(error_text(after));
    if (!a.row)
        a.row = trpt_maptab_lookup(trpt_maptab_exim, "TLS session: ", 13);
    a.dane = 1;
    return remember_attempt(st, ll, id, &a);
}

/* The recipient's domain, normalized into dom (*ok = 1); the local part
 * is skipped without being copied. Returns the rest of the line after the
 * address. */
static span recipient_domain(span rest, char *dom, int *ok)
{
    const char *sp = memchr(rest.p, ' ', rest.n), *at;
    size_t n = sp ? (size_t)(sp - rest.p) : rest.n;
    size_t dn;

    *ok = 0;
    at = n ? memrchr(rest.p, '@', n) : NULL;
    if (at) { /* none: a pipe, file or :blackhole: delivery */
        dn = n - (size_t)(at + 1 - rest.p);
        if (dn && at[dn] == ':') /* "** addr: Unrouteable address" */
            dn--;
        *ok = trpt_domain_normalize(at + 1, dn, dom, DOMAIN_BUF) == 0;
    }
    return skip(rest, n);
}

/* Same process, message and domain as the previous concluding line: the
 * same SMTP session, another recipient. */
static int same_session(trpt_exim *st, const trpt_logline *ll, const char *id,
                        const char *dom)
{
    int same = ll->pid >= 0 && ll->pid == st->last_pid &&
               strcmp(st->last_id, id) == 0 &&
               strcmp(st->last_domain, dom) == 0;

    if (!same)
        st->last_start = st->cur_offset;
    st->have_last = 1;
    st->last_pid = ll->pid;
    memcpy(st->last_id, id, strlen(id) + 1);
    memcpy(st->last_domain, dom, strlen(dom) + 1);
    return same;
}

/* What the concluding line itself says: host, TLS or the failure. Returns
 * 0 when the line is no TLS result (plaintext, a non-TLS error). */
static int line_outcome(span fields, int delivered, exim_attempt *a,
                        int *have_host)
{
    span region = fields, after;
    const char *colon = find(fields, ": "), *h;
    int tls, dane;

    memset(a, 0, sizeof *a);
    *have_host = 0;
    if (colon) /* H= sits before the error text */
        region.n = (size_t)(colon - fields.p) + 1;
    h = find(region, " H=");
    if (h) {
        after = parse_host(skip(fields, (size_t)(h - fields.p) + 3), a);
        if (after.p) {
            *have_host = 1;
            parse_tls_fields(after, &tls, &dane);
            if (tls) {
                a->dane = dane;
                return 1; /* RFC 8460: a TLS session was established */
            }
            fields = after;
        }
    }
    if (delivered)
        return 0; /* plaintext delivery: no TLS session to report */
    a->row = lookup_error(error_text(fields));
    return a->row != NULL;
}

/* The concluding line's own host, from an earlier attempt line when it has
 * none; earlier attempts on other hosts are sessions of their own. */
static int conclude_attempts(trpt_exim *st, const trpt_logline *ll,
                             const char *id, const char *dom, exim_msg *m,
                             exim_attempt *a, int have_host, uint64_t offset)
{
    int r;

    if (!m || !m->nattempts)
        return 0;
    if (!have_host) {
        const exim_attempt *last = &m->attempts[m->nattempts - 1];

        memcpy(a->mx, last->mx, sizeof a->mx);
        memcpy(a->ip, last->ip, sizeof a->ip);
        have_host = 1;
    }
    for (unsigned i = 0; i < m->nattempts; i++) {
        const exim_attempt *p = &m->attempts[i];

        if (same_host(p, a)) {
            a->dane |= p->dane;
            continue;
        }
        if ((r = emit_attempt(st, ll, id, dom, p, offset)) < 0)
            return r;
    }
    m->nattempts = 0;
    return 0;
}

static int on_delivery(trpt_exim *st, const trpt_logline *ll, const char *id,
                       span rest, int delivered, uint64_t offset)
{
    char dom[DOMAIN_BUF];
    exim_attempt a;
    exim_msg *m;
    int ok, have_host, r;
    span fields = recipient_domain(rest, dom, &ok);

    if (!line_outcome(fields, delivered, &a, &have_host))
        return 0;
    if (!ok) { /* a TLS result we cannot give a policy domain */
        st->ctx->stats->errors[TRPT_PERR_BAD_DOMAIN]++;
        return 0;
    }
    if ((r = table_get(st, id, ll->time_us, 0, &m)) < 0)
        return r;
    if (m && m->excluded) { /* our own report mail (design.md) */
        st->ctx->stats->excluded++;
        m->nattempts = 0;
        return 1;
    }
    if ((r = conclude_attempts(st, ll, id, dom, m, &a, have_host, offset)) < 0)
        return r;
    if (same_session(st, ll, id, dom))
        return 0;
    if ((r = emit_attempt(st, ll, id, dom, &a, offset)) < 0)
        return r;
    return 1;
}

static int on_completed(trpt_exim *st, const char *id)
{
    exim_msg *m = table_find(&st->tab, id);

    if (m) {
        if (m->nattempts)
            st->ctx->stats->unfinished++; /* attempts never concluded */
        table_remove(&st->tab, m);
    }
    return 0;
}

/* ---- entry points ---- */

int trpt_exim_new(trpt_exim **out, trpt_parser_ctx *ctx)
{
    trpt_exim *st;

    if (!out || !ctx)
        return -EINVAL;
    if (!(st = calloc(1, sizeof *st)))
        return -ENOMEM;
    st->ctx = ctx;
    st->last_pid = -1;
    *out = st;
    return 0;
}

int trpt_exim_line(trpt_exim *st, const trpt_logline *ll, uint64_t offset)
{
    span msg = {ll->msg, ll->msg_len};
    char id[EXIM_ID_MAX + 1];
    size_t n;

    if (!ll->msg || !(n = message_id_len(msg)) || n >= msg.n)
        return 0; /* "Start queue run", "exim user lost privilege", ... */
    st->cur_offset = offset;
    memcpy(id, msg.p, n);
    id[n] = '\0';
    msg = skip(msg, n + 1);
    if (starts_with(msg, "<= "))
        return on_arrival(st, ll, id, skip(msg, 3));
    if (starts_with(msg, "=> ") || starts_with(msg, "-> "))
        return on_delivery(st, ll, id, skip(msg, 3), 1, offset);
    if (starts_with(msg, "== ") || starts_with(msg, "** "))
        return on_delivery(st, ll, id, skip(msg, 3), 0, offset);
    if (starts_with(msg, "H="))
        return on_host_detail(st, ll, id, msg);
    if (starts_with(msg, "DANE attempt failed; TLS connection to "))
        return on_dane_detail(st, ll, id, msg);
    if (starts_with(msg, "Completed"))
        return on_completed(st, id);
    return 0;
}

/* End of stream: attempts without a concluding line cannot be given a
 * policy domain and are dropped; exclusions are kept in case the stream
 * goes on. */
int trpt_exim_flush(trpt_exim *st, uint64_t offset)
{
    (void)offset;
    if (!st)
        return 0;
    for (exim_msg *m = st->tab.head, *next; m; m = next) {
        next = m->next;
        if (m->nattempts)
            st->ctx->stats->unfinished++;
        m->nattempts = 0;
        if (!m->excluded)
            table_remove(&st->tab, m);
    }
    return 0;
}

void trpt_exim_free(trpt_exim *st)
{
    if (!st)
        return;
    table_free(&st->tab);
    free(st);
}

/* Open: excluded ids and ids with remembered attempts, and the current
 * multi-recipient session (its later lines are not counted again). */
int trpt_exim_oldest_open(const trpt_exim *st, uint64_t *offset)
{
    uint64_t min = 0;
    int found = 0;

    if (!st)
        return 0;
    if (st->have_last) {
        min = st->last_start;
        found = 1;
    }
    for (const exim_msg *m = st->tab.head; m; m = m->next) {
        if (msg_open(m) && (!found || m->open_offset < min)) {
            min = m->open_offset;
            found = 1;
        }
    }
    if (found)
        *offset = min;
    return found;
}
