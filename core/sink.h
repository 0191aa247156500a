/*
 * sink.h - where edges put normalized records: the one interface every edge
 * (tlsrpt ingest, omtlsrpt, tlsrpt journal, tlsrpt collect) writes through,
 * so that a transport (the local spool today, Kafka later) is a
 * configuration choice, not code in each edge.
 *
 * Contract: records are appended to a pending batch; trpt_sink_commit()
 * makes the whole batch durable (spool: written and, per fsync policy,
 * fdatasync'd; Kafka: acknowledged by the brokers) or fails with nothing
 * of the batch visible to readers. Only after commit returned 0 may an edge
 * acknowledge its upstream (rsyslog batch, journal cursor). After a failed
 * commit the pending batch is gone: the edge re-reads its input (rsyslog
 * retries a SUSPENDED batch) or counts the loss (datagrams).
 *
 * One sink is used by one thread at a time; edges with several threads
 * serialise on their own lock.
 *
 * trpt_sink_open()       open the configured transport
 * trpt_sink_append()     validate and encode one record; key = its policy
 *                        domain (Kafka partitioning)
 * trpt_sink_emit()       trpt_emit_fn for trpt_parser_new(): like append,
 *                        for records the parser has already validated
 * trpt_sink_commit()     make the pending batch durable
 * trpt_sink_discard()    drop the pending batch (edge saw an input error)
 * trpt_sink_reopen()     start a new file on the next commit (SIGHUP,
 *                        log rotation tools); pending records are kept
 * trpt_sink_pending()    records appended and not yet committed
 * trpt_sink_pending_bytes() their encoded size (edges commit by size)
 * trpt_sink_last_json()  the encoded form of the record appended last
 *                        (valid until the next append): an edge that keeps
 *                        its own copy of a batch copies this instead of
 *                        encoding the record again
 * trpt_sink_stats_get()  counters
 * trpt_sink_close()      commit what is pending, release, free (NULL ok);
 *                        returns the commit's result
 */
#ifndef TRPT_SINK_H
#define TRPT_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "spool.h"

typedef enum trpt_sink_type {
    TRPT_SINK_SPOOL = 0, /* the local spool directory (default) */
} trpt_sink_type;

typedef struct trpt_sink_config {
    trpt_sink_type type;
    const char *spool_directory; /* TRPT_SINK_SPOOL; required */
    trpt_fsync_policy fsync;
    uint64_t max_segment_bytes; /* 0 = spool default */
    /* Filled into records without a reporting host (Exim's mainlog,
     * datagrams); NULL = leave absent. Copied. */
    const char *default_host;
} trpt_sink_config;

typedef struct trpt_sink_stats {
    uint64_t appended;  /* records appended */
    uint64_t committed; /* records made durable */
    uint64_t discarded; /* records dropped by a failed commit or discard */
    uint64_t invalid;   /* records refused by trpt_sink_append() */
    uint64_t commits;   /* successful commits with records */
    uint64_t failures;  /* failed commits */
    uint64_t bytes;     /* encoded bytes made durable */
} trpt_sink_stats;

typedef struct trpt_sink trpt_sink;

int trpt_sink_open(trpt_sink **out, const trpt_sink_config *cfg);
int trpt_sink_append(trpt_sink *s, const trpt_record *rec);
int trpt_sink_emit(void *sink, const trpt_record *rec);
int trpt_sink_commit(trpt_sink *s);
void trpt_sink_discard(trpt_sink *s);
int trpt_sink_reopen(trpt_sink *s);
uint64_t trpt_sink_pending(const trpt_sink *s);
uint64_t trpt_sink_pending_bytes(const trpt_sink *s);
const char *trpt_sink_last_json(const trpt_sink *s, size_t *len);
const trpt_sink_stats *trpt_sink_stats_get(const trpt_sink *s);
int trpt_sink_close(trpt_sink *s);

#endif
