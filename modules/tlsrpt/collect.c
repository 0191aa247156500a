/* collect.c - `tlsrpt collect`: Postfix 3.10+'s libtlsrpt datagrams ->
 * spool (docs/tlsrpt-collect.1).
 *
 * libtlsrpt sends with MSG_DONTWAIT: when the socket's queue is full the
 * datagram is lost, and an AF_UNIX datagram socket queues at most
 * net.unix.max_dgram_qlen (default 10) datagrams whatever SO_RCVBUF says.
 * So the receive loop must never wait for anything but the socket:
 *
 *   receive thread   recvmmsg() batches -> copies into a large in-memory
 *                    ring; never touches the disk; a full ring drops and
 *                    counts (queue_full); polls briefly after data before
 *                    sleeping; SCHED_FIFO with --realtime
 *   writer thread    takes what the ring holds, decodes (core/datagram.c),
 *                    appends to the sink, commits every --commit-interval
 *                    or 64 Ki records (fsync per spool_fsync)
 *   main thread      signals (TERM/INT: stop, HUP: new segment), stats
 *                    file, sd_notify READY/WATCHDOG/STATUS
 *
 * Stop: the socket file is removed first (new datagrams fail at the
 * sender instead of queueing where nobody reads), the socket is drained,
 * the ring is drained, the last batch committed.
 *
 * Event ids: source "dg-<16 hex random per start>", offset = datagram
 * number (1, 2, ... in receive order, malformed ones included), sub =
 * policy index: ids grow in emission order (design.md). A datagram cannot
 * be re-delivered, so no id repeats; the TLSRPT: log line of the same
 * handshake is not counted because postfix_tlsrpt = datagrams makes every
 * log edge ignore Postfix lines (one path per host, checked at start). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "datagram.h"
#include "sink.h"
#include "timeutil.h"
#include "collect.h"
#include "tlsrpt.h"

/* Wakes the consumer if it sleeps; called after publishing bytes or
 * closing. */
static void ring_wake(ring *q)
{
    if (!AT_LOAD(&q->sleeping))
        return;
    pthread_mutex_lock(&q->lock);
    pthread_cond_signal(&q->nonempty);
    pthread_mutex_unlock(&q->lock);
}

static void ring_close(ring *q)
{
    AT_STORE(&q->closed, 1);
    pthread_mutex_lock(&q->lock);
    pthread_cond_signal(&q->nonempty);
    pthread_mutex_unlock(&q->lock);
}

/* ---- ring ------------------------------------------------------------ */

static int ring_init(ring *q, size_t cap)
{
    memset(q, 0, sizeof *q);
    if (!(q->buf = malloc(cap)))
        return -ENOMEM;
    q->cap = cap;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->nonempty, NULL);
    return 0;
}

static void ring_destroy(ring *q)
{
    if (!q->buf)
        return;
    free(q->buf);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->nonempty);
}

static size_t entry_size(size_t len)
{
    return sizeof(entry_hdr) + ((len + 7) & ~(size_t)7);
}

/* Copies one datagram in at *head if the free space allows (free bytes as
 * seen at the start of the batch); returns the bytes consumed, 0 if full. */
static size_t ring_put(ring *q, size_t *head, size_t free_bytes,
                       const char *data, size_t len, uint64_t seq,
                       int64_t time_us)
{
    size_t need = entry_size(len), waste = 0;
    entry_hdr h = {.len = (uint32_t)len, .seq = seq, .time_us = time_us};

    if (q->cap - *head < need) /* does not fit before the end: wrap */
        waste = q->cap - *head;
    if (need + waste > free_bytes)
        return 0;
    if (waste) {
        if (waste >= sizeof h) {
            entry_hdr w = {.len = ENTRY_WRAP};

            memcpy(q->buf + *head, &w, sizeof w);
        }
        *head = 0;
    }
    memcpy(q->buf + *head, &h, sizeof h);
    memcpy(q->buf + *head + sizeof h, data, len);
    *head += need;
    if (*head == q->cap)
        *head = 0;
    return need + waste;
}

/* ---- receive thread -------------------------------------------------- */

typedef struct staging {
    struct mmsghdr msgs[RECV_BATCH];
    struct iovec iov[RECV_BATCH];
    char *bufs;
    size_t slot; /* bytes per datagram buffer: max_datagram + 1 */
    unsigned batch;
    char cmsg[RECV_BATCH][CMSG_SPACE(sizeof(uint32_t))];
} staging;

static int staging_init(staging *st, size_t max_datagram)
{
    st->slot = max_datagram + 1; /* one more byte: longer is oversize */
    st->batch = (unsigned)(STAGING_MAX / st->slot);
    if (st->batch > RECV_BATCH)
        st->batch = RECV_BATCH;
    if (st->batch == 0)
        st->batch = 1;
    if (!(st->bufs = malloc(st->slot * st->batch)))
        return -ENOMEM;
    return 0;
}

static void staging_arm(staging *st)
{
    for (unsigned i = 0; i < st->batch; i++) {
        st->iov[i] = (struct iovec){st->bufs + i * st->slot, st->slot};
        st->msgs[i].msg_hdr = (struct msghdr){
            .msg_iov = &st->iov[i],
            .msg_iovlen = 1,
            .msg_control = st->cmsg[i],
            .msg_controllen = sizeof st->cmsg[i],
        };
    }
}

/* SO_RXQ_OVFL: the kernel's count of datagrams dropped on this socket. */
static void note_kernel_drops(collector *co, struct msghdr *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL &&
            c->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
            uint32_t n;

            memcpy(&n, CMSG_DATA(c), sizeof n);
            if (n > CNT_GET(&co->c, kernel_drops))
                CNT_SET(&co->c, kernel_drops, n);
        }
    }
}

/* Moves one received batch into the ring; what does not fit is dropped. */
static void enqueue_batch(collector *co, staging *st, int n, uint64_t *seq)
{
    ring *q = &co->q;
    int64_t now = trpt_now_us();
    size_t head, free_bytes, used = 0;
    uint64_t bytes = 0, dropped = 0, oversize = 0;

    head = q->head;
    free_bytes = q->cap - AT_LOAD(&q->used);
    for (int i = 0; i < n; i++) {
        struct mmsghdr *m = &st->msgs[i];
        size_t len = m->msg_len, got;

        ++*seq;
        bytes += len;
        note_kernel_drops(co, &m->msg_hdr);
        if (len > co->o.max_datagram || (m->msg_hdr.msg_flags & MSG_TRUNC)) {
            oversize++;
            continue;
        }
        got = ring_put(q, &head, free_bytes - used, st->bufs + i * st->slot,
                       len, *seq, now);
        if (!got)
            dropped++;
        used += got;
    }
    CNT_ADD(&co->c, received, (uint64_t)n);
    CNT_ADD(&co->c, bytes, bytes);
    if (oversize)
        CNT_ADD(&co->c, oversize, oversize);
    if (dropped)
        CNT_ADD(&co->c, queue_full, dropped);
    if (!used)
        return;
    q->head = head;
    used = __atomic_add_fetch(&q->used, used, __ATOMIC_SEQ_CST);
    if (used > CNT_GET(&co->c, queue_high))
        CNT_SET(&co->c, queue_high, used);
    ring_wake(q);
}

/* --realtime: the receive thread runs under SCHED_FIFO (needs
 * CAP_SYS_NICE), so neither the writer nor other programs delay it past
 * the 10 datagrams the socket can hold. Its work per datagram is bounded
 * (one copy), and it sleeps in recvmmsg() when idle. */
static void raise_own_priority(const collector *co)
{
    struct sched_param sp = {.sched_priority = 1};
    int r;

    if (!co->o.realtime)
        return;
    if ((r = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp)) != 0)
        tlsrpt_err("collect: --realtime: %s (needs CAP_SYS_NICE); "
                   "receiving at normal priority",
                   strerror(r));
}

static void *receive_thread(void *arg)
{
    collector *co = arg;
    staging st;
    uint64_t seq = 0;
    int64_t last_data_us = 0;

    raise_own_priority(co);

    if (staging_init(&st, co->o.max_datagram) < 0) {
        tlsrpt_err("collect: out of memory for receive buffers");
        __atomic_store_n(&co->stop, 1, __ATOMIC_RELAXED);
    }
    /* One call per batch (MSG_WAITFORONE: return with what is queued once
     * one has come). For RECV_SPIN_US after the last datagram the thread
     * polls instead of sleeping: the next ones of a burst are then read
     * at once rather than after a wake-up, which is what fills a queue of
     * 10. The socket's receive time-out (RECV_TIMEOUT_MS) lets the loop
     * see a stop request; on stop the socket is read until empty. */
    while (st.bufs) {
        bool stopping = __atomic_load_n(&co->stop, __ATOMIC_RELAXED);
        bool spin = trpt_now_us() - last_data_us < RECV_SPIN_US;
        int n;

        staging_arm(&st);
        n = recvmmsg(co->fd, st.msgs, st.batch,
                     stopping || spin ? MSG_DONTWAIT : MSG_WAITFORONE, NULL);
        if (n > 0) {
            enqueue_batch(co, &st, n, &seq);
            last_data_us = trpt_now_us();
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (stopping)
                break; /* drained */
            continue;
        }
        if (n < 0 && errno != EINTR) {
            CNT_ADD(&co->c, recv_errors, 1);
            usleep(1000);
        }
    }
    free(st.bufs);
    ring_close(&co->q);
    return NULL;
}

/* ---- writer thread --------------------------------------------------- */

typedef struct writer {
    collector *co;
    trpt_datagram_decoder *dec;
    int64_t first_pending_us; /* receive time of the oldest uncommitted */
    uint64_t pending;
    bool warned;
} writer;

static void publish_stats(writer *w)
{
    pthread_mutex_lock(&w->co->stats_lock);
    w->co->dstats = *trpt_datagram_stats_get(w->dec);
    w->co->pending_now = w->pending;
    pthread_mutex_unlock(&w->co->stats_lock);
}

static void commit(writer *w)
{
    collector *co = w->co;
    int r;

    if (__atomic_exchange_n(&co->reopen, 0, __ATOMIC_RELAXED))
        trpt_sink_reopen(co->sink);
    if (!w->pending)
        return;
    r = trpt_sink_commit(co->sink);
    if (r == 0) {
        CNT_ADD(&co->c, committed, w->pending);
        w->warned = false;
    } else {
        /* no upstream to re-read from: the batch is lost, and counted */
        CNT_ADD(&co->c, lost, w->pending);
        CNT_ADD(&co->c, commit_failures, 1);
        if (!w->warned)
            tlsrpt_err("collect: spool %s: %s; %" PRIu64
                       " records lost (counted); retrying with the next "
                       "batch",
                       co->ctx->cfg->spool_directory, strerror(-r), w->pending);
        w->warned = true;
    }
    w->pending = 0;
}

/* Decodes one queued datagram into the sink's pending batch. Malformed
 * ones are counted by the decoder, per reason. */
static void write_entry(writer *w, const entry_hdr *h, const char *data)
{
    collector *co = w->co;
    trpt_datagram_opts o = {.source = co->source,
                            .seq = h->seq,
                            .time_us = h->time_us,
                            .host = co->o.host,
                            .max_bytes = co->o.max_datagram};
    trpt_datagram_error why = TRPT_DGERR_COUNT;
    int r = trpt_datagram_decode(w->dec, data, h->len, &o, trpt_sink_emit,
                                 co->sink, &why);

    if (r < 0 && why == TRPT_DGERR_COUNT) {
        /* the sink refused a record (memory): the records the datagram
         * appended before it stay, the rest is lost */
        CNT_ADD(&co->c, lost, 1);
    }
    if (trpt_sink_pending(co->sink) > w->pending && !w->pending)
        w->first_pending_us = h->time_us;
    w->pending = trpt_sink_pending(co->sink);
}

/* Processes entries in [tail, tail + used); returns the bytes consumed. */
static size_t drain_ring(writer *w, size_t tail, size_t used)
{
    ring *q = &w->co->q;
    size_t done = 0;

    while (done < used) {
        entry_hdr h;

        if (q->cap - tail < sizeof h) { /* too small for a wrap marker */
            done += q->cap - tail;
            tail = 0;
            continue;
        }
        memcpy(&h, q->buf + tail, sizeof h);
        if (h.len == ENTRY_WRAP) {
            done += q->cap - tail;
            tail = 0;
            continue;
        }
        write_entry(w, &h, q->buf + tail + sizeof h);
        done += entry_size(h.len);
        tail += entry_size(h.len);
        if (tail == q->cap)
            tail = 0;
        if (w->pending >= COMMIT_RECORDS)
            break;
    }
    return done;
}

static bool commit_due(const writer *w, int64_t now)
{
    return w->pending &&
           (w->pending >= COMMIT_RECORDS ||
            now - w->first_pending_us >= (int64_t)w->co->o.commit_ms * 1000);
}

/* Sleeps until the ring has data, the commit is due, or the producer is
 * done; returns the used bytes at tail (0: nothing), *closed. */
static size_t wait_for_work(writer *w, size_t *tail, bool *closed)
{
    ring *q = &w->co->q;
    size_t used;

    /* closed first: bytes published before the close are then in used */
    *tail = q->tail;
    *closed = AT_LOAD(&q->closed);
    if ((used = AT_LOAD(&q->used)) || *closed)
        return used;
    pthread_mutex_lock(&q->lock);
    AT_STORE(&q->sleeping, 1);
    while (!(used = AT_LOAD(&q->used)) && !AT_LOAD(&q->closed)) {
        struct timespec ts;
        int64_t due;

        if (!w->pending) {
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1; /* wake now and then for SIGHUP's reopen */
        } else {
            due = w->first_pending_us + (int64_t)w->co->o.commit_ms * 1000;
            ts.tv_sec = due / 1000000;
            ts.tv_nsec = (due % 1000000) * 1000;
        }
        if (pthread_cond_timedwait(&q->nonempty, &q->lock, &ts) == ETIMEDOUT)
            break;
    }
    AT_STORE(&q->sleeping, 0);
    pthread_mutex_unlock(&q->lock);
    *closed = AT_LOAD(&q->closed);
    return AT_LOAD(&q->used);
}

static void ring_release(ring *q, size_t bytes)
{
    q->tail = (q->tail + bytes) % q->cap;
    __atomic_sub_fetch(&q->used, bytes, __ATOMIC_SEQ_CST);
}

/* A writer that finds only a few datagrams naps briefly before the next
 * round, so that at moderate rates it handles them in batches instead of
 * being woken for each one. */
#define NAP_BELOW_BYTES (64 * 1024)
#define NAP_US          1000

static void *writer_thread(void *arg)
{
    writer *w = arg;

    for (;;) {
        size_t tail, used, done = 0;
        bool closed;

        used = wait_for_work(w, &tail, &closed);
        if (used) {
            done = drain_ring(w, tail, used);
            ring_release(&w->co->q, done);
            if (used < NAP_BELOW_BYTES && !closed)
                usleep(NAP_US);
        }
        if (commit_due(w, trpt_now_us()) ||
            __atomic_load_n(&w->co->reopen, __ATOMIC_RELAXED))
            commit(w);
        publish_stats(w);
        if (closed && done == used)
            break;
    }
    commit(w);
    publish_stats(w);
    return NULL;
}

/* ---- options --------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: tlsrpt collect --socket PATH [OPTIONS]\n"
            "Receive Postfix's libtlsrpt datagrams into the spool "
            "(needs postfix_tlsrpt = datagrams).\n"
            "  -s, --socket PATH        AF_UNIX datagram socket to create\n"
            "  -m, --mode OCTAL         socket file mode (default 0660)\n"
            "  -g, --group NAME         socket file group (e.g. postfix)\n"
            "  -H, --host NAME          reporting host (default: hostname)\n"
            "  -S, --stats-file PATH    Prometheus text file, every %d s\n"
            "  -i, --commit-interval MS spool commit interval (default %d)\n"
            "  -x, --max-datagram BYTES longer datagrams are skipped "
            "(default %d)\n"
            "  -q, --queue-mib N        in-memory queue (default %u)\n"
            "  -R, --realtime           receive thread under SCHED_FIFO "
            "(CAP_SYS_NICE)\n",
            STATS_PERIOD_S, COMMIT_MS, TRPT_DATAGRAM_MAX_DEFAULT,
            QUEUE_DEFAULT >> 20);
}

static int parse_ulong(const char *s, int base, unsigned long lo,
                       unsigned long hi, unsigned long *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    if (!*s || *s == '-' || *s == '+')
        return -EINVAL;
    v = strtoul(s, &end, base);
    if (errno || *end || v < lo || v > hi)
        return -ERANGE;
    *out = v;
    return 0;
}

/* Returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, collect_opts *o)
{
    static const struct option opts[] = {
        {"socket", required_argument, NULL, 's'},
        {"mode", required_argument, NULL, 'm'},
        {"group", required_argument, NULL, 'g'},
        {"host", required_argument, NULL, 'H'},
        {"stats-file", required_argument, NULL, 'S'},
        {"commit-interval", required_argument, NULL, 'i'},
        {"max-datagram", required_argument, NULL, 'x'},
        {"queue-mib", required_argument, NULL, 'q'},
        {"realtime", no_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    unsigned long v;
    int c;

    while ((c = getopt_long(argc, argv, "s:m:g:H:S:i:x:q:Rh", opts, NULL)) !=
           -1) {
        switch (c) {
        case 's':
            o->socket_path = optarg;
            break;
        case 'm':
            if (parse_ulong(optarg, 8, 0, 0777, &v) < 0)
                return tlsrpt_usage_error("collect", "bad mode: %s", optarg);
            o->mode = (mode_t)v;
            break;
        case 'g':
            o->group = optarg;
            break;
        case 'H':
            if (!tlsrpt_valid_host(optarg))
                return tlsrpt_usage_error("collect", "bad host name: %s",
                                          optarg);
            o->host = optarg;
            break;
        case 'S':
            o->stats_file = optarg;
            break;
        case 'i':
            if (parse_ulong(optarg, 10, 1, 60000, &v) < 0)
                return tlsrpt_usage_error(
                    "collect", "commit interval must be 1..60000 ms: %s",
                    optarg);
            o->commit_ms = (unsigned)v;
            break;
        case 'x':
            if (parse_ulong(optarg, 10, MAX_DATAGRAM_MIN, MAX_DATAGRAM_MAX,
                            &v) < 0)
                return tlsrpt_usage_error(
                    "collect", "max datagram must be %u..%u bytes: %s",
                    MAX_DATAGRAM_MIN, MAX_DATAGRAM_MAX, optarg);
            o->max_datagram = v;
            break;
        case 'q':
            if (parse_ulong(optarg, 10, 1, 4096, &v) < 0)
                return tlsrpt_usage_error(
                    "collect", "queue must be 1..4096 MiB: %s", optarg);
            o->queue_bytes = v << 20;
            break;
        case 'R':
            o->realtime = true;
            break;
        case 'h':
            usage(stdout);
            return TLSRPT_EXIT_OK;
        default:
            return tlsrpt_usage_error("collect", "bad option");
        }
    }
    if (optind < argc)
        return tlsrpt_usage_error("collect", "unexpected argument: %s",
                                  argv[optind]);
    if (!o->socket_path || !*o->socket_path)
        return tlsrpt_usage_error("collect", "--socket PATH is required");
    if (o->queue_bytes < 16 * entry_size(o->max_datagram))
        return tlsrpt_usage_error("collect", "queue too small for "
                                             "--max-datagram");
    return -1;
}

/* ---- setup and the main loop ------------------------------------------ */

/* One path per host (design.md): the TLSRPT: log line of a handshake and
 * its datagram must not both count. */
static int require_datagram_mode(const tlsrpt_ctx *ctx)
{
    if (ctx->cfg->postfix_tlsrpt == TRPT_TLSRPT_DATAGRAMS)
        return 0;
    tlsrpt_err("collect: %s must set postfix_tlsrpt = datagrams: with it "
               "every log reader ignores Postfix lines, so a handshake "
               "that Postfix both logs and sends is counted once "
               "(see tlsrpt.conf(5))",
               ctx->config_path);
    return TLSRPT_EXIT_SYSTEM;
}

static int make_source(char *out, size_t len)
{
    uint64_t r;

    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        return -errno;
    snprintf(out, len, "dg-%016" PRIx64, r);
    return 0;
}

static char *default_host(void)
{
    char buf[256];

    if (gethostname(buf, sizeof buf) < 0)
        return NULL;
    buf[sizeof buf - 1] = '\0';
    return tlsrpt_valid_host(buf) ? strdup(buf) : NULL;
}

static int open_spool(collector *co)
{
    const trpt_config *cfg = co->ctx->cfg;
    trpt_sink_config sc = {.type = TRPT_SINK_SPOOL,
                           .spool_directory = cfg->spool_directory,
                           .fsync = cfg->spool_fsync};
    int r;

    if ((r = tlsrpt_ensure_dir(cfg->spool_directory, "spool")) != 0)
        return -EIO;
    if ((r = trpt_sink_open(&co->sink, &sc)) < 0) {
        tlsrpt_err("collect: cannot open spool %s: %s", cfg->spool_directory,
                   strerror(-r));
        return r;
    }
    return 0;
}

/* Waits for signals; writes stats and pings the watchdog meanwhile. */
static void run_until_signal(collector *co)
{
    sigset_t set;
    uint64_t wd_usec = 0;
    int64_t next_stats = 0, next_wd = 0;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (sd_watchdog_enabled(0, &wd_usec) <= 0)
        wd_usec = 0;
    for (;;) {
        struct timespec ts = {0, 250 * 1000 * 1000};
        int64_t now = trpt_now_us();
        int sig;

        if (now >= next_stats) {
            collect_write_stats_file(co);
            collect_notify_status(co);
            next_stats = now + STATS_PERIOD_S * 1000000LL;
        }
        if (wd_usec && now >= next_wd) {
            sd_notify(0, "WATCHDOG=1");
            next_wd = now + (int64_t)wd_usec / 2;
        }
        sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGHUP)
            __atomic_store_n(&co->reopen, 1, __ATOMIC_RELAXED);
        else if (sig == SIGTERM || sig == SIGINT)
            return;
    }
}

static void block_signals(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Stops in the order that loses nothing already accepted. */
static void shut_down(collector *co, pthread_t rx, pthread_t wr)
{
    sd_notify(0, "STOPPING=1");
    collect_remove_socket(co);
    __atomic_store_n(&co->stop, 1, __ATOMIC_RELAXED);
    pthread_join(rx, NULL);
    pthread_join(wr, NULL);
}

static int start_threads(collector *co, writer *w, pthread_t *rx, pthread_t *wr)
{
    int r;

    if ((r = pthread_create(wr, NULL, writer_thread, w)) != 0)
        return -r;
    if ((r = pthread_create(rx, NULL, receive_thread, co)) != 0) {
        ring_close(&co->q);
        pthread_join(*wr, NULL);
        return -r;
    }
    return 0;
}

static void collector_free(collector *co, char *host)
{
    int r = trpt_sink_close(co->sink);

    if (r < 0)
        tlsrpt_err("collect: closing the spool: %s", strerror(-r));
    collect_remove_socket(co);
    if (co->fd >= 0)
        close(co->fd);
    ring_destroy(&co->q);
    pthread_mutex_destroy(&co->stats_lock);
    free(host);
}

static int setup(collector *co)
{
    int r;

    if ((r = make_source(co->source, sizeof co->source)) < 0 ||
        ring_init(&co->q, co->o.queue_bytes) < 0) {
        tlsrpt_err("collect: setup: %s", strerror(r < 0 ? -r : errno));
        return TLSRPT_EXIT_SYSTEM;
    }
    if (open_spool(co) < 0 || collect_open_socket(co) < 0)
        return TLSRPT_EXIT_SYSTEM;
    return 0;
}

int cmd_collect(tlsrpt_ctx *ctx, int argc, char **argv)
{
    collector co = {.ctx = ctx,
                    .fd = -1,
                    .o = {.mode = 0660,
                          .commit_ms = COMMIT_MS,
                          .max_datagram = TRPT_DATAGRAM_MAX_DEFAULT,
                          .queue_bytes = QUEUE_DEFAULT}};
    writer w = {.co = &co};
    pthread_t rx, wr;
    char *host = NULL;
    int rc, r;

    if ((rc = parse_args(argc, argv, &co.o)) >= 0)
        return rc;
    if ((rc = require_datagram_mode(ctx)) != 0)
        return rc;
    pthread_mutex_init(&co.stats_lock, NULL);
    if (!co.o.host)
        co.o.host = host = default_host();
    block_signals();
    if ((rc = setup(&co)) != 0 || (r = trpt_datagram_decoder_new(&w.dec)) < 0) {
        collector_free(&co, host);
        return rc ? rc : TLSRPT_EXIT_SYSTEM;
    }
    if ((r = start_threads(&co, &w, &rx, &wr)) < 0) {
        tlsrpt_err("collect: threads: %s", strerror(-r));
        trpt_datagram_decoder_free(w.dec);
        collector_free(&co, host);
        return TLSRPT_EXIT_SYSTEM;
    }
    tlsrpt_info(ctx, "collect: listening on %s (event source %s)",
                co.o.socket_path, co.source);
    sd_notify(0, "READY=1");
    run_until_signal(&co);
    shut_down(&co, rx, wr);
    collect_write_stats_file(&co);
    collect_print_summary(&co);
    trpt_datagram_decoder_free(w.dec);
    rc = CNT_GET(&co.c, lost) ? TLSRPT_EXIT_SYSTEM : TLSRPT_EXIT_OK;
    collector_free(&co, host);
    return rc;
}
