/*
 * gen_postfix_log.c - fast, deterministic generator of synthetic Postfix
 * maillogs for the ingest benchmark.
 *
 *   gen_postfix_log --lines N --domains D --seed S [--loglevel 0|1]
 *                   [--tlsrpt 0|1] [--concurrency C] [--date "Nov 27"]
 *                   [--host NAME] [--expect FILE]
 *
 * Writes traditional syslog lines ("Nov 27 11:45:39 host prog[pid]: msg")
 * to stdout. Every message text is copied from a real line in
 * shared/corpus (Postfix 3.7 at smtp_tls_loglevel 0/1, Postfix 3.10 with
 * its "TLSRPT: status=..." lines); only names, addresses, ids and numbers
 * vary. C smtp processes (default 50) deliver at once, so their pid-linked
 * TLS lines interleave the way a busy host's do, and a process is replaced
 * by a new pid after a while (max_use).
 *
 * Each recipient domain has a fixed behaviour (verified TLS, opportunistic
 * untrusted TLS, expired certificate, ...), so the same domain keeps failing
 * the same way, as it does in real logs. Timestamps increase monotonically
 * across one UTC day. Output stops starting new messages after N lines and
 * finishes the ones in flight, so every session in the log is complete.
 *
 * The expected outcome (TLS sessions per RFC 8460 result, plus deliveries
 * that are not TLS sessions at all) goes to stderr, or to FILE with
 * --expect, as "key=value" lines.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- scenarios ------------------------------------------------------- */

/* What one delivery attempt looks like in the log. The first group are TLS
 * sessions (one TLSRPT result each); the rest make no TLS session. */
typedef enum scenario {
    SC_VERIFIED = 0, /* 01-valid-secure: Verified ... established */
    SC_TRUSTED,      /* 15-dane-no-tlsa-fallback: Trusted ... established */
    SC_UNTRUSTED,    /* 04-expired-may / 3.10 may.test: success */
    SC_EXPIRED,      /* 03-expired-secure */
    SC_MISMATCH,     /* 05-mismatch-secure / 3.10 wronghost.test */
    SC_SELFSIGNED,   /* 07-selfsigned-secure / 3.10 selfsigned.test */
    SC_NOSTARTTLS,   /* 10-nostarttls-encrypt / 3.10 nostarttls.test */
    SC_HANDSHAKE,    /* 3.10 tlsabort.test: SSL_connect error */
    SC_PLAINTEXT,    /* 11-nostarttls-may: no TLS line at all */
    SC_REUSED,       /* 3.10 phase B1: "TLS connection reused", conn_use= */
    SC_SUSPENDED,    /* postfix/error "delivery temporarily suspended" */
    SC_COUNT
} scenario;

#define SC_FIRST_NO_SESSION SC_PLAINTEXT

/* The RFC 8460 result each TLS session scenario must produce: the verdicts
 * of Postfix 3.10's own TLSRPT datagrams (shared/corpus/postfix-3.10-tlsrpt,
 * the design's ground truth), e.g. self-signed -> validation-failure. */
static const char *const scenario_result[SC_COUNT] = {
    [SC_VERIFIED] = "success",
    [SC_TRUSTED] = "success",
    [SC_UNTRUSTED] = "success",
    [SC_EXPIRED] = "certificate-expired",
    [SC_MISMATCH] = "certificate-host-mismatch",
    [SC_SELFSIGNED] = "validation-failure",
    [SC_NOSTARTTLS] = "starttls-not-supported",
    [SC_HANDSHAKE] = "validation-failure",
};

static const char *const scenario_name[SC_COUNT] = {
    "verified",  "trusted",    "untrusted-may", "expired",
    "mismatch",  "selfsigned", "nostarttls",    "handshake",
    "plaintext", "reused",     "suspended",
};

/* Domain behaviour classes, per mille: mostly healthy, some broken. */
static const unsigned domain_class_weight[SC_FIRST_NO_SESSION + 1] = {
    [SC_VERIFIED] = 600,  [SC_TRUSTED] = 40,   [SC_UNTRUSTED] = 170,
    [SC_EXPIRED] = 35,    [SC_MISMATCH] = 35,  [SC_SELFSIGNED] = 30,
    [SC_NOSTARTTLS] = 25, [SC_HANDSHAKE] = 25, [SC_PLAINTEXT] = 40,
};

#define REUSE_PERCENT     3  /* of deliveries to TLS-capable domains */
#define SUSPEND_PERCENT   15 /* of attempts to failing domains */
#define SMTPD_PERCENT     30 /* messages arriving by SMTP, not pickup */
#define SHARED_MX_PERCENT 25 /* domains hosted by a big provider's MX */
#define N_PROVIDERS       16

/* ---- deterministic PRNG (splitmix64) --------------------------------- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t rng_below(uint32_t n)
{
    return (uint32_t)(((rng_next() >> 32) * (uint64_t)n) >> 32);
}

static uint64_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ull;
    return x ^ (x >> 33);
}

/* ---- output buffer ---------------------------------------------------- */

#define OUT_CAP        (1u << 20)
#define LINE_MAX_BYTES 1024 /* no generated line comes near this */

static char out_buf[OUT_CAP];
static size_t out_len;

static void out_flush(void)
{
    size_t off = 0;

    while (off < out_len) {
        ssize_t n = write(STDOUT_FILENO, out_buf + off, out_len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            perror("gen_postfix_log: write");
            exit(1);
        }
        off += (size_t)n;
    }
    out_len = 0;
}

static inline void put(const char *s, size_t n)
{
    memcpy(out_buf + out_len, s, n);
    out_len += n;
}

#define PUTS(lit) put(lit, sizeof(lit) - 1)

static inline void put_str(const char *s)
{
    put(s, strlen(s));
}

static inline void put_uint(uint64_t v)
{
    char tmp[24];
    int i = 24;

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(tmp + i, (size_t)(24 - i));
}

/* Postfix delay fields: seconds with up to two decimals, trailing zeros
 * dropped ("0", "0.05", "0.2", "24"). */
static inline void put_centis(unsigned c)
{
    put_uint(c / 100);
    if (c % 100) {
        out_buf[out_len++] = '.';
        out_buf[out_len++] = (char)('0' + c % 100 / 10);
        if (c % 10)
            out_buf[out_len++] = (char)('0' + c % 10);
    }
}

static inline void put_hex_upper(uint64_t v, int digits)
{
    static const char hex[] = "0123456789ABCDEF";

    for (int i = digits - 1; i >= 0; i--)
        out_buf[out_len++] = hex[(v >> (4 * i)) & 15];
}

/* ---- the world: domains, MX hosts, processes ------------------------- */

typedef struct domain_info {
    char name[40];
    char mx[48];
    char ip[16];
    scenario cls;
} domain_info;

typedef struct gen_opts {
    uint64_t lines;
    uint32_t domains;
    uint64_t seed;
    int loglevel;
    int tlsrpt;
    unsigned concurrency;
    char date[7]; /* "Nov 27" or "Nov  1" */
    const char *host;
    const char *expect_path;
} gen_opts;

static const char *const tld[] = {"example", "example.com", "example.net",
                                  "example.org", "test"};
static const char *const word[] = {"acme",  "globex", "initech",  "umbrella",
                                   "stark", "wayne",  "wonka",    "tyrell",
                                   "cyber", "hooli",  "vandelay", "soylent"};

static scenario pick_domain_class(uint64_t h)
{
    unsigned r = (unsigned)(h % 1000), acc = 0;

    for (int c = 0; c <= SC_FIRST_NO_SESSION; c++) {
        acc += domain_class_weight[c];
        if (r < acc)
            return (scenario)c;
    }
    return SC_VERIFIED;
}

/* Domain i's name, MX and behaviour depend on (seed, i) only. */
static void make_domain(domain_info *d, uint32_t i, uint64_t seed)
{
    uint64_t h = hash64(seed ^ ((uint64_t)i << 20) ^ 0x5bd1e995u);
    uint32_t ip = i + 1;

    snprintf(d->name, sizeof d->name, "%s%" PRIu32 ".%s",
             word[h % (sizeof word / sizeof *word)], i,
             tld[(h >> 8) % (sizeof tld / sizeof *tld)]);
    d->cls = pick_domain_class(h >> 16);
    if ((h >> 32) % 100 < SHARED_MX_PERCENT && d->cls <= SC_UNTRUSTED) {
        /* A provider's MX serves many domains; the TLS lines then name
         * the provider, and only the to=<> line tells the domain. */
        unsigned p = (unsigned)((h >> 40) % N_PROVIDERS);
        unsigned k = (unsigned)((h >> 48) % 4);
        snprintf(d->mx, sizeof d->mx, "mx%u.mail-provider%u.example", k + 1, p);
        ip = 16000000u + 4 * p + k;
    } else {
        snprintf(d->mx, sizeof d->mx, "mx%s.%s", (h >> 56) & 1 ? "1" : "",
                 d->name);
    }
    /* 250 hosts per /24 keeps .0 and .255 out; unique up to 16 M */
    snprintf(d->ip, sizeof d->ip, "10.%u.%u.%u", ip / 64000 % 256,
             ip / 250 % 256, ip % 250 + 1);
}

/* ---- sessions ---------------------------------------------------------- */

typedef enum line_kind {
    LK_SMTPD_CONNECT,
    LK_SMTPD_CLIENT,
    LK_SMTPD_DISCONNECT,
    LK_PICKUP,
    LK_CLEANUP,
    LK_QMGR_FROM,
    LK_TLS_ESTABLISHED,
    LK_TLS_REUSED,
    LK_VERIFY_FAILED,
    LK_SSL_CONNECT_ERROR,
    LK_TLS_LIBRARY_WARNING,
    LK_TLSRPT,
    LK_DELIVERY,
    LK_SUSPENDED,
    LK_REMOVED,
} line_kind;

#define MAX_STEPS 16

typedef struct session {
    scenario sc;
    const domain_info *dom;
    uint64_t qid;
    unsigned local_part;
    unsigned cipher;
    unsigned smtpd_pid;
    uint8_t steps[MAX_STEPS];
    uint8_t n_steps, next;
} session;

typedef struct slot {
    unsigned pid;       /* this smtp process */
    unsigned uses_left; /* deliveries before it exits (max_use) */
    session s;
    int busy;
} slot;

typedef struct world {
    gen_opts o;
    domain_info *doms;
    slot *slots;
    uint64_t lines_out;
    uint64_t qid_seq;
    unsigned next_pid;
    unsigned pickup_pid, qmgr_pid, error_pid;
    unsigned cleanup_pids[3];
    uint64_t count[SC_COUNT];
    uint8_t *domain_used;
    uint64_t domains_used;
    /* cached "Mmm dd HH:MM:SS host " prefix */
    char prefix[128];
    size_t prefix_len;
    long prefix_sec;
} world;

static const char *const cipher_text[] = {
    /* 3.10 corpus */
    "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
    "x25519 server-signature ECDSA (prime256v1) server-digest SHA256",
    /* 3.7 corpus */
    "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
    "X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
    "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
    "TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits) key-exchange "
    "X25519 server-signature RSA-PSS (4096 bits) server-digest SHA256",
};

static const char *const local_parts[] = {
    "user",    "info",  "alice",   "bob",     "postmaster", "sales",
    "support", "j.doe", "contact", "billing", "noreply",    "team"};

static const char *const senders[] = {
    "newsletter@sender.example", "alerts@sender.example",
    "billing@sender.example", "tester@sender.example"};

static int delivered(scenario sc)
{
    return sc <= SC_UNTRUSTED || sc == SC_PLAINTEXT || sc == SC_REUSED;
}

static void add_step(session *s, line_kind k)
{
    if (s->n_steps < MAX_STEPS)
        s->steps[s->n_steps++] = (uint8_t)k;
}

/* Postfix 3.10 logs its TLSRPT verdict at the point it decides it; the
 * position relative to the "established" line follows the corpus. */
static void add_tls_steps(world *w, session *s)
{
    int ll1 = w->o.loglevel >= 1, rpt = w->o.tlsrpt;

    switch (s->sc) {
    case SC_VERIFIED:
    case SC_TRUSTED:
    case SC_UNTRUSTED:
        if (ll1)
            add_step(s, LK_TLS_ESTABLISHED);
        if (rpt)
            add_step(s, LK_TLSRPT);
        break;
    case SC_EXPIRED:
    case SC_SELFSIGNED:
        add_step(s, LK_VERIFY_FAILED);
        if (rpt)
            add_step(s, LK_TLSRPT);
        if (ll1)
            add_step(s, LK_TLS_ESTABLISHED); /* Untrusted */
        break;
    case SC_MISMATCH:
        add_step(s, LK_VERIFY_FAILED);
        if (ll1)
            add_step(s, LK_TLS_ESTABLISHED); /* Trusted */
        if (rpt)
            add_step(s, LK_TLSRPT);
        break;
    case SC_NOSTARTTLS:
        if (rpt)
            add_step(s, LK_TLSRPT);
        break;
    case SC_HANDSHAKE:
        add_step(s, LK_SSL_CONNECT_ERROR);
        add_step(s, LK_TLS_LIBRARY_WARNING);
        if (rpt)
            add_step(s, LK_TLSRPT);
        break;
    case SC_REUSED:
        if (ll1)
            add_step(s, LK_TLS_REUSED);
        break;
    default:
        break;
    }
}

static scenario pick_scenario(const domain_info *d)
{
    if (d->cls <= SC_UNTRUSTED && rng_below(100) < REUSE_PERCENT)
        return SC_REUSED;
    if (d->cls >= SC_EXPIRED && d->cls <= SC_HANDSHAKE &&
        rng_below(100) < SUSPEND_PERCENT)
        return SC_SUSPENDED;
    return d->cls;
}

/* Skewed popularity: a few domains get much of the mail. */
static uint32_t pick_domain(const world *w)
{
    uint64_t u = rng_next() >> 32, v = rng_next() >> 32;
    uint64_t prod = (u * v) >> 32; /* product of two uniforms */

    return (uint32_t)((prod * w->o.domains) >> 32);
}

static void start_session(world *w, slot *sl)
{
    session *s = &sl->s;
    uint32_t di = pick_domain(w);

    memset(s, 0, sizeof *s);
    s->dom = &w->doms[di];
    s->sc = pick_scenario(s->dom);
    /* A bijection on 44 bits keeps queue ids unique and random-looking. */
    s->qid = (++w->qid_seq * 0x9E3779B97F4Bull) & ((1ull << 44) - 1);
    s->local_part = rng_below(sizeof local_parts / sizeof *local_parts);
    s->cipher = rng_below(100) < 70 ? 0 : 1 + rng_below(3);
    w->count[s->sc]++;
    if (!w->domain_used[di]) {
        w->domain_used[di] = 1;
        w->domains_used++;
    }

    if (s->sc == SC_SUSPENDED) {
        /* a retry of a message whose destination qmgr marked dead */
        add_step(s, LK_QMGR_FROM);
        add_step(s, LK_SUSPENDED);
    } else {
        if (rng_below(100) < SMTPD_PERCENT) {
            s->smtpd_pid = 3000 + rng_below(40);
            add_step(s, LK_SMTPD_CONNECT);
            add_step(s, LK_SMTPD_CLIENT);
            add_step(s, LK_CLEANUP);
            add_step(s, LK_QMGR_FROM);
            add_step(s, LK_SMTPD_DISCONNECT);
        } else {
            add_step(s, LK_PICKUP);
            add_step(s, LK_CLEANUP);
            add_step(s, LK_QMGR_FROM);
        }
        add_tls_steps(w, s);
        add_step(s, LK_DELIVERY);
        if (delivered(s->sc))
            add_step(s, LK_REMOVED);
    }
    if (sl->uses_left == 0) {
        sl->pid = w->next_pid++;
        sl->uses_left = 50 + rng_below(150);
    }
    sl->uses_left--;
    sl->busy = 1;
}

/* ---- line rendering ------------------------------------------------------ */

static void put_prefix(world *w)
{
    uint64_t i = w->lines_out;
    long sec = (long)(i * 86400 / (w->o.lines ? w->o.lines : 1));

    if (sec > 86399)
        sec = 86399;
    if (sec != w->prefix_sec) {
        w->prefix_len = (size_t)snprintf(
            w->prefix, sizeof w->prefix, "%s %02ld:%02ld:%02ld %s ", w->o.date,
            sec / 3600, sec / 60 % 60, sec % 60, w->o.host);
        w->prefix_sec = sec;
    }
    put(w->prefix, w->prefix_len);
}

static void put_proc(const char *prog, unsigned pid)
{
    put_str(prog);
    out_buf[out_len++] = '[';
    put_uint(pid);
    PUTS("]: ");
}

static void put_qid(const session *s)
{
    put_hex_upper(s->qid, 11);
    PUTS(": ");
}

static void put_mx_addr(const session *s)
{
    put_str(s->dom->mx);
    out_buf[out_len++] = '[';
    put_str(s->dom->ip);
    out_buf[out_len++] = ']';
}

static const char *established_word(scenario sc)
{
    switch (sc) {
    case SC_VERIFIED:
        return "Verified";
    case SC_TRUSTED:
    case SC_MISMATCH:
        return "Trusted";
    default:
        return "Untrusted";
    }
}

/* "TLSRPT: status=..." as Postfix 3.10 logs it (maillog.txt). */
static void put_tlsrpt(const session *s)
{
    PUTS("TLSRPT: status=");
    put_str(s->sc <= SC_UNTRUSTED ? "success" : "failure");
    PUTS(", domain=");
    put_str(s->dom->name);
    PUTS(", receiving_mx=");
    put_mx_addr(s);
    switch (s->sc) {
    case SC_EXPIRED:
        PUTS(", failure_type=certificate_expired");
        break;
    case SC_MISMATCH:
        PUTS(", failure_type=certificate_host_mismatch");
        break;
    case SC_SELFSIGNED:
        PUTS(", failure_type=validation_failure, "
             "failure_reason=self-signed_certificate");
        break;
    case SC_NOSTARTTLS:
        PUTS(", failure_type=starttls_not_supported");
        break;
    case SC_HANDSHAKE:
        PUTS(", failure_type=validation_failure, "
             "failure_reason=tls-handshake-failure");
        break;
    default:
        break;
    }
}

static void put_verify_failed(const session *s)
{
    /* 07-selfsigned-secure: no "server " prefix for chain errors */
    if (s->sc == SC_SELFSIGNED)
        PUTS("certificate verification failed for ");
    else
        PUTS("server certificate verification failed for ");
    put_mx_addr(s);
    PUTS(":25: ");
    if (s->sc == SC_EXPIRED)
        PUTS("certificate has expired");
    else if (s->sc == SC_MISMATCH)
        PUTS("num=62:hostname mismatch");
    else
        PUTS("self-signed certificate");
}

static void put_delays(int connected)
{
    unsigned a = rng_below(30), b = rng_below(5);
    unsigned c = connected ? 1 + rng_below(30) : 0;
    unsigned d = connected ? rng_below(10) : 0;

    PUTS("delay=");
    put_centis(a + b + c + d);
    PUTS(", delays=");
    put_centis(a);
    out_buf[out_len++] = '/';
    put_centis(b);
    out_buf[out_len++] = '/';
    put_centis(c);
    out_buf[out_len++] = '/';
    put_centis(d);
}

static void put_recipient(const session *s)
{
    PUTS("to=<");
    put_str(local_parts[s->local_part]);
    out_buf[out_len++] = '@';
    put_str(s->dom->name);
    PUTS(">, ");
}

static void put_delivery(const session *s)
{
    put_qid(s);
    put_recipient(s);
    PUTS("relay=");
    put_mx_addr(s);
    PUTS(":25, ");
    if (s->sc == SC_REUSED) {
        PUTS("conn_use=");
        put_uint(2 + rng_below(8));
        PUTS(", ");
    }
    put_delays(1);
    switch (s->sc) {
    case SC_EXPIRED:
    case SC_MISMATCH:
    case SC_SELFSIGNED:
        PUTS(", dsn=4.7.5, status=deferred (Server certificate not "
             "verified)");
        break;
    case SC_NOSTARTTLS:
        PUTS(", dsn=4.7.4, status=deferred (TLS is required, but was not "
             "offered by host ");
        put_mx_addr(s);
        out_buf[out_len++] = ')';
        break;
    case SC_HANDSHAKE:
        PUTS(", dsn=4.7.5, status=deferred (Cannot start TLS: handshake "
             "failure)");
        break;
    default:
        PUTS(", dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as ");
        put_hex_upper(rng_next(), 11);
        out_buf[out_len++] = ')';
        break;
    }
}

static void put_suspended(const session *s)
{
    put_qid(s);
    put_recipient(s);
    PUTS("relay=none, ");
    put_delays(0);
    if (s->dom->cls == SC_NOSTARTTLS) {
        PUTS(", dsn=4.7.4, status=deferred (delivery temporarily suspended: "
             "TLS is required, but was not offered by host ");
        put_mx_addr(s);
        out_buf[out_len++] = ')';
    } else if (s->dom->cls == SC_HANDSHAKE) {
        PUTS(", dsn=4.7.5, status=deferred (delivery temporarily suspended: "
             "Cannot start TLS: handshake failure)");
    } else {
        PUTS(", dsn=4.7.5, status=deferred (delivery temporarily suspended: "
             "Server certificate not verified)");
    }
}

static void put_client_ip(const session *s)
{
    PUTS("unknown[192.0.2.");
    put_uint(1 + s->qid % 250);
    out_buf[out_len++] = ']';
}

static void render_line(world *w, const slot *sl, line_kind k)
{
    const session *s = &sl->s;

    put_prefix(w);
    switch (k) {
    case LK_SMTPD_CONNECT:
        put_proc("postfix/smtpd", s->smtpd_pid);
        PUTS("connect from ");
        put_client_ip(s);
        break;
    case LK_SMTPD_CLIENT:
        put_proc("postfix/smtpd", s->smtpd_pid);
        put_qid(s);
        PUTS("client=");
        put_client_ip(s);
        break;
    case LK_SMTPD_DISCONNECT:
        put_proc("postfix/smtpd", s->smtpd_pid);
        PUTS("disconnect from ");
        put_client_ip(s);
        PUTS(" ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5");
        break;
    case LK_PICKUP:
        put_proc("postfix/pickup", w->pickup_pid);
        put_qid(s);
        PUTS("uid=0 from=<");
        put_str(senders[s->qid % 4]);
        out_buf[out_len++] = '>';
        break;
    case LK_CLEANUP:
        put_proc("postfix/cleanup", w->cleanup_pids[s->qid % 3]);
        put_qid(s);
        PUTS("message-id=<");
        put_uint(s->qid);
        out_buf[out_len++] = '.';
        put_uint(w->lines_out);
        out_buf[out_len++] = '@';
        put_str(w->o.host);
        PUTS(".sender.example>");
        break;
    case LK_QMGR_FROM:
        put_proc("postfix/qmgr", w->qmgr_pid);
        put_qid(s);
        PUTS("from=<");
        put_str(senders[s->qid % 4]);
        PUTS(">, size=");
        put_uint(300 + rng_below(60000));
        PUTS(", nrcpt=1 (queue active)");
        break;
    case LK_TLS_ESTABLISHED:
        put_proc("postfix/smtp", sl->pid);
        put_str(established_word(s->sc));
        PUTS(" TLS connection established to ");
        put_mx_addr(s);
        PUTS(":25: ");
        put_str(cipher_text[s->cipher]);
        break;
    case LK_TLS_REUSED:
        put_proc("postfix/smtp", sl->pid);
        put_str(established_word(s->dom->cls));
        PUTS(" TLS connection reused to ");
        put_mx_addr(s);
        PUTS(":25: ");
        put_str(cipher_text[s->cipher]);
        break;
    case LK_VERIFY_FAILED:
        put_proc("postfix/smtp", sl->pid);
        put_verify_failed(s);
        break;
    case LK_SSL_CONNECT_ERROR:
        put_proc("postfix/smtp", sl->pid);
        PUTS("SSL_connect error to ");
        put_mx_addr(s);
        PUTS(":25: -1");
        break;
    case LK_TLS_LIBRARY_WARNING:
        put_proc("postfix/smtp", sl->pid);
        PUTS("warning: TLS library problem: error:0A00010B:SSL routines::"
             "wrong version number:../ssl/record/methods/tlsany_meth.c:77:");
        break;
    case LK_TLSRPT:
        put_proc("postfix/smtp", sl->pid);
        put_tlsrpt(s);
        break;
    case LK_DELIVERY:
        put_proc("postfix/smtp", sl->pid);
        put_delivery(s);
        break;
    case LK_SUSPENDED:
        put_proc("postfix/error", w->error_pid);
        put_suspended(s);
        break;
    case LK_REMOVED:
        put_proc("postfix/qmgr", w->qmgr_pid);
        put_qid(s);
        PUTS("removed");
        break;
    }
    out_buf[out_len++] = '\n';
    w->lines_out++;
    if (out_len > OUT_CAP - LINE_MAX_BYTES)
        out_flush();
}

/* Emit the slot's next line; returns 1 when its session is finished. */
static int step_slot(world *w, slot *sl)
{
    session *s = &sl->s;

    render_line(w, sl, (line_kind)s->steps[s->next++]);
    if (s->next < s->n_steps)
        return 0;
    sl->busy = 0;
    return 1;
}

/* ---- driver -------------------------------------------------------------- */

static void run(world *w)
{
    unsigned c = w->o.concurrency;

    while (w->lines_out < w->o.lines) {
        slot *sl = &w->slots[rng_below(c)];
        if (!sl->busy)
            start_session(w, sl);
        step_slot(w, sl);
    }
    /* drain: finish every session in flight, none half-logged */
    for (unsigned i = 0; i < c; i++)
        while (w->slots[i].busy)
            step_slot(w, &w->slots[i]);
    out_flush();
}

static int write_expect(const world *w)
{
    FILE *f = stderr;
    uint64_t sessions = 0, by_result[4] = {0};
    static const char *const results[4] = {"success", "certificate-expired",
                                           "certificate-host-mismatch",
                                           "validation-failure"};

    if (w->o.expect_path) {
        f = fopen(w->o.expect_path, "w");
        if (!f) {
            perror(w->o.expect_path);
            return -errno;
        }
    }
    for (int sc = 0; sc < SC_FIRST_NO_SESSION; sc++) {
        sessions += w->count[sc];
        for (int r = 0; r < 4; r++)
            if (strcmp(scenario_result[sc], results[r]) == 0)
                by_result[r] += w->count[sc];
    }
    fprintf(f, "lines=%" PRIu64 "\n", w->lines_out);
    fprintf(f, "domains_used=%" PRIu64 "\n", w->domains_used);
    fprintf(f, "sessions=%" PRIu64 "\n", sessions);
    for (int r = 0; r < 4; r++)
        fprintf(f, "result.%s=%" PRIu64 "\n", results[r], by_result[r]);
    fprintf(f, "result.starttls-not-supported=%" PRIu64 "\n",
            w->count[SC_NOSTARTTLS]);
    /* at loglevel 0 a successful TLS delivery looks like a plaintext one */
    fprintf(f, "success_visible=%" PRIu64 "\n",
            w->o.loglevel >= 1 || w->o.tlsrpt
                ? w->count[SC_VERIFIED] + w->count[SC_TRUSTED] +
                      w->count[SC_UNTRUSTED]
                : 0);
    for (int sc = 0; sc < SC_COUNT; sc++)
        fprintf(f, "scenario.%s=%" PRIu64 "\n", scenario_name[sc],
                w->count[sc]);
    if (f != stderr && fclose(f) != 0) {
        perror(w->o.expect_path);
        return -EIO;
    }
    return 0;
}

/* ---- options ---------------------------------------------------------------
 */

static void usage(void)
{
    fprintf(stderr,
            "usage: gen_postfix_log --lines N --domains D --seed S\n"
            "       [--loglevel 0|1] [--tlsrpt 0|1] [--concurrency C]\n"
            "       [--date \"Nov 27\"] [--host NAME] [--expect FILE]\n");
    exit(2);
}

static uint64_t parse_num(const char *s, uint64_t lo, uint64_t hi,
                          const char *what)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
        fprintf(stderr,
                "gen_postfix_log: bad %s '%s' (%" PRIu64 "..%" PRIu64 ")\n",
                what, s, lo, hi);
        exit(2);
    }
    return v;
}

/* "Nov 27" or "Nov  1" or "Nov 1" -> syslog's fixed-width "Mmm dd". */
static void parse_date(const char *s, char out[7])
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *m = NULL;
    unsigned day;

    if (strlen(s) >= 5 && strlen(s) <= 6)
        for (int i = 0; i < 12; i++)
            if (memcmp(s, months + 3 * i, 3) == 0)
                m = months + 3 * i;
    if (!m || s[3] != ' ')
        goto bad;
    s += 4;
    while (*s == ' ')
        s++;
    day = (unsigned)parse_num(s, 1, 31, "day");
    snprintf(out, 7, "%.3s %2u", m, day);
    return;
bad:
    fprintf(stderr, "gen_postfix_log: --date wants \"Mmm dd\"\n");
    exit(2);
}

static void parse_opts(int argc, char **argv, gen_opts *o)
{
    memset(o, 0, sizeof *o);
    o->lines = 1000000;
    o->domains = 10000;
    o->loglevel = 1;
    o->concurrency = 50;
    o->host = "mail";
    strcpy(o->date, "Nov 27");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        if (!strcmp(a, "--lines"))
            o->lines = parse_num(v, 1, UINT64_MAX / 86400, "lines");
        else if (!strcmp(a, "--domains"))
            o->domains = (uint32_t)parse_num(v, 1, 10000000, "domains");
        else if (!strcmp(a, "--seed"))
            o->seed = parse_num(v, 0, UINT64_MAX, "seed");
        else if (!strcmp(a, "--loglevel"))
            o->loglevel = (int)parse_num(v, 0, 1, "loglevel");
        else if (!strcmp(a, "--tlsrpt"))
            o->tlsrpt = (int)parse_num(v, 0, 1, "tlsrpt");
        else if (!strcmp(a, "--concurrency"))
            o->concurrency = (unsigned)parse_num(v, 1, 10000, "concurrency");
        else if (!strcmp(a, "--date"))
            parse_date(v, o->date);
        else if (!strcmp(a, "--host") && strlen(v) > 0 && strlen(v) < 64 &&
                 !strpbrk(v, " \t\n"))
            o->host = v;
        else if (!strcmp(a, "--expect"))
            o->expect_path = v;
        else
            usage();
        i++;
    }
}

int main(int argc, char **argv)
{
    world w;

    memset(&w, 0, sizeof w);
    parse_opts(argc, argv, &w.o);
    rng_state = hash64(w.o.seed + 1);
    w.doms = calloc(w.o.domains, sizeof *w.doms);
    w.domain_used = calloc(w.o.domains, 1);
    w.slots = calloc(w.o.concurrency, sizeof *w.slots);
    if (!w.doms || !w.domain_used || !w.slots) {
        fprintf(stderr, "gen_postfix_log: out of memory\n");
        return 1;
    }
    for (uint32_t i = 0; i < w.o.domains; i++)
        make_domain(&w.doms[i], i, w.o.seed);
    w.pickup_pid = 1201;
    w.qmgr_pid = 1202;
    w.error_pid = 1290;
    w.cleanup_pids[0] = 1210;
    w.cleanup_pids[1] = 1211;
    w.cleanup_pids[2] = 1212;
    w.next_pid = 10000;
    w.prefix_sec = -1;
    run(&w);
    free(w.doms);
    free(w.domain_used);
    free(w.slots);
    return write_expect(&w) == 0 ? 0 : 1;
}
