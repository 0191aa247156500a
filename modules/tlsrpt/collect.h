/* collect.h - what the parts of `tlsrpt collect` share: the collector's
 * state (collect.c runs the threads; collect_socket.c makes the socket;
 * collect_stats.c reports the counters). Internal to modules/tlsrpt. */
#ifndef TLSRPT_COLLECT_H
#define TLSRPT_COLLECT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "datagram.h"
#include "sink.h"
#include "tlsrpt.h"

#define RECV_BATCH       64
#define STAGING_MAX      (8u << 20)  /* bytes of receive buffers per batch */
#define QUEUE_DEFAULT    (64u << 20) /* in-memory ring */
#define COMMIT_RECORDS   65536       /* commit at least this often */
#define COMMIT_MS        200         /* --commit-interval default */
#define STATS_PERIOD_S   5
#define SOCKET_RCVBUF    (8 << 20)
#define RECV_TIMEOUT_MS  100 /* how soon the receive loop sees a stop */
#define RECV_SPIN_US     200 /* poll this long after data before sleeping */
#define MAX_DATAGRAM_MIN 512
#define MAX_DATAGRAM_MAX (4u << 20)

typedef struct collect_opts {
    const char *socket_path;
    mode_t mode;
    const char *group;
    const char *host;
    const char *stats_file;
    unsigned commit_ms;
    size_t max_datagram;
    size_t queue_bytes;
    bool realtime; /* receive thread under SCHED_FIFO */
} collect_opts;

/* Counters shared between threads (relaxed atomics; each has one writer). */
typedef struct counters {
    uint64_t received;     /* datagrams read from the socket */
    uint64_t bytes;        /* their bytes */
    uint64_t oversize;     /* longer than --max-datagram: skipped */
    uint64_t queue_full;   /* ring full: dropped inside the collector */
    uint64_t kernel_drops; /* SO_RXQ_OVFL, where the kernel reports any */
    uint64_t recv_errors;
    uint64_t committed; /* records made durable */
    uint64_t lost;      /* records lost to a failed commit/append */
    uint64_t commit_failures;
    uint64_t queue_high; /* ring bytes high-water mark */
} counters;

#define CNT_ADD(c, f, n) __atomic_fetch_add(&(c)->f, (n), __ATOMIC_RELAXED)
#define CNT_GET(c, f)    __atomic_load_n(&(c)->f, __ATOMIC_RELAXED)
#define CNT_SET(c, f, v) __atomic_store_n(&(c)->f, (v), __ATOMIC_RELAXED)

/* One queued datagram: header, then the bytes, padded to 8. */
typedef struct entry_hdr {
    uint32_t len; /* ENTRY_WRAP: continue at offset 0 */
    uint32_t pad;
    uint64_t seq;
    int64_t time_us;
} entry_hdr;

#define ENTRY_WRAP UINT32_MAX

/* Single producer (receive thread), single consumer (writer thread),
 * without a lock on the data path: the producer owns head and the free
 * bytes, the consumer tail and the used ones; `used` (atomic) hands bytes
 * over. The consumer sleeps on the condition variable only when the ring
 * is empty, and the producer signals only then (`sleeping`), so a
 * datagram costs no wake-up while the writer is busy. Both flags and
 * `used` are accessed sequentially consistent: the producer's "add, then
 * look at sleeping" and the consumer's "set sleeping, then look at used"
 * cannot both miss each other. */
typedef struct ring {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    char *buf;
    size_t cap;
    size_t head;  /* producer only: writes here */
    size_t tail;  /* consumer only: reads here */
    size_t used;  /* atomic: bytes between tail and head, wrap included */
    int closed;   /* atomic: producer finished */
    int sleeping; /* atomic: consumer waits for data */
} ring;

#define AT_LOAD(p)     __atomic_load_n(p, __ATOMIC_SEQ_CST)
#define AT_STORE(p, v) __atomic_store_n(p, v, __ATOMIC_SEQ_CST)

typedef struct collector {
    const tlsrpt_ctx *ctx;
    collect_opts o;
    char source[32];
    int fd;
    ino_t sock_ino;
    bool socket_bound;
    ring q;
    counters c;
    trpt_sink *sink;
    int stop;   /* atomic: receive thread drains and ends */
    int reopen; /* atomic: SIGHUP seen, writer starts a new segment */
    /* the writer's decoder counters, published after each batch */
    pthread_mutex_t stats_lock;
    trpt_datagram_stats dstats;
    uint64_t pending_now;
} collector;

/* collect_socket.c */
int collect_open_socket(collector *co);
void collect_remove_socket(collector *co);

/* collect_stats.c */
void collect_write_stats_file(collector *co);
void collect_print_summary(collector *co);
void collect_notify_status(collector *co);

#endif
