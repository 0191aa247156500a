/*
 * postfix.c - the Postfix log parser: smtp/tlsproxy lines in, one record per
 * TLS session (RFC 8460 §4.3 result) out. See parser_internal.h.
 *
 * Sessions ("attempts": one STARTTLS/handshake to one MX address) are kept
 * per process, keyed by (reporting host, program, pid), because Postfix TLS
 * lines carry no queue id. An attempt is concluded by the next delivery line
 * "QID: to=<local@domain>, relay=..." of the same smtp pid: the recipient
 * domain is the policy domain (the local part is never stored). Several
 * attempts may precede one delivery (multi-MX: mx1 fails, mx2 delivers); all
 * take that delivery's domain.
 *
 * Two kinds of evidence, merged per attempt:
 *  - Postfix 3.10+ "TLSRPT: status=..." lines: Postfix's own verdict. It wins
 *    over classic lines of the same handshake, which are absorbed, so a
 *    session is counted once whatever the line order (the order differs by
 *    outcome, shared/corpus/postfix-3.10-tlsrpt/README.md).
 *  - classic lines (any version, smtp_tls_loglevel 0-2): verification
 *    failures (maptab_postfix.c), "... TLS connection established",
 *    handshake failures, DANE lines, "TLS is required, but was not offered".
 *    Their verdicts follow Postfix 3.10's own TLSRPT verdicts (design.md).
 *
 * Decisions (evidence in the corpora; tests/core/test_postfix.c checks them):
 *  - cfg->tlsrpt_mode AUTO: once a reporting host has logged a TLSRPT line,
 *    its Postfix reports for itself: a session of that host without a
 *    TLSRPT line is one Postfix chose not to report (no _smtp._tls record,
 *    "TLS-Required: no", connection reuse) and is dropped. ONLY: that from
 *    the start. CLASSIC: TLSRPT lines are ignored. DATAGRAMS: every Postfix
 *    line is ignored (the datagram collector reports for Postfix).
 *  - Success needs TLS evidence ("... TLS connection established", ll1+).
 *    At smtp_tls_loglevel 0 a TLS success looks like plaintext: no record.
 *  - "Verified TLS connection reused" and conn_use= deliveries are not
 *    handshakes: no record (smtp_tlsrpt_skip_reused_handshakes).
 *  - dane-only without TLSA ("no TLSA records found"): Postfix 3.10 sends no
 *    report (no connection is made), so neither do we.
 *  - "TLSA lookup error" / "DANE TLSA lookup problem": dnssec-invalid, policy
 *    tlsa (3.7 corpus scenario 17; Postfix 3.10 not observed).
 *  - Policy type tlsa is set only when DANE lines prove it; the policy
 *    domain is then the MX host (RFC 8460 §3, as Postfix does). Otherwise
 *    the type stays unknown for the aggregator to resolve.
 *  - tlsproxy (smtp_tls_connection_reuse): the handshake lines come from
 *    postfix/tlsproxy[P2], the delivery from postfix/smtp[P]. tlsproxy
 *    attempts wait, keyed by reporting host and IP, until an smtp process of
 *    the same host logs a new attempt or a delivery for that IP (and MX name
 *    when both are known); the oldest waiting one is claimed and merged.
 *
 * Bounds: at most cfg->max_sessions pending attempts and process entries
 * (least recently active process finished first, counted as evicted), 32
 * attempts per process, cfg->session_timeout_s of log time per process
 * (counted as timed_out). A finished-early attempt is emitted only when its
 * domain is known (a TLSRPT line); at flush, the others are dropped and
 * counted as timed_out (the stream ended before they concluded).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "maptab.h"
#include "parser_internal.h"
#include "record.h"

#define PF_NAME_MAX       256  /* domain or MX host name, with NUL */
#define PF_IP_MAX         64   /* textual IPv4/IPv6 address, with NUL */
#define PF_REASON_MAX     64   /* failure-reason-code, with NUL */
#define PF_QID_MAX        32   /* Postfix long queue ids are < 20 chars */
#define PF_PER_PROC       32   /* attempts kept per smtp process */
#define PF_PER_PROXY      1024 /* tlsproxy serves many smtp processes */
#define PF_TLSA_MAX       16   /* TLSA RRs kept as policy strings */
#define PF_TLSA_LEN       1024 /* longer RRs (full certs) are not kept */
#define PF_NATIVE_HOSTS   256  /* hosts known to log TLSRPT lines */
#define PF_KEY_PART_MAX   255  /* host and program part of a table key */
#define PF_SPARE_ATTEMPTS 64   /* finished attempts kept for reuse */

/* Order of a handshake's classic lines; a line of an earlier phase than the
 * attempt has seen starts a new attempt. */
enum pf_phase {
    PH_NONE = 0,
    PH_DANE,      /* TLSA records, "unusable TLSA RR" */
    PH_VERIFY,    /* verification result, "all TLSA records unusable" */
    PH_HANDSHAKE, /* established / handshake failed */
};

typedef struct pf_attempt {
    struct pf_attempt *next;
    uint64_t seq;          /* creation order, for FIFO tlsproxy claims */
    uint64_t first_offset; /* its first line (trpt_parser_oldest_open) */
    int64_t time_us;
    char mx[PF_NAME_MAX];
    char ip[PF_IP_MAX];
    enum pf_phase phase;
    int sealed; /* a later line for this MX starts a new attempt */
    int has_tls;
    int has_classic;
    trpt_result classic_result;
    char classic_reason[PF_REASON_MAX];
    int has_tlsrpt;
    trpt_result tlsrpt_result;
    char tlsrpt_reason[PF_REASON_MAX];
    char tlsrpt_domain[PF_NAME_MAX];
    trpt_policy_type policy;
    trpt_strv tlsa;
} pf_attempt;

/* Intrusive hash table node with a least-recently-used list. */
typedef struct pf_node {
    struct pf_node *hnext;
    struct pf_node *lru_prev, *lru_next;
    uint64_t hash;
    char *key;
    int key_borrowed; /* key lives in the entry's own block: not freed */
} pf_node;

typedef struct pf_table {
    pf_node **buckets;
    size_t nbuckets;
    size_t count;
    pf_node *lru_head, *lru_tail;
} pf_table;

typedef struct pf_proc {
    pf_node node; /* first member: a pf_node * is a pf_proc * */
    char *host;
    int is_proxy;
    struct pf_proc *proxy_prev, *proxy_next;
    pf_attempt *head, *tail;
    unsigned n;
    int64_t last_us;
    /* "DNSSEC-signed TLSA record" lines precede the connection (ll2). */
    char dane_mx[PF_NAME_MAX];
    trpt_strv dane_rrs;
    int dane_used;
    uint64_t dane_offset; /* the line that started dane_mx */
} pf_proc;

typedef struct pf_qid {
    pf_node node;
    uint64_t offset; /* the qmgr line that excluded it */
} pf_qid;

struct trpt_postfix {
    trpt_parser_ctx *ctx;
    pf_table procs;
    pf_table excluded; /* "host\nQID" of excluded senders' messages */
    pf_proc *proxies;
    size_t nattempts;
    uint64_t seq;
    int64_t now_us; /* highest log time seen */
    char *native[PF_NATIVE_HOSTS];
    size_t nnative;
    char *msg; /* NUL-terminated copy of the current message */
    /* Finished attempts for reuse: one session after another would
     * otherwise allocate and free the same ~1 KiB block. */
    pf_attempt *spare;
    size_t nspare;
};

/* Why an attempt is finished. */
enum pf_end {
    END_DELIVERY,
    END_EVICTED,
    END_TIMEOUT,
    END_FLUSH,
};

/* One delivery line's facts. */
typedef struct pf_delivery {
    char qid[PF_QID_MAX];
    char domain[PF_NAME_MAX]; /* empty: none or invalid */
    char mx[PF_NAME_MAX];
    char ip[PF_IP_MAX];
    int conn_reuse;
} pf_delivery;

/* ---- small string helpers --------------------------------------------- */

static size_t prefix_len(const char *s, const char *p)
{
    size_t n = strlen(p);

    return strncmp(s, p, n) == 0 ? n : 0;
}

static void copy_str(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Failure reason codes are tokens; anything else is refused. */
static int reason_ok(const char *s, size_t len)
{
    if (len == 0 || len >= PF_REASON_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!isalnum(c) && c != '-' && c != '_' && c != '.')
            return 0;
    }
    return 1;
}

/* ASCII classes without the locale: these run for every smtp line. */
static inline int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline int is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static inline int is_alnum(char c)
{
    return is_digit(c) || is_lower(c) || (c >= 'A' && c <= 'Z');
}

static int ip_ok(const char *s, size_t len)
{
    if (len == 0 || len >= PF_IP_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (!is_digit(c) && !((c | 0x20) >= 'a' && (c | 0x20) <= 'f') &&
            c != ':' && c != '.')
            return 0;
    }
    return 1;
}

/* "HOST[IP]" optionally followed by ":PORT". The host may be unusable (an
 * IPv6 literal, garbage): mx is then empty. The IP is required. */
static int parse_host_ip(const char *s, char *mx, char *ip, const char **end)
{
    const char *lb = strchr(s, '[');
    const char *rb;

    if (!lb)
        return -EINVAL;
    rb = strchr(lb + 1, ']');
    if (!rb || !ip_ok(lb + 1, (size_t)(rb - lb - 1)))
        return -EINVAL;
    copy_str(ip, PF_IP_MAX, lb + 1, (size_t)(rb - lb - 1));
    if (trpt_domain_normalize(s, (size_t)(lb - s), mx, PF_NAME_MAX) < 0)
        mx[0] = '\0';
    rb++;
    if (*rb == ':')
        for (rb++; is_digit(*rb); rb++)
            ;
    if (end)
        *end = rb;
    return 0;
}

/* Queue ids are upper-case hex (short) or mixed-case base 52 (long);
 * "warning", "error" and friends are all lower-case and are not. */
static size_t qid_len(const char *s)
{
    size_t n = 0;
    int lower_only = 1;

    while (is_alnum(s[n])) {
        if (!is_lower(s[n]))
            lower_only = 0;
        n++;
    }
    if (n < 6 || n >= PF_QID_MAX || lower_only || s[n] != ':' ||
        s[n + 1] != ' ')
        return 0;
    return n;
}

/* ---- hash table -------------------------------------------------------- */

/* Keys are hashed eight bytes a step (a byte loop was a visible share of
 * the run time); the final mix spreads every byte into the low bits that
 * pick the bucket. Only bucket choice depends on it, never output order. */
static uint64_t key_hash(const char *s)
{
    size_t n = strlen(s);
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;

    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    if (n) {
        w = 0;
        memcpy(&w, s, n);
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

static int table_grow(pf_table *t)
{
    size_t n = t->nbuckets ? t->nbuckets * 2 : 64;
    pf_node **b = calloc(n, sizeof *b);

    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < t->nbuckets; i++) {
        pf_node *e = t->buckets[i];

        while (e) {
            pf_node *next = e->hnext;

            e->hnext = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
    return 0;
}

static pf_node *table_find(const pf_table *t, const char *key)
{
    uint64_t h = key_hash(key);

    if (!t->nbuckets)
        return NULL;
    for (pf_node *e = t->buckets[h & (t->nbuckets - 1)]; e; e = e->hnext)
        if (e->hash == h && strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

static void lru_unlink(pf_table *t, pf_node *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        t->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        t->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_append(pf_table *t, pf_node *e)
{
    e->lru_prev = t->lru_tail;
    e->lru_next = NULL;
    if (t->lru_tail)
        t->lru_tail->lru_next = e;
    else
        t->lru_head = e;
    t->lru_tail = e;
}

/* Takes ownership of key (heap) on success. */
static int table_add(pf_table *t, pf_node *e, char *key)
{
    int r;

    if (t->count + 1 > t->nbuckets && (r = table_grow(t)) < 0)
        return r;
    e->key = key;
    e->hash = key_hash(key);
    e->hnext = t->buckets[e->hash & (t->nbuckets - 1)];
    t->buckets[e->hash & (t->nbuckets - 1)] = e;
    lru_append(t, e);
    t->count++;
    return 0;
}

static void table_del(pf_table *t, pf_node *e)
{
    pf_node **pp = &t->buckets[e->hash & (t->nbuckets - 1)];

    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    lru_unlink(t, e);
    t->count--;
    if (!e->key_borrowed)
        free(e->key);
    e->key = NULL;
}

static void table_touch(pf_table *t, pf_node *e)
{
    lru_unlink(t, e);
    lru_append(t, e);
}

/* ---- attempts and processes -------------------------------------------- */

/* Keeps a few for attempt_new(); frees the rest. */
static void attempt_free(trpt_postfix *st, pf_attempt *a)
{
    if (!a)
        return;
    trpt_strv_free(&a->tlsa);
    if (st->nspare < PF_SPARE_ATTEMPTS) {
        a->next = st->spare;
        st->spare = a;
        st->nspare++;
        return;
    }
    free(a);
}

static void proc_unlink_attempt(trpt_postfix *st, pf_proc *p, pf_attempt *a)
{
    pf_attempt **pp = &p->head, *prev = NULL;

    while (*pp && *pp != a) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = a->next;
    if (p->tail == a)
        p->tail = prev;
    a->next = NULL;
    p->n--;
    st->nattempts--;
}

static void proc_append_attempt(trpt_postfix *st, pf_proc *p, pf_attempt *a)
{
    a->next = NULL;
    if (p->tail)
        p->tail->next = a;
    else
        p->head = a;
    p->tail = a;
    p->n++;
    st->nattempts++;
}

static void proc_free(trpt_postfix *st, pf_proc *p)
{
    while (p->head) {
        pf_attempt *a = p->head;

        proc_unlink_attempt(st, p, a);
        attempt_free(st, a);
    }
    if (p->is_proxy) {
        if (p->proxy_prev)
            p->proxy_prev->proxy_next = p->proxy_next;
        else
            st->proxies = p->proxy_next;
        if (p->proxy_next)
            p->proxy_next->proxy_prev = p->proxy_prev;
    }
    table_del(&st->procs, &p->node);
    trpt_strv_free(&p->dane_rrs);
    free(p); /* key and host are in the same block */
}

static int host_is_native(const trpt_postfix *st, const char *host)
{
    for (size_t i = 0; i < st->nnative; i++)
        if (strcmp(st->native[i], host) == 0)
            return 1;
    return 0;
}

static int host_set_native(trpt_postfix *st, const char *host)
{
    if (host_is_native(st, host) || st->nnative == PF_NATIVE_HOSTS)
        return 0;
    if (!(st->native[st->nnative] = strdup(host)))
        return -ENOMEM;
    st->nnative++;
    return 0;
}

/* The policy domain RFC 8460 §3 asks for: the MX host for DANE. */
static const char *attempt_policy_domain(const pf_attempt *a,
                                         const char *domain)
{
    if (a->policy == TRPT_POLICY_TLSA && a->mx[0])
        return a->mx;
    return domain;
}

/* Fills rec with borrowed pointers into p and a (see
 * trpt_parser_emit_borrowed): no copy per field. */
static void attempt_to_record(const pf_proc *p, const pf_attempt *a,
                              const char *domain, const char *qid,
                              trpt_record *rec)
{
    static char mta_postfix[] = "postfix";
    const char *reason = a->has_tlsrpt ? a->tlsrpt_reason : a->classic_reason;

    rec->time_us = a->time_us;
    rec->result = a->has_tlsrpt    ? a->tlsrpt_result
                  : a->has_classic ? a->classic_result
                                   : TRPT_RESULT_SUCCESS;
    rec->policy_type = a->policy == TRPT_POLICY_TLSA && !a->mx[0]
                           ? TRPT_POLICY_UNKNOWN
                           : a->policy;
    rec->policy_domain = (char *)attempt_policy_domain(a, domain);
    rec->reporting_host = p->host;
    rec->mta = mta_postfix;
    rec->receiving_mx_hostname = a->mx[0] ? (char *)a->mx : NULL;
    rec->receiving_ip = a->ip[0] ? (char *)a->ip : NULL;
    rec->failure_reason_code = reason[0] ? (char *)reason : NULL;
    rec->queue_id = qid && qid[0] ? (char *)qid : NULL;
    if (rec->policy_type == TRPT_POLICY_TLSA)
        rec->policy_strings = a->tlsa;
}

/* Decide and emit one attempt; frees it. `domain` and `qid` come from the
 * concluding delivery line (NULL when finished early). */
static int attempt_finish(trpt_postfix *st, pf_proc *p, pf_attempt *a,
                          const char *domain, const char *qid, int excluded,
                          enum pf_end why, uint64_t offset)
{
    trpt_parser_stats *stats = st->ctx->stats;
    trpt_record rec;
    int r = 0;

    if (a->has_tlsrpt)
        domain = a->tlsrpt_domain;
    if (why == END_EVICTED)
        stats->evicted++;
    else if (why == END_TIMEOUT || (why == END_FLUSH && !a->has_tlsrpt))
        stats->timed_out++;
    if (!a->has_tlsrpt &&
        (st->ctx->cfg->tlsrpt_mode == TRPT_TLSRPT_ONLY ||
         host_is_native(st, p->host) || (!a->has_tls && !a->has_classic)))
        goto out; /* Postfix reported nothing; or no TLS evidence */
    if (!domain || !domain[0]) {
        if (why == END_DELIVERY)
            stats->errors[TRPT_PERR_BAD_DOMAIN]++;
        goto out;
    }
    if (excluded) {
        stats->excluded++;
        goto out;
    }
    trpt_record_init(&rec);
    attempt_to_record(p, a, domain, qid, &rec);
    r = trpt_parser_emit_borrowed(st->ctx, &rec, offset);
out:
    attempt_free(st, a);
    return r;
}

/* Finish every attempt of a process early and drop the process. */
static int proc_finish_all(trpt_postfix *st, pf_proc *p, enum pf_end why,
                           uint64_t offset)
{
    int r = 0;

    while (p->head) {
        pf_attempt *a = p->head;
        int e;

        proc_unlink_attempt(st, p, a);
        e = attempt_finish(st, p, a, NULL, NULL, 0, why, offset);
        if (e < 0 && r == 0)
            r = e;
    }
    proc_free(st, p);
    return r;
}

static int enforce_bounds(trpt_postfix *st, uint64_t offset)
{
    size_t max = st->ctx->cfg->max_sessions;
    int r = 0;

    while (st->procs.lru_head &&
           (st->nattempts > max || st->procs.count > max)) {
        int e = proc_finish_all(st, (pf_proc *)st->procs.lru_head, END_EVICTED,
                                offset);

        if (e < 0 && r == 0)
            r = e;
    }
    return r;
}

static int expire_idle(trpt_postfix *st, uint64_t offset)
{
    int64_t limit = (int64_t)st->ctx->cfg->session_timeout_s * 1000000;
    int r = 0;

    while (st->procs.lru_head) {
        pf_proc *p = (pf_proc *)st->procs.lru_head;
        int e;

        if (st->now_us - p->last_us <= limit)
            break;
        e = proc_finish_all(st, p, END_TIMEOUT, offset);
        if (e < 0 && r == 0)
            r = e;
    }
    return r;
}

/* ---- the current line -------------------------------------------------- */

typedef struct pf_line {
    const trpt_logline *ll;
    uint64_t offset;
    char host[PF_KEY_PART_MAX + 1];
    char prog[PF_KEY_PART_MAX + 1];
    size_t host_len, prog_len;
    const char *service; /* after the last '/' of prog: "smtp", ... */
    const char *msg;     /* NUL-terminated */
} pf_line;

/* "host\nprog\npid" (or "host\nQID"), NUL-terminated */
#define PF_KEY_MAX (2 * (PF_KEY_PART_MAX + 1) + 24)

/* Decimal of v at o, NUL-terminated; keys are built for every smtp line,
 * so by hand rather than with asprintf. */
static void put_long(char *o, long v)
{
    char tmp[24];
    unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
    size_t n = 0;

    do {
        tmp[sizeof tmp - ++n] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *o++ = '-';
    memcpy(o, tmp + sizeof tmp - n, n);
    o[n] = '\0';
}

/* host, '\n', then the rest: the common head of every table key. */
static char *key_head(const pf_line *pl, char *key)
{
    memcpy(key, pl->host, pl->host_len);
    key[pl->host_len] = '\n';
    return key + pl->host_len + 1;
}

static void proc_key(const pf_line *pl, char key[PF_KEY_MAX])
{
    char *o = key_head(pl, key);

    memcpy(o, pl->prog, pl->prog_len);
    o[pl->prog_len] = '\n';
    put_long(o + pl->prog_len + 1, pl->ll->pid);
}

/* The key of an excluded message: "host\nQID" (qid shorter than
 * PF_QID_MAX). */
static void qid_key(const pf_line *pl, const char *qid, char key[PF_KEY_MAX])
{
    char *o = key_head(pl, key);
    size_t n = strlen(qid);

    memcpy(o, qid, n + 1);
}

static pf_proc *proc_lookup(trpt_postfix *st, const pf_line *pl)
{
    char key[PF_KEY_MAX];

    if (!st->procs.count)
        return NULL;
    proc_key(pl, key);
    return (pf_proc *)table_find(&st->procs, key);
}

/* A new process entry, its key and host name in one block. */
static pf_proc *proc_alloc(const pf_line *pl)
{
    char key[PF_KEY_MAX];
    size_t klen, hlen = pl->host_len;
    pf_proc *p;

    proc_key(pl, key);
    klen = strlen(key);
    p = calloc(1, sizeof *p + klen + 1 + hlen + 1);
    if (!p)
        return NULL;
    p->node.key = (char *)(p + 1);
    p->node.key_borrowed = 1;
    memcpy(p->node.key, key, klen + 1);
    p->host = p->node.key + klen + 1;
    memcpy(p->host, pl->host, hlen + 1);
    return p;
}

static int proc_get(trpt_postfix *st, const pf_line *pl, pf_proc **out)
{
    pf_proc *p = proc_lookup(st, pl);
    int r;

    if (!p) {
        if (!(p = proc_alloc(pl)))
            return -ENOMEM;
        if ((r = table_add(&st->procs, &p->node, p->node.key)) < 0) {
            free(p);
            return r;
        }
        p->is_proxy = strcmp(pl->service, "tlsproxy") == 0;
        if (p->is_proxy) {
            p->proxy_next = st->proxies;
            if (st->proxies)
                st->proxies->proxy_prev = p;
            st->proxies = p;
        }
    } else {
        table_touch(&st->procs, &p->node);
    }
    p->last_us = pl->ll->time_us;
    *out = p;
    return 0;
}

static int names_compatible(const char *a, const char *b)
{
    return !a[0] || !b[0] || strcmp(a, b) == 0;
}

/* The oldest waiting tlsproxy attempt of this host for mx/ip. */
static pf_attempt *proxy_claim(trpt_postfix *st, const char *host,
                               const char *mx, const char *ip)
{
    pf_proc *best_p = NULL;
    pf_attempt *best = NULL;

    if (!ip[0])
        return NULL;
    for (pf_proc *p = st->proxies; p; p = p->proxy_next) {
        if (strcmp(p->host, host) != 0)
            continue;
        for (pf_attempt *a = p->head; a; a = a->next) {
            if (strcmp(a->ip, ip) == 0 && names_compatible(a->mx, mx) &&
                (!best || a->seq < best->seq)) {
                best = a;
                best_p = p;
            }
        }
    }
    if (best)
        proc_unlink_attempt(st, best_p, best);
    return best;
}

static int strv_contains(const trpt_strv *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++)
        if (strcmp(sv->v[i], s) == 0)
            return 1;
    return 0;
}

static int tlsa_add(trpt_strv *sv, const char *rr)
{
    if (sv->n >= PF_TLSA_MAX || strv_contains(sv, rr))
        return 0;
    return trpt_strv_push(sv, rr);
}

/* RRs announced before the connection belong to the next attempt to
 * that MX host. */
static int attach_dane(pf_proc *p, pf_attempt *a)
{
    int r = 0;

    if (!p->dane_mx[0] || strcmp(p->dane_mx, a->mx) != 0)
        return 0;
    a->policy = TRPT_POLICY_TLSA;
    for (size_t i = 0; i < p->dane_rrs.n && r == 0; i++)
        r = tlsa_add(&a->tlsa, p->dane_rrs.v[i]);
    p->dane_used = 1;
    return r;
}

/* Does a line of `phase` (or a TLSRPT line) continue attempt a? */
static int attempt_continues(const pf_attempt *a, enum pf_phase phase,
                             int is_tlsrpt)
{
    if (is_tlsrpt)
        return !a->has_tlsrpt;
    if (phase == PH_NONE)
        return 1;
    if (a->phase > phase)
        return 0;
    return !(phase == PH_HANDSHAKE && a->phase == PH_HANDSHAKE);
}

static pf_attempt *find_open(pf_proc *p, const char *mx, const char *ip)
{
    pf_attempt *found = NULL;

    for (pf_attempt *a = p->head; a; a = a->next)
        if (!a->sealed && strcmp(a->ip, ip) == 0 && names_compatible(a->mx, mx))
            found = a; /* the latest one */
    return found;
}

static pf_attempt *attempt_new(trpt_postfix *st, const pf_line *pl,
                               const char *mx, const char *ip)
{
    pf_attempt *a = st->spare;

    if (a) {
        st->spare = a->next;
        st->nspare--;
        memset(a, 0, sizeof *a);
    } else if (!(a = calloc(1, sizeof *a))) {
        return NULL;
    }
    a->seq = ++st->seq;
    a->first_offset = pl->offset;
    a->time_us = pl->ll->time_us;
    copy_str(a->mx, sizeof a->mx, mx, strlen(mx));
    copy_str(a->ip, sizeof a->ip, ip, strlen(ip));
    return a;
}

/* Before adding an attempt to p: a tlsproxy process stays active, so its
 * unclaimed attempts time out one by one; then the per-process bound. */
static int make_room(trpt_postfix *st, const pf_line *pl, pf_proc *p)
{
    int64_t limit = (int64_t)st->ctx->cfg->session_timeout_s * 1000000;
    unsigned max = p->is_proxy ? PF_PER_PROXY : PF_PER_PROC;
    int r;

    while (p->head && ((p->is_proxy && st->now_us - p->head->time_us > limit) ||
                       p->n >= max)) {
        pf_attempt *old = p->head;
        enum pf_end why = p->n >= max ? END_EVICTED : END_TIMEOUT;

        proc_unlink_attempt(st, p, old);
        if ((r = attempt_finish(st, p, old, NULL, NULL, 0, why, pl->offset)) <
            0)
            return r;
    }
    return 0;
}

/* The attempt a line about mx/ip belongs to, created when needed. */
static int attempt_get(trpt_postfix *st, const pf_line *pl, pf_proc *p,
                       const char *mx, const char *ip, enum pf_phase phase,
                       int is_tlsrpt, pf_attempt **out)
{
    pf_attempt *a = find_open(p, mx, ip);
    int r;

    if (a && attempt_continues(a, phase, is_tlsrpt)) {
        if (!a->mx[0] && mx[0])
            copy_str(a->mx, sizeof a->mx, mx, strlen(mx));
    } else {
        if (a)
            a->sealed = 1;
        if ((r = make_room(st, pl, p)) < 0)
            return r;
        a = p->is_proxy ? NULL : proxy_claim(st, p->host, mx, ip);
        if (a) {
            a->sealed = 0;
            if (!a->mx[0] && mx[0])
                copy_str(a->mx, sizeof a->mx, mx, strlen(mx));
        } else if (!(a = attempt_new(st, pl, mx, ip))) {
            return -ENOMEM;
        } else {
            a->phase = phase;
        }
        proc_append_attempt(st, p, a);
        if ((r = attach_dane(p, a)) < 0)
            return r;
    }
    if (phase > a->phase)
        a->phase = phase;
    *out = a;
    return 0;
}

static void set_classic(pf_attempt *a, trpt_result res, const char *reason)
{
    if (a->has_classic)
        return; /* the first failure explains the session */
    a->has_classic = 1;
    a->classic_result = res;
    if (reason)
        copy_str(a->classic_reason, sizeof a->classic_reason, reason,
                 strlen(reason));
}

/* ---- line handlers: each returns 1 used, 0 ignored, negative errno ---- */

/* "TLSRPT: status=failure, domain=D, receiving_mx=H[IP],
 *  failure_type=T[, failure_reason=R]" (Postfix 3.10 TLSRPT_README). */
typedef struct pf_tlsrpt {
    int failure;
    trpt_result result;
    char domain[PF_NAME_MAX];
    char mx[PF_NAME_MAX];
    char ip[PF_IP_MAX];
    char reason[PF_REASON_MAX];
} pf_tlsrpt;

static int tlsrpt_field(pf_tlsrpt *t, const char *key, size_t klen,
                        const char *val, size_t vlen, unsigned *seen)
{
    char buf[PF_NAME_MAX];

#define KEY_IS(k) (klen == sizeof(k) - 1 && memcmp(key, k, klen) == 0)
    if (KEY_IS("status")) {
        if (vlen == 7 && memcmp(val, "success", 7) == 0)
            t->failure = 0;
        else if (vlen == 7 && memcmp(val, "failure", 7) == 0)
            t->failure = 1;
        else
            return -EINVAL;
        *seen |= 1;
    } else if (KEY_IS("domain")) {
        if (trpt_domain_normalize(val, vlen, t->domain, sizeof t->domain) < 0)
            return -EINVAL;
        *seen |= 2;
    } else if (KEY_IS("receiving_mx")) {
        if (vlen >= sizeof buf)
            return -EINVAL;
        copy_str(buf, sizeof buf, val, vlen);
        if (parse_host_ip(buf, t->mx, t->ip, NULL) < 0)
            return -EINVAL;
        *seen |= 4;
    } else if (KEY_IS("failure_type")) {
        if (vlen >= sizeof buf)
            return -EINVAL;
        copy_str(buf, sizeof buf, val, vlen);
        if (trpt_result_from_name(buf, &t->result) < 0 ||
            t->result == TRPT_RESULT_SUCCESS)
            return -EINVAL;
        *seen |= 8;
    } else if (KEY_IS("failure_reason")) {
        if (!reason_ok(val, vlen))
            return -EINVAL;
        copy_str(t->reason, sizeof t->reason, val, vlen);
    }
    /* other keys: a later Postfix may add some; ignored */
#undef KEY_IS
    return 0;
}

static int tlsrpt_parse(const char *s, pf_tlsrpt *t)
{
    unsigned seen = 0;

    memset(t, 0, sizeof *t);
    t->result = TRPT_RESULT_SUCCESS;
    while (*s) {
        const char *eq = strchr(s, '=');
        const char *end = strstr(s, ", ");

        if (!end)
            end = s + strlen(s);
        if (!eq || eq > end)
            return -EINVAL;
        if (tlsrpt_field(t, s, (size_t)(eq - s), eq + 1, (size_t)(end - eq - 1),
                         &seen) < 0)
            return -EINVAL;
        s = *end ? end + 2 : end;
    }
    if ((seen & 7) != 7 || (t->failure != ((seen & 8) != 0)))
        return -EINVAL;
    return 0;
}

static int on_tlsrpt(trpt_postfix *st, const pf_line *pl, const char *s)
{
    pf_tlsrpt t;
    pf_proc *p;
    pf_attempt *a;
    int r;

    if (tlsrpt_parse(s, &t) < 0) {
        st->ctx->stats->errors[TRPT_PERR_BAD_TLSRPT_LINE]++;
        return 0;
    }
    if ((r = host_set_native(st, pl->host)) < 0 ||
        (r = proc_get(st, pl, &p)) < 0 ||
        (r = attempt_get(st, pl, p, t.mx, t.ip, PH_NONE, 1, &a)) < 0)
        return r;
    a->has_tlsrpt = 1;
    a->tlsrpt_result = t.failure ? t.result : TRPT_RESULT_SUCCESS;
    copy_str(a->tlsrpt_domain, sizeof a->tlsrpt_domain, t.domain,
             strlen(t.domain));
    copy_str(a->tlsrpt_reason, sizeof a->tlsrpt_reason, t.reason,
             strlen(t.reason));
    return 1;
}

/* A verification failure reason not in the table: validation-failure, with
 * OpenSSL's text as a token the way Postfix writes "self-signed_certificate".
 */
static void reason_from_text(const char *text, char *out)
{
    size_t n = 0;
    const char *colon = strchr(text, ':');

    if (strncmp(text, "num=", 4) == 0 && colon)
        text = colon + 1;
    for (; *text && n + 1 < PF_REASON_MAX; text++) {
        unsigned char c = (unsigned char)*text;

        if (isalnum(c) || c == '-' || c == '.')
            out[n++] = (char)c;
        else if (c == ' ' || c == '_')
            out[n++] = '_';
        else
            break;
    }
    out[n] = '\0';
}

/* "[server ]certificate verification failed for H[IP]:PORT: REASON" */
static int on_verify_failed(trpt_postfix *st, const pf_line *pl, const char *s)
{
    char mx[PF_NAME_MAX], ip[PF_IP_MAX], reason[PF_REASON_MAX];
    const trpt_maprow *row;
    const char *end;
    pf_proc *p;
    pf_attempt *a;
    int r;

    if (parse_host_ip(s, mx, ip, &end) < 0 || strncmp(end, ": ", 2) != 0)
        return 0;
    end += 2;
    if ((r = proc_get(st, pl, &p)) < 0 ||
        (r = attempt_get(st, pl, p, mx, ip, PH_VERIFY, 0, &a)) < 0)
        return r;
    row = trpt_maptab_lookup(trpt_maptab_postfix_verify, end, strlen(end));
    if (row) {
        set_classic(a, row->result, row->reason);
        if (row->implies != TRPT_POLICY_UNKNOWN)
            a->policy = row->implies;
    } else {
        reason_from_text(end, reason);
        set_classic(a, TRPT_RESULT_VALIDATION_FAILURE,
                    reason_ok(reason, strlen(reason)) ? reason : NULL);
    }
    return 1;
}

/* The handshake attempt of the peer "H[IP]:PORT" at s, for this process:
 * 1 found or started, 0 not a peer (line not of interest), or -errno. */
static int handshake_attempt(trpt_postfix *st, const pf_line *pl, const char *s,
                             pf_attempt **a)
{
    char mx[PF_NAME_MAX], ip[PF_IP_MAX];
    pf_proc *p;
    int r;

    if (parse_host_ip(s, mx, ip, NULL) < 0)
        return 0;
    if ((r = proc_get(st, pl, &p)) < 0 ||
        (r = attempt_get(st, pl, p, mx, ip, PH_HANDSHAKE, 0, a)) < 0)
        return r;
    return 1;
}

/* "Verified|Trusted|Untrusted|Anonymous TLS connection established to
 * H[IP]:PORT: ..." (ll1+) */
static int on_established(trpt_postfix *st, const pf_line *pl, const char *s)
{
    pf_attempt *a;
    int r = handshake_attempt(st, pl, s, &a);

    if (r <= 0)
        return r;
    a->has_tls = 1;
    return 1;
}

static void set_handshake_failure(pf_attempt *a)
{
    if (!a->has_tls)
        set_classic(a, TRPT_RESULT_VALIDATION_FAILURE, "tls-handshake-failure");
}

/* "SSL_connect error to H[IP]:PORT: ..." (smtp) and
 * "TLS handshake failed for service=smtp peer=[IP]:PORT" (tlsproxy) */
static int on_handshake_failed(trpt_postfix *st, const pf_line *pl,
                               const char *s)
{
    pf_attempt *a;
    int r = handshake_attempt(st, pl, s, &a);

    if (r <= 0)
        return r;
    set_handshake_failure(a);
    return 1;
}

/* "warning: TLS library problem: ..." names no peer: it belongs to the
 * smtp process's current handshake, if one has not completed. */
static int on_tls_library_problem(trpt_postfix *st, const pf_line *pl)
{
    pf_proc *p = proc_lookup(st, pl);

    if (!p || p->is_proxy || !p->tail || p->tail->sealed || p->tail->has_tls)
        return 0;
    set_handshake_failure(p->tail);
    return 1;
}

/* "DNSSEC-signed TLSA record: _25._tcp.H: 3 1 1 HEX" (ll2, before the
 * connection) */
static int on_dnssec_tlsa(trpt_postfix *st, const pf_line *pl, const char *s)
{
    const char *h = strstr(s, "._tcp.");
    const char *e, *rr;
    char mx[PF_NAME_MAX];
    pf_proc *p;
    int r;

    if (!h)
        return 0;
    h += 6;
    e = h + strcspn(h, ": ");
    if (trpt_domain_normalize(h, (size_t)(e - h), mx, sizeof mx) < 0)
        return 0;
    rr = e + strspn(e, ": ");
    if ((r = proc_get(st, pl, &p)) < 0)
        return r;
    if (p->dane_used || strcmp(p->dane_mx, mx) != 0) {
        trpt_strv_free(&p->dane_rrs);
        copy_str(p->dane_mx, sizeof p->dane_mx, mx, strlen(mx));
        p->dane_used = 0;
        p->dane_offset = pl->offset;
    }
    /* Postfix uses only usages 2 and 3 (DANE-TA, DANE-EE; RFC 7672 §3.1)
     * and reports only those as policy strings. */
    if ((rr[0] == '2' || rr[0] == '3') && rr[1] == ' ' &&
        strlen(rr) < PF_TLSA_LEN && (r = tlsa_add(&p->dane_rrs, rr)) < 0)
        return r;
    return 1;
}

/* "H[IP]:25: unusable TLSA RR: 3 1 1 00FF", "H[IP]:25: all TLSA records
 * unusable, ...", "H[IP]:25: Matched DANE ..." */
static int on_peer_dane(trpt_postfix *st, const pf_line *pl, const char *s)
{
    char mx[PF_NAME_MAX], ip[PF_IP_MAX];
    const char *rest, *rr;
    enum pf_phase ph;
    pf_proc *p;
    pf_attempt *a;
    int r;

    if (parse_host_ip(s, mx, ip, &rest) < 0 || strncmp(rest, ": ", 2) != 0)
        return 0;
    rest += 2;
    if ((rr = strstr(rest, "unusable TLSA RR: ")) == rest)
        ph = PH_DANE;
    else if (prefix_len(rest, "all TLSA records unusable") ||
             prefix_len(rest, "Matched DANE "))
        ph = PH_VERIFY;
    else
        return 0;
    if ((r = proc_get(st, pl, &p)) < 0 ||
        (r = attempt_get(st, pl, p, mx, ip, ph, 0, &a)) < 0)
        return r;
    a->policy = TRPT_POLICY_TLSA;
    if (rr == rest) {
        rr += strlen("unusable TLSA RR: ");
        if (strlen(rr) < PF_TLSA_LEN && (r = tlsa_add(&a->tlsa, rr)) < 0)
            return r;
    } else if (prefix_len(rest, "all TLSA records unusable")) {
        set_classic(a, TRPT_RESULT_TLSA_INVALID, "all-TLSA-records-unusable");
    }
    return 1;
}

/* A DNS failure for the TLSA RRset of MX host h: dnssec-invalid (3.7 corpus
 * scenario 17: the RRSIG was corrupt, the resolver answered SERVFAIL). */
static int tlsa_lookup_failed(trpt_postfix *st, const pf_line *pl,
                              const char *h, size_t hlen)
{
    char mx[PF_NAME_MAX];
    pf_proc *p;
    pf_attempt *a;
    int r;

    if (trpt_domain_normalize(h, hlen, mx, sizeof mx) < 0)
        return 0;
    if ((r = proc_get(st, pl, &p)) < 0 ||
        (r = attempt_get(st, pl, p, mx, "", PH_DANE, 0, &a)) < 0)
        return r;
    a->policy = TRPT_POLICY_TLSA;
    set_classic(a, TRPT_RESULT_DNSSEC_INVALID, NULL);
    return 1;
}

/* "warning: ..." lines of interest */
static int on_warning(trpt_postfix *st, const pf_line *pl, const char *s)
{
    const char *h;
    size_t n;

    if (prefix_len(s, "TLS library problem:"))
        return on_tls_library_problem(st, pl);
    if ((n = prefix_len(s, "DANE TLSA lookup problem: ")) &&
        (h = strstr(s + n, "name=_25._tcp.")) != NULL) {
        h += strlen("name=_25._tcp.");
        return tlsa_lookup_failed(st, pl, h, strcspn(h, " "));
    }
    if ((prefix_len(s, "TLS policy lookup for ") ||
         prefix_len(s, "TLS policy lookup error for ")) &&
        (h = strstr(s, ": TLSA lookup error for ")) != NULL) {
        h += strlen(": TLSA lookup error for ");
        return tlsa_lookup_failed(st, pl, h, strcspn(h, ": "));
    }
    if ((h = strstr(s, " unsupported TLSA ")) != NULL) {
        /* "_25._tcp.H unsupported TLSA certificate usage: 4 1 1 ..."
         * proves DANE for H; the RR itself is not a policy string. */
        const char *m = strstr(s, "._tcp.");
        char mx[PF_NAME_MAX];
        pf_proc *p;
        int r;

        if (!m || m > h ||
            trpt_domain_normalize(m + 6, (size_t)(h - m - 6), mx, sizeof mx) <
                0)
            return 0;
        if ((r = proc_get(st, pl, &p)) < 0)
            return r;
        if (p->dane_used || strcmp(p->dane_mx, mx) != 0) {
            trpt_strv_free(&p->dane_rrs);
            copy_str(p->dane_mx, sizeof p->dane_mx, mx, strlen(mx));
            p->dane_used = 0;
            p->dane_offset = pl->offset;
        }
        return 1;
    }
    return on_peer_dane(st, pl, s);
}

/* Queue-id lines of smtp that are not deliveries ("QID: Server certificate
 * not verified", "QID: lost connection ...") end the current attempts: the
 * next line about an MX is a new connection (multi-MX). */
static int on_smtp_qid_note(trpt_postfix *st, const pf_line *pl,
                            const char *text)
{
    pf_proc *p = proc_lookup(st, pl);
    const char *h;
    int used = 0, r;

    if ((h = strstr(text, "TLS is required, but was not offered by host "))) {
        char mx[PF_NAME_MAX], ip[PF_IP_MAX];
        pf_attempt *a;

        h += strlen("TLS is required, but was not offered by host ");
        if (parse_host_ip(h, mx, ip, NULL) == 0) {
            if ((r = proc_get(st, pl, &p)) < 0 ||
                (r = attempt_get(st, pl, p, mx, ip, PH_NONE, 0, &a)) < 0)
                return r;
            set_classic(a, TRPT_RESULT_STARTTLS_NOT_SUPPORTED, NULL);
            used = 1;
        }
    } else if (strstr(text, "Cannot start TLS: handshake failure") && p &&
               p->tail && !p->tail->sealed) {
        set_handshake_failure(p->tail);
        used = 1;
    }
    for (pf_attempt *a = p ? p->head : NULL; a; a = a->next) {
        a->sealed = 1;
        used = 1;
    }
    return used;
}

/* ---- delivery lines ---------------------------------------------------- */

/* The recipient domain of "to=<local@domain>, ..." (the local part is
 * skipped, never copied). */
static void delivery_domain(const char *to, const char *relay, char *out)
{
    const char *close = NULL, *at = NULL;

    out[0] = '\0';
    for (const char *c = to; c < relay; c++)
        if (*c == '>')
            close = c;
    if (!close)
        return;
    for (const char *c = to; c < close; c++)
        if (*c == '@')
            at = c;
    if (!at || trpt_domain_normalize(at + 1, (size_t)(close - at - 1), out,
                                     PF_NAME_MAX) < 0)
        out[0] = '\0';
}

/* First ", name=" field separator (n bytes, starting with ',') in
 * [p, end), or NULL. Commas are few in a delivery line: cheaper than
 * memmem(), which pays a set-up cost per call. */
static const char *find_field_sep(const char *p, const char *end,
                                  const char *sep, size_t n)
{
    while ((p = memchr(p, ',', (size_t)(end - p))) != NULL) {
        if ((size_t)(end - p) >= n && memcmp(p, sep, n) == 0)
            return p;
        p++;
    }
    return NULL;
}

static int delivery_parse(const char *qid, size_t qlen, const char *s,
                          pf_delivery *d)
{
    const char *relay = strstr(s, ", relay=");
    const char *status, *end;

    memset(d, 0, sizeof *d);
    if (!relay)
        return -EINVAL;
    copy_str(d->qid, sizeof d->qid, qid, qlen);
    delivery_domain(s, relay, d->domain);
    relay += strlen(", relay=");
    if (strncmp(relay, "none", 4) != 0)
        (void)parse_host_ip(relay, d->mx, d->ip, NULL);
    /* conn_use= before status= (Postfix writes it there; text after
     * status= is the server's and proves nothing) */
    end = relay + strlen(relay);
    status = find_field_sep(relay, end, ", status=", 9);
    d->conn_reuse =
        find_field_sep(relay, status ? status : end, ", conn_use=", 11) != NULL;
    return 0;
}

static int qid_excluded(trpt_postfix *st, const pf_line *pl, const char *qid)
{
    char key[PF_KEY_MAX];

    if (!st->excluded.count)
        return 0;
    qid_key(pl, qid, key);
    return table_find(&st->excluded, key) != NULL;
}

/* Delivery evidence: "(TLS is required, but was not offered by host
 * H[IP])" and "(Cannot start TLS: handshake failure)" for the relay. */
static int delivery_evidence(trpt_postfix *st, const pf_line *pl, pf_proc **pp,
                             const pf_delivery *d, const char *s)
{
    /* Both phrases say "TLS": most deliveries are searched once. */
    const char *tls = strstr(s, "TLS");
    const char *h =
        tls ? strstr(tls, "TLS is required, but was not offered by host ")
            : NULL;
    int hs = tls && strstr(s, "Cannot start TLS: handshake failure") != NULL;
    char mx[PF_NAME_MAX], ip[PF_IP_MAX];
    pf_attempt *a;
    int r;

    if (h) {
        h += strlen("TLS is required, but was not offered by host ");
        if (parse_host_ip(h, mx, ip, NULL) < 0)
            return 0;
    } else if (hs && d->ip[0]) {
        strcpy(mx, d->mx);
        strcpy(ip, d->ip);
    } else if (!d->conn_reuse && d->ip[0] && (!*pp || !(*pp)->head)) {
        /* a tlsproxy handshake whose smtp side logged nothing else */
        if (!(a = proxy_claim(st, pl->host, d->mx, d->ip)))
            return 0;
        if ((r = proc_get(st, pl, pp)) < 0) {
            attempt_free(st, a);
            return r;
        }
        proc_append_attempt(st, *pp, a);
        return attach_dane(*pp, a);
    } else {
        return 0;
    }
    /* PH_NONE: the delivery line concludes the handshake it reports */
    if ((r = proc_get(st, pl, pp)) < 0 ||
        (r = attempt_get(st, pl, *pp, mx, ip, PH_NONE, 0, &a)) < 0)
        return r;
    if (h)
        set_classic(a, TRPT_RESULT_STARTTLS_NOT_SUPPORTED, NULL);
    else
        set_handshake_failure(a);
    return 0;
}

/* "QID: to=<local@domain>, relay=H[IP]:PORT, ..., status=..." concludes
 * every pending attempt of this smtp process. */
static int on_delivery(trpt_postfix *st, const pf_line *pl, const char *qid,
                       size_t qlen, const char *s)
{
    pf_proc *p = proc_lookup(st, pl);
    pf_delivery d;
    int excluded, used, r = 0;

    if (delivery_parse(qid, qlen, s, &d) < 0)
        return 0;
    if ((r = delivery_evidence(st, pl, &p, &d, s)) < 0)
        return r;
    if (!p || !p->head)
        return 0;
    used = 1;
    excluded = qid_excluded(st, pl, d.qid);
    while (p->head && r >= 0) {
        pf_attempt *a = p->head;

        proc_unlink_attempt(st, p, a);
        if (!a->mx[0] && d.mx[0] && strcmp(a->ip, d.ip) == 0)
            strcpy(a->mx, d.mx);
        r = attempt_finish(st, p, a, d.domain, d.qid, excluded, END_DELIVERY,
                           pl->offset);
    }
    if (r >= 0 && !p->dane_mx[0])
        proc_free(st, p); /* nothing left to remember */
    return r < 0 ? r : used;
}

/* ---- qmgr: envelope senders of excluded messages ------------------------ */

static int on_qmgr(trpt_postfix *st, const pf_line *pl, const char *qid,
                   size_t qlen, const char *s)
{
    char q[PF_QID_MAX];
    char buf[PF_KEY_MAX];
    char *key;
    pf_node *n;
    int r;

    copy_str(q, sizeof q, qid, qlen);
    if (strcmp(s, "removed") == 0) {
        if (!st->excluded.count)
            return 0;
        qid_key(pl, q, buf);
        n = table_find(&st->excluded, buf);
        if (n) {
            table_del(&st->excluded, n);
            free(n);
        }
        return 0;
    }
    if (strncmp(s, "from=<", 6) == 0) {
        const char *addr = s + 6, *e = strstr(addr, ">, ");

        if (!e ||
            !trpt_parser_sender_excluded(st->ctx, addr, (size_t)(e - addr)))
            return 0;
        if (qid_excluded(st, pl, q))
            return 1;
        qid_key(pl, q, buf);
        if (!(key = strdup(buf)))
            return -ENOMEM;
        if (!(n = calloc(1, sizeof(pf_qid)))) {
            free(key);
            return -ENOMEM;
        }
        ((pf_qid *)n)->offset = pl->offset;
        if ((r = table_add(&st->excluded, n, key)) < 0) {
            free(key);
            free(n);
            return r;
        }
        while (st->excluded.count > st->ctx->cfg->max_sessions) {
            pf_node *old = st->excluded.lru_head;

            table_del(&st->excluded, old);
            free(old);
        }
        return 1;
    }
    return 0;
}

/* ---- dispatch ------------------------------------------------------------ */

static int on_smtp_or_proxy(trpt_postfix *st, const pf_line *pl)
{
    const char *s = pl->msg;
    const char *h;
    size_t n;

    if ((n = prefix_len(s, "TLSRPT: ")))
        return st->ctx->cfg->tlsrpt_mode == TRPT_TLSRPT_CLASSIC
                   ? 0
                   : on_tlsrpt(st, pl, s + n);
    if ((n = qid_len(s))) {
        if (strncmp(s + n + 2, "to=<", 4) == 0)
            return strcmp(pl->service, "smtp") == 0
                       ? on_delivery(st, pl, s, n, s + n + 2)
                       : 0;
        return strcmp(pl->service, "smtp") == 0
                   ? on_smtp_qid_note(st, pl, s + n + 2)
                   : 0;
    }
    if ((n = prefix_len(s, "server certificate verification failed for ")) ||
        (n = prefix_len(s, "certificate verification failed for ")))
        return on_verify_failed(st, pl, s + n);
    if ((prefix_len(s, "Verified ") || prefix_len(s, "Trusted ") ||
         prefix_len(s, "Untrusted ") || prefix_len(s, "Anonymous ")) &&
        (h = strstr(s, " TLS connection established to ")))
        return on_established(st, pl,
                              h + strlen(" TLS connection established to "));
    if ((n = prefix_len(s, "SSL_connect error to ")))
        return on_handshake_failed(st, pl, s + n);
    if ((n = prefix_len(s, "TLS handshake failed for service=smtp peer=")))
        return on_handshake_failed(st, pl, s + n);
    if ((n = prefix_len(s, "warning: ")))
        return on_warning(st, pl, s + n);
    if ((n = prefix_len(s, "DNSSEC-signed TLSA record: ")))
        return on_dnssec_tlsa(st, pl, s + n);
    if (prefix_len(s, "initializing the client-side TLS engine")) {
        /* a new process: whatever this pid left open was another one */
        pf_proc *p = proc_lookup(st, pl);

        return p ? proc_finish_all(st, p, END_TIMEOUT, pl->offset) : 0;
    }
    return on_peer_dane(st, pl, s);
}

/* What a line's program is to this parser. */
enum pf_service {
    SV_OTHER,    /* pickup, cleanup, smtpd, ...: never used */
    SV_SMTP,     /* deliveries and TLS lines */
    SV_TLSPROXY, /* TLS lines of reused connections */
    SV_QMGR,     /* envelope senders, for exclude_senders */
};

static enum pf_service service_kind(const char *sv, size_t n)
{
    if (n == 4 && memcmp(sv, "smtp", 4) == 0)
        return SV_SMTP;
    if (n == 8 && memcmp(sv, "tlsproxy", 8) == 0)
        return SV_TLSPROXY;
    if (n == 4 && memcmp(sv, "qmgr", 4) == 0)
        return SV_QMGR;
    return SV_OTHER;
}

/* The service part of the program name as line_setup() would see it: after
 * the last '/' of the name cut to PF_KEY_PART_MAX bytes. */
static enum pf_service line_service(const trpt_logline *ll)
{
    size_t n = ll->prog_len < PF_KEY_PART_MAX ? ll->prog_len : PF_KEY_PART_MAX;
    const char *slash = memrchr(ll->prog, '/', n);
    const char *sv = slash ? slash + 1 : ll->prog;

    return service_kind(sv, n - (size_t)(sv - ll->prog));
}

/* Lines this parser refuses outright (they do not even move the clock):
 * '\n' in host or program (it separates table key parts), an over-long
 * message. The front end never hands over a message with a NUL in it
 * (framing refuses such lines, trpt_parser_feed_msg() too). */
static int line_refused(const trpt_logline *ll)
{
    size_t hn = ll->host ? ll->host_len : 0;
    size_t pn = ll->prog_len;

    if (hn > PF_KEY_PART_MAX)
        hn = PF_KEY_PART_MAX;
    if (pn > PF_KEY_PART_MAX)
        pn = PF_KEY_PART_MAX;
    if (ll->newline_free) /* the framer saw the whole line */
        return ll->msg_len > TRPT_LOGLINE_MAX;
    return (hn && memchr(ll->host, '\n', hn)) || memchr(ll->prog, '\n', pn) ||
           ll->msg_len > TRPT_LOGLINE_MAX;
}

/* The NUL-terminated copies the handlers work on. */
static void line_setup(trpt_postfix *st, const trpt_logline *ll,
                       uint64_t offset, pf_line *pl)
{
    const char *slash;

    pl->ll = ll;
    pl->offset = offset;
    copy_str(pl->host, sizeof pl->host, ll->host ? ll->host : "",
             ll->host ? ll->host_len : 0);
    copy_str(pl->prog, sizeof pl->prog, ll->prog, ll->prog_len);
    pl->host_len = strlen(pl->host);
    pl->prog_len = strlen(pl->prog);
    slash = strrchr(pl->prog, '/');
    pl->service = slash ? slash + 1 : pl->prog;
    memcpy(st->msg, ll->msg, ll->msg_len);
    st->msg[ll->msg_len] = '\0';
    pl->msg = st->msg;
}

/* qmgr lines matter only when some envelope sender is excluded. */
static int want_line(const trpt_postfix *st, enum pf_service sv)
{
    const char *const *senders = st->ctx->cfg->exclude_senders;

    if (sv == SV_SMTP || sv == SV_TLSPROXY)
        return 1;
    return sv == SV_QMGR && senders && senders[0];
}

int trpt_postfix_line(trpt_postfix *st, const trpt_logline *ll, uint64_t offset)
{
    enum pf_service sv;
    pf_line pl;
    size_t n;
    int r, used = 0;

    if (!st || !ll || !ll->prog || !ll->msg || line_refused(ll))
        return 0;
    if (st->ctx->cfg->tlsrpt_mode == TRPT_TLSRPT_DATAGRAMS)
        return 0; /* tlsrpt collect counts this host's Postfix */
    if (ll->time_us > st->now_us)
        st->now_us = ll->time_us;
    if ((r = expire_idle(st, offset)) < 0)
        return r;
    sv = line_service(ll);
    if (!want_line(st, sv))
        return 0; /* nothing below can change for a line not used */
    line_setup(st, ll, offset, &pl);
    if (sv == SV_SMTP || sv == SV_TLSPROXY)
        used = on_smtp_or_proxy(st, &pl);
    else if ((n = qid_len(pl.msg)))
        used = on_qmgr(st, &pl, pl.msg, n, pl.msg + n + 2);
    if (used < 0)
        return used;
    if ((r = enforce_bounds(st, offset)) < 0)
        return r;
    return used > 0;
}

int trpt_postfix_new(trpt_postfix **out, trpt_parser_ctx *ctx)
{
    trpt_postfix *st;

    if (!out || !ctx)
        return -EINVAL;
    st = calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    st->msg = malloc(TRPT_LOGLINE_MAX + 1);
    if (!st->msg) {
        free(st);
        return -ENOMEM;
    }
    st->ctx = ctx;
    *out = st;
    return 0;
}

int trpt_postfix_flush(trpt_postfix *st, uint64_t offset)
{
    int r = 0;

    if (!st)
        return 0;
    while (st->procs.lru_head) {
        int e = proc_finish_all(st, (pf_proc *)st->procs.lru_head, END_FLUSH,
                                offset);

        if (e < 0 && r == 0)
            r = e;
    }
    return r;
}

void trpt_postfix_free(trpt_postfix *st)
{
    if (!st)
        return;
    while (st->procs.lru_head)
        proc_free(st, (pf_proc *)st->procs.lru_head);
    while (st->excluded.lru_head) {
        pf_node *n = st->excluded.lru_head;

        table_del(&st->excluded, n);
        free(n);
    }
    while (st->spare) {
        pf_attempt *a = st->spare;

        st->spare = a->next;
        free(a);
    }
    free(st->procs.buckets);
    free(st->excluded.buckets);
    for (size_t i = 0; i < st->nnative; i++)
        free(st->native[i]);
    free(st->msg);
    free(st);
}

/* ---- restart support (parser.h) ------------------------------------------ */

static void take_min(uint64_t v, uint64_t *min, int *found)
{
    if (!*found || v < *min)
        *min = v;
    *found = 1;
}

/* Every entry whose state a later line can use: attempts (of smtp and
 * tlsproxy processes), DNSSEC TLSA lines a process keeps for its next
 * attempt, excluded queue ids. A process without these is harmless to
 * lose. */
int trpt_postfix_oldest_open(const trpt_postfix *st, uint64_t *offset)
{
    uint64_t min = 0;
    int found = 0;

    if (!st)
        return 0;
    for (const pf_node *n = st->procs.lru_head; n; n = n->lru_next) {
        const pf_proc *p = (const pf_proc *)n;

        for (const pf_attempt *a = p->head; a; a = a->next)
            take_min(a->first_offset, &min, &found);
        if (p->dane_mx[0])
            take_min(p->dane_offset, &min, &found);
    }
    for (const pf_node *n = st->excluded.lru_head; n; n = n->lru_next)
        take_min(((const pf_qid *)n)->offset, &min, &found);
    if (found)
        *offset = min;
    return found;
}

const char *trpt_postfix_native_host(const trpt_postfix *st, size_t i)
{
    return st && i < st->nnative ? st->native[i] : NULL;
}

int trpt_postfix_add_native_host(trpt_postfix *st, const char *host)
{
    size_t n;

    if (!st || !host)
        return -EINVAL;
    n = strlen(host);
    /* the parser's own host keys: cut to PF_KEY_PART_MAX, no '\n' */
    if (n > PF_KEY_PART_MAX || memchr(host, '\n', n))
        return -EINVAL;
    return host_set_native(st, host);
}
