/* engine.c - one omtlsrpt action instance: shared parser and sink, event
 * ids, and replay of failed batches; see engine.h. */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"

#define PROBE_BYTES      (64 * 1024) /* room a commit is likely to need */
#define MAX_WAITERS      64          /* ordered batches tracked while waiting */
#define RESTART_DISTANCE 65536       /* numbers this far back start again */
#define MAX_PENDING      65536       /* retried lines remembered per worker */

struct otr_engine {
    pthread_mutex_t lock;
    otr_config cfg;
    char source[24]; /* "rs-" + 16 hex */
    trpt_parser *parser;
    trpt_sink *sink; /* opened by the first commit */
    uint64_t seq;    /* last line sequence number handed out */
    /* Records of failed commits, then of the batch being committed, in
     * their JSON form ("u32 length | JSON" each): encoding is cheaper than
     * a deep copy, and only a failed commit ever decodes them. */
    trpt_buf held;
    size_t n_held;
    trpt_record replay; /* a held record decoded again */
    otr_counters counters;
    trpt_buf frame; /* a line reframed by otr_frame_line */
    /* cfg.ordered: the next sequence number to parse, and the first
     * numbers of the batches waiting for their turn (0 = free slot) */
    pthread_cond_t turn;
    uint64_t next_seq; /* mmsequence's first number is 0 */
    int started;       /* a numbered batch has been parsed */
    uint64_t waiting[MAX_WAITERS];
};

/* rsyslog cancels worker threads that do not finish in time at shutdown
 * (pthread_cancel). A thread cancelled in pthread_cond_timedwait() or in
 * fdatasync() would leave holding the lock, and freeInstance would wait for
 * it forever; so the lock is only ever held with cancellation disabled,
 * and a pending cancel acts once it is released. */
static int engine_lock(otr_engine *e)
{
    int old;

    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    pthread_mutex_lock(&e->lock);
    return old;
}

static void engine_unlock(otr_engine *e, int old)
{
    pthread_mutex_unlock(&e->lock);
    pthread_setcancelstate(old, NULL);
}

void otr_strings_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

void otr_config_clear(otr_config *c)
{
    if (!c)
        return;
    free(c->template_name);
    otr_strings_free(c->exclude_senders);
    free(c->spool_directory);
    free(c->stats_file);
    memset(c, 0, sizeof *c);
}

/* 64-bit hash of a line, eight bytes at a time (not cryptographic: it only
 * has to tell a retried batch from a new one). */
static uint64_t line_hash(const char *p, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15u ^ len;
    uint64_t w;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdu;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, p + i, len - i);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
    return h ^ (h >> 29);
}

static int draw_source(char *out, size_t outlen)
{
    uint64_t r;

    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        return -errno ? -errno : -EIO;
    snprintf(out, outlen, "rs-%016" PRIx64, r);
    return 0;
}

/* The JSON the sink just encoded for the record, length-prefixed: no
 * second encoding. */
static int hold_record(otr_engine *e)
{
    size_t at = e->held.len, n = 0;
    const char *json = trpt_sink_last_json(e->sink, &n);
    uint32_t len = (uint32_t)n;
    int r;

    if (!json || n > UINT32_MAX)
        return -EINVAL;
    if ((r = trpt_buf_append(&e->held, &len, 4)) < 0 ||
        (r = trpt_buf_append(&e->held, json, n)) < 0) {
        e->held.len = at;
        return r;
    }
    e->n_held++;
    return 0;
}

static void drop_held(otr_engine *e)
{
    trpt_buf_reset(&e->held);
    e->n_held = 0;
}

/* trpt_emit_fn: into the sink's batch, and a copy in case it fails. */
static int emit_record(void *ctx, const trpt_record *rec)
{
    otr_engine *e = ctx;
    int r = trpt_sink_emit(e->sink, rec);

    if (r < 0)
        return r;
    return hold_record(e);
}

/* The turn condition waits on CLOCK_MONOTONIC: time-outs must not jump
 * with the wall clock. */
static void init_turn(otr_engine *e)
{
    pthread_condattr_t a;

    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&e->turn, &a);
    pthread_condattr_destroy(&a);
}

/* The lowest first number among waiting batches (at most `mine`). */
static uint64_t lowest_waiting(const otr_engine *e, uint64_t mine)
{
    uint64_t low = mine;

    for (size_t i = 0; i < MAX_WAITERS; i++)
        if (e->waiting[i] && e->waiting[i] < low)
            low = e->waiting[i];
    return low;
}

int otr_engine_new(otr_engine **out, otr_config *cfg)
{
    trpt_parser_config pc = {0};
    otr_engine *e;
    int r;

    if (!out || !cfg || !cfg->spool_directory)
        return -EINVAL;
    *out = NULL;
    if (!(e = calloc(1, sizeof *e)))
        return -ENOMEM;
    pthread_mutex_init(&e->lock, NULL);
    init_turn(e);
    trpt_buf_init(&e->frame);
    trpt_buf_init(&e->held);
    trpt_record_init(&e->replay);
    e->cfg = *cfg;
    memset(cfg, 0, sizeof *cfg);
    if ((r = draw_source(e->source, sizeof e->source)) < 0)
        goto fail;
    pc.format = e->cfg.format;
    pc.source_id = e->source;
    pc.max_sessions = e->cfg.max_sessions;
    pc.session_timeout_s = e->cfg.session_timeout_s;
    pc.exclude_senders = (const char *const *)e->cfg.exclude_senders;
    pc.tlsrpt_mode = e->cfg.tlsrpt_mode;
    if ((r = trpt_parser_new(&e->parser, &pc, emit_record, e)) < 0)
        goto fail;
    *out = e;
    return 0;
fail:
    otr_config_clear(&e->cfg);
    pthread_cond_destroy(&e->turn);
    pthread_mutex_destroy(&e->lock);
    free(e);
    return r;
}

/* The spool directory and its parents, like omfile's createDirs; the
 * aggregator only needs to read it. */
static int make_directories(const char *dir)
{
    char path[4096];
    size_t len = strlen(dir);

    if (len == 0 || len >= sizeof path)
        return -ENAMETOOLONG;
    memcpy(path, dir, len + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int ensure_sink(otr_engine *e)
{
    trpt_sink_config sc = {0};
    int r;

    if (e->sink)
        return 0;
    if ((r = make_directories(e->cfg.spool_directory)) < 0)
        return r;
    sc.type = e->cfg.sink_type;
    sc.spool_directory = e->cfg.spool_directory;
    sc.fsync = e->cfg.fsync;
    sc.max_segment_bytes = e->cfg.max_segment_bytes;
    return trpt_sink_open(&e->sink, &sc);
}

/* Records kept from failed commits go first: their ids are the lower. */
static int append_held(otr_engine *e)
{
    size_t at = 0;
    uint32_t len;
    int r;

    for (size_t i = 0; i < e->n_held; i++) {
        memcpy(&len, e->held.data + at, 4);
        if ((r = trpt_record_from_json(&e->replay, e->held.data + at + 4,
                                       len)) < 0 ||
            (r = trpt_sink_append(e->sink, &e->replay)) < 0)
            return r;
        at += 4 + (size_t)len;
    }
    return 0;
}

/* One line of a batch: as rsyslog rendered it (hashed for replay) and
 * what the parser gets. */
typedef struct otr_line {
    const char *raw;
    size_t raw_len;
    const char *p;
    size_t len;
    uint64_t seq; /* sequence number (cfg->ordered) */
    size_t pos;   /* place in the batch: ties keep batch order */
    int parsed;   /* parsed by this call (not a retried line) */
} otr_line;

/* Lines this worker parsed whose commit failed: rsyslog hands them in
 * again, as the same batch or one by one (action.c tries each message of a
 * failed batch alone, then retries those that still fail), so they are
 * kept as a multiset of hashes, not a sequence. */
struct otr_worker {
    uint64_t *pend;     /* hashes of parsed, uncommitted lines, oldest first */
    unsigned char *hit; /* pend[i] matched a line of the current call */
    size_t n_pend, cap_pend;
    otr_line *lines; /* the batch being committed, in parse order */
    size_t cap_lines;
};

int otr_worker_new(otr_worker **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : -ENOMEM;
}

void otr_worker_free(otr_worker *w)
{
    if (!w)
        return;
    free(w->pend);
    free(w->hit);
    free(w->lines);
    free(w);
}

/* A template line without the newline rsyslog's file templates end in. */
static void line_without_eol(const char **p, size_t *len)
{
    while (*len > 0 && ((*p)[*len - 1] == '\n' || (*p)[*len - 1] == '\r'))
        (*len)--;
}

/* "<digits> " at the start of the line: the number and the rest. */
static int take_sequence(otr_line *l)
{
    uint64_t v = 0;
    size_t i = 0;

    while (i < l->len && i < 19 && l->p[i] >= '0' && l->p[i] <= '9')
        v = v * 10 + (uint64_t)(l->p[i++] - '0');
    if (i == 0 || i >= l->len || l->p[i] != ' ')
        return 0;
    l->seq = v;
    l->p += i + 1;
    l->len -= i + 1;
    return 1;
}

static int by_sequence(const void *a, const void *b)
{
    const otr_line *x = a, *y = b;

    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Numbers for an ordered batch; lines without one keep the number of the
 * line before them. Returns 1 if any line had a number. */
static int number_lines(otr_engine *e, otr_line *l, size_t n)
{
    size_t first = n, sorted = 1;

    for (size_t i = 0; i < n; i++)
        if (!take_sequence(&l[i]))
            l[i].pos = SIZE_MAX; /* marked: no number */
        else if (first == n)
            first = i;
    if (first == n) {
        e->counters.unnumbered += n;
        for (size_t i = 0; i < n; i++)
            l[i].pos = i;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (l[i].pos == SIZE_MAX) {
            e->counters.unnumbered++;
            l[i].seq = i < first ? l[first].seq : l[i - 1].seq;
        }
        l[i].pos = i;
        if (i > 0 && l[i].seq < l[i - 1].seq)
            sorted = 0;
    }
    if (!sorted)
        qsort(l, n, sizeof *l, by_sequence);
    return 1;
}

/* The batch's lines in the order they are to be parsed. */
static int collect_lines(otr_engine *e, otr_worker *w, size_t n,
                         otr_line_fn line_at, void *ctx, int *numbered)
{
    *numbered = 0;
    if (n > w->cap_lines) {
        otr_line *l = realloc(w->lines, n * sizeof *l);

        if (!l)
            return -ENOMEM;
        w->lines = l;
        w->cap_lines = n;
    }
    for (size_t i = 0; i < n; i++) {
        otr_line *l = &w->lines[i];

        line_at(ctx, i, &l->raw, &l->raw_len);
        l->p = l->raw;
        l->len = l->raw_len;
        line_without_eol(&l->p, &l->len);
        l->seq = 0;
        l->pos = i;
    }
    if (e->cfg.ordered)
        *numbered = number_lines(e, w->lines, n);
    return 0;
}

/* Ordered mode: wait (lock released) until the batches numbered before
 * this one have been parsed. On a time-out the lowest waiting batch goes
 * next: the numbers in between are not coming. A batch numbered below
 * next_seq (late, or the numbering restarted) goes at once. */
static void wait_turn(otr_engine *e, uint64_t first)
{
    struct timespec deadline;
    size_t slot;

    if (first <= e->next_seq)
        return;
    /* Before the first numbered batch, a high number is a backlog that a
     * disk-assisted queue replays after a restart: nothing to wait for. */
    if (!e->started && first >= RESTART_DISTANCE)
        return;
    e->counters.order_waits++;
    for (slot = 0; slot < MAX_WAITERS && e->waiting[slot]; slot++)
        ;
    if (slot < MAX_WAITERS)
        e->waiting[slot] = first;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += e->cfg.order_timeout_ms / 1000;
    deadline.tv_nsec += (long)(e->cfg.order_timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    while (first > e->next_seq) {
        if (pthread_cond_timedwait(&e->turn, &e->lock, &deadline) !=
                ETIMEDOUT ||
            first <= e->next_seq)
            continue;
        e->counters.order_gaps++;
        e->next_seq = lowest_waiting(e, first);
        pthread_cond_broadcast(&e->turn);
    }
    if (slot < MAX_WAITERS)
        e->waiting[slot] = 0;
}

/* After a numbered batch: the next number expected. Far below it means
 * the numbering started again (rsyslogd restarted with a queue backlog,
 * or mmsequence wrapped around): follow the new numbers. */
static void passed_turn(otr_engine *e, const otr_line *l, size_t n)
{
    uint64_t first = l[0].seq, last = l[n - 1].seq;

    if (last + 1 > e->next_seq || first + RESTART_DISTANCE < e->next_seq ||
        !e->started)
        e->next_seq = last + 1;
    e->started = 1;
    pthread_cond_broadcast(&e->turn);
}

/* 1 if the line was parsed by an earlier, failed call. */
static int already_parsed(otr_worker *w, const otr_line *l)
{
    uint64_t h;

    if (w->n_pend == 0)
        return 0;
    h = line_hash(l->raw, l->raw_len);
    for (size_t i = 0; i < w->n_pend; i++)
        if (!w->hit[i] && w->pend[i] == h) {
            w->hit[i] = 1;
            return 1;
        }
    return 0;
}

/* Parses the collected lines; *consumed = lines parsed or skipped as
 * retried. */
static int feed_lines(otr_engine *e, otr_worker *w, size_t from, size_t to,
                      size_t *consumed)
{
    const char *p;
    size_t len;
    int r;

    for (size_t i = from; i < to; i++) {
        otr_line *l = &w->lines[i];

        l->parsed = 0;
        if (already_parsed(w, l)) {
            e->counters.replay_skips++;
        } else {
            e->counters.messages++;
            if ((r = otr_frame_line(l->p, l->len, &e->frame, &p, &len)) < 0 ||
                (r = trpt_parser_feed(e->parser, p, len, ++e->seq)) < 0) {
                *consumed = i;
                return r;
            }
            l->parsed = 1;
        }
        *consumed = i + 1;
    }
    return 0;
}

/* Committed: the retried lines that matched are done. */
static void forget_matched(otr_worker *w)
{
    size_t k = 0;

    for (size_t i = 0; i < w->n_pend; i++)
        if (!w->hit[i]) {
            w->pend[k] = w->pend[i];
            w->hit[k++] = 0;
        }
    w->n_pend = k;
}

/* Failed: lines parsed by this call join those still pending. The oldest
 * are dropped beyond MAX_PENDING: rsyslog gave up on them. */
static int remember_parsed(otr_worker *w, size_t n)
{
    size_t add = 0, drop;

    for (size_t i = 0; i < n; i++)
        add += w->lines[i].parsed;
    if (w->n_pend)
        memset(w->hit, 0, w->n_pend);
    if (w->n_pend + add > w->cap_pend) {
        size_t cap = w->n_pend + add;
        uint64_t *h = realloc(w->pend, cap * sizeof *h);
        unsigned char *f;

        if (!h)
            return -ENOMEM;
        w->pend = h;
        if (!(f = realloc(w->hit, cap)))
            return -ENOMEM;
        w->hit = f;
        w->cap_pend = cap;
    }
    for (size_t i = 0; i < n; i++)
        if (w->lines[i].parsed) {
            w->hit[w->n_pend] = 0;
            w->pend[w->n_pend++] =
                line_hash(w->lines[i].raw, w->lines[i].raw_len);
        }
    if (w->n_pend > MAX_PENDING) {
        drop = w->n_pend - MAX_PENDING;
        memmove(w->pend, w->pend + drop, MAX_PENDING * sizeof *w->pend);
        w->n_pend = MAX_PENDING;
    }
    return 0;
}

/* Lines [from, to) in one spool commit; *consumed: the index after the
 * last line parsed or skipped. */
static int commit_lines(otr_engine *e, otr_worker *w, size_t from, size_t to,
                        size_t *consumed)
{
    int r;

    if ((r = append_held(e)) == 0 &&
        (r = feed_lines(e, w, from, to, consumed)) == 0)
        r = trpt_sink_commit(e->sink);
    else
        trpt_sink_discard(e->sink);
    if (r == 0) {
        drop_held(e);
        forget_matched(w);
    } else if (remember_parsed(w, *consumed) < 0) {
        /* the retry memory is lost: lines may be parsed twice; the
         * records themselves are still held */
        w->n_pend = 0;
    }
    return r;
}

/* The end of the run of consecutive numbers that starts at `from`. */
static size_t run_end(const otr_line *l, size_t from, size_t n)
{
    size_t i = from + 1;

    while (i < n && l[i].seq <= l[i - 1].seq + 1)
        i++;
    return i;
}

/* Ordered mode: a batch can hold numbers with a gap that another worker
 * fills (a disk-assisted queue hands out memory and disk parts side by
 * side); each run of consecutive numbers waits for its own turn and is
 * committed on its own, before the gap is filled. */
static int commit_runs(otr_engine *e, otr_worker *w, size_t n, size_t *consumed)
{
    size_t from, to;
    int r = 0;

    for (from = 0; from < n && r == 0; from = to) {
        to = run_end(w->lines, from, n);
        wait_turn(e, w->lines[from].seq);
        r = commit_lines(e, w, from, to, consumed);
        if (*consumed > from)
            passed_turn(e, w->lines + from, *consumed - from);
    }
    return r;
}

int otr_engine_commit(otr_engine *e, otr_worker *w, size_t n,
                      otr_line_fn line_at, void *ctx)
{
    size_t consumed = 0;
    int numbered = 0, r;
    int cancel_state = engine_lock(e);

    e->counters.batches++;
    if ((r = collect_lines(e, w, n, line_at, ctx, &numbered)) < 0)
        goto out;
    /* No sink: nothing is parsed, so the retry starts from scratch. */
    if ((r = ensure_sink(e)) < 0)
        goto out;
    if (numbered)
        r = commit_runs(e, w, n, &consumed);
    else
        r = commit_lines(e, w, 0, n, &consumed);
out:
    if (r < 0)
        e->counters.failures++;
    e->counters.held = e->n_held;
    engine_unlock(e, cancel_state);
    return r;
}

/* Can the spool take a batch? An anonymous file reserving PROBE_BYTES
 * answers for a full disk, a read-only mount and missing permissions. */
static int probe_directory(const char *dir)
{
    struct statvfs sv;
    int fd, r;

    fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno != EOPNOTSUPP && errno != EISDIR)
            return -errno;
        /* no O_TMPFILE on this file system: free space must do */
        if (statvfs(dir, &sv) < 0)
            return -errno;
        return (uint64_t)sv.f_bavail * sv.f_frsize >= PROBE_BYTES ? 0 : -ENOSPC;
    }
    r = posix_fallocate(fd, 0, PROBE_BYTES);
    close(fd);
    return -r;
}

int otr_engine_probe(otr_engine *e)
{
    int cancel_state = engine_lock(e);
    int r = ensure_sink(e);

    if (r == 0)
        r = probe_directory(e->cfg.spool_directory);
    engine_unlock(e, cancel_state);
    return r;
}

int otr_engine_hup(otr_engine *e)
{
    int cancel_state = engine_lock(e);
    int r = 0;

    if (e->sink)
        r = trpt_sink_reopen(e->sink);
    engine_unlock(e, cancel_state);
    if (e->cfg.stats_file)
        otr_engine_write_stats(e, e->cfg.stats_file);
    return r;
}

/* End of stream: sessions still open are finished as tlsrpt ingest does
 * at the end of a file, and committed with what failed commits held. */
static int finish(otr_engine *e)
{
    int r;

    if (!e->sink && e->counters.messages == 0 && e->n_held == 0)
        return 0; /* never used (rsyslogd -N1): touch no disk */
    if ((r = ensure_sink(e)) < 0)
        return r;
    if ((r = append_held(e)) == 0 &&
        (r = trpt_parser_flush(e->parser, ++e->seq)) == 0)
        r = trpt_sink_commit(e->sink);
    else
        trpt_sink_discard(e->sink);
    if (r == 0)
        drop_held(e);
    return r;
}

int otr_engine_close(otr_engine *e)
{
    int cancel_state, r, rc;

    if (!e)
        return 0;
    cancel_state = engine_lock(e);
    r = finish(e);
    if (r < 0) {
        e->counters.failures++;
        e->counters.held = e->n_held;
    }
    engine_unlock(e, cancel_state);
    if (e->cfg.stats_file)
        otr_engine_write_stats(e, e->cfg.stats_file);
    rc = trpt_sink_close(e->sink);
    if (r == 0)
        r = rc;
    trpt_parser_free(e->parser);
    trpt_buf_free(&e->held);
    trpt_record_free(&e->replay);
    trpt_buf_free(&e->frame);
    otr_config_clear(&e->cfg);
    pthread_cond_destroy(&e->turn);
    pthread_mutex_destroy(&e->lock);
    free(e);
    return r;
}

const char *otr_engine_source(const otr_engine *e)
{
    return e->source;
}

void otr_engine_counters(otr_engine *e, otr_counters *c, trpt_parser_stats *ps,
                         trpt_sink_stats *ss)
{
    int cancel_state = engine_lock(e);

    if (c)
        *c = e->counters;
    if (ps)
        *ps = *trpt_parser_stats_get(e->parser);
    if (ss) {
        if (e->sink)
            *ss = *trpt_sink_stats_get(e->sink);
        else
            memset(ss, 0, sizeof *ss);
    }
    engine_unlock(e, cancel_state);
}

static void print_stats(FILE *f, const char *source, const otr_counters *c,
                        const trpt_parser_stats *ps, const trpt_sink_stats *ss)
{
    fprintf(f, "source=%s\n", source);
    fprintf(f, "messages=%" PRIu64 "\nreplay_skips=%" PRIu64 "\n", c->messages,
            c->replay_skips);
    fprintf(f, "batches=%" PRIu64 "\nfailed_batches=%" PRIu64 "\n", c->batches,
            c->failures);
    fprintf(f, "order_waits=%" PRIu64 "\norder_gaps=%" PRIu64 "\n",
            c->order_waits, c->order_gaps);
    fprintf(f, "unnumbered=%" PRIu64 "\nheld=%" PRIu64 "\n", c->unnumbered,
            c->held);
    fprintf(f, "lines_used=%" PRIu64 "\nlines_ignored=%" PRIu64 "\n",
            ps->lines_used, ps->lines_ignored);
    fprintf(f, "records=%" PRIu64 "\nexcluded=%" PRIu64 "\n", ps->records,
            ps->excluded);
    fprintf(f, "evicted=%" PRIu64 "\ntimed_out=%" PRIu64 "\n", ps->evicted,
            ps->timed_out);
    fprintf(f, "superseded=%" PRIu64 "\nunfinished=%" PRIu64 "\n",
            ps->superseded, ps->unfinished);
    for (int i = 0; i < TRPT_PERR_COUNT; i++)
        fprintf(f, "error.%s=%" PRIu64 "\n",
                trpt_parse_error_name((trpt_parse_error)i), ps->errors[i]);
    fprintf(f, "sink.committed=%" PRIu64 "\nsink.discarded=%" PRIu64 "\n",
            ss->committed, ss->discarded);
    fprintf(f, "sink.failures=%" PRIu64 "\nsink.bytes=%" PRIu64 "\n",
            ss->failures, ss->bytes);
}

int otr_engine_write_stats(otr_engine *e, const char *path)
{
    otr_counters c;
    trpt_parser_stats ps;
    trpt_sink_stats ss;
    char *tmp;
    FILE *f;
    int r = 0;

    otr_engine_counters(e, &c, &ps, &ss);
    if (asprintf(&tmp, "%s.tmp", path) < 0)
        return -ENOMEM;
    if (!(f = fopen(tmp, "we"))) {
        r = -errno;
        free(tmp);
        return r;
    }
    print_stats(f, e->source, &c, &ps, &ss);
    if (fclose(f) != 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0)
        unlink(tmp);
    free(tmp);
    return r;
}
