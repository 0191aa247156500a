/*
 * engine.h - one omtlsrpt action instance without rsyslog: the parser and
 * the sink every worker of the action shares under one lock, event ids,
 * and the replay of batches whose commit failed.
 *
 * rsyslog hands each worker batches of template-rendered lines and, when
 * commitTransaction returns SUSPENDED, hands the same worker the same
 * batch again later (at-least-once). The parser's correlation state has
 * already taken in the failed batch, and feeding it again would open its
 * sessions twice. So a failed commit keeps two things:
 *   - the engine keeps copies of the records the batch produced; every
 *     later commit attempt (any worker) appends them first, so they reach
 *     the spool exactly once, with their original event ids;
 *   - the worker keeps a hash of each line it parsed in a failed call
 *     (otr_worker). rsyslog hands those lines in again, as the same batch
 *     or one message at a time (action.c tries each message of a failed
 *     batch alone, then retries the ones that still fail), so the hashes
 *     form a multiset, not a sequence: a line matching one is not parsed
 *     again, and the match is forgotten once a commit succeeds.
 * Readers never see a record of a failed commit (sink.h), so nothing is
 * counted twice and nothing acknowledged is lost.
 *
 * Order: the parser correlates lines (a Postfix TLS line and the delivery
 * line of the same process), so it must see them in log order. One
 * worker keeps rsyslog's queue order; several workers commit their
 * batches in whatever order they get the lock. With cfg->ordered, every
 * line starts with a sequence number ("<n> ", from mmsequence in the
 * ruleset, see rsyslog-conf/) and a batch waits, at most
 * cfg->order_timeout_ms, until the batches before it have been parsed;
 * within a batch lines are parsed in number order. A number that never
 * comes (a message dropped or filtered after numbering) costs one time-out
 * and is counted; numbers that go backwards (a restart, wrap-around) are
 * parsed at once.
 *
 * Event ids: source "rs-<16 hex>" drawn at otr_engine_new (one per
 * rsyslogd run and action), offset = a per-engine line sequence number
 * taken under the lock, so ids grow in emission order (design.md).
 *
 * otr_engine_new()      create; opens nothing (rsyslogd -N1 creates
 *                       instances too); the sink opens at the first commit
 * otr_engine_commit()   parse a batch and make its records durable; 0, or
 *                       a negative errno: the caller reports SUSPENDED
 * otr_engine_probe()    0 if a commit could succeed now (tryResume)
 * otr_engine_hup()      new spool segment at the next commit; stats file
 * otr_engine_close()    finish open sessions (end of stream, like tlsrpt
 *                       ingest at EOF), commit, write stats, free (NULL ok)
 * otr_worker_new()      a worker's state: replay hashes, scratch space
 * otr_worker_free()     (NULL ok)
 */
#ifndef OMTLSRPT_ENGINE_H
#define OMTLSRPT_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "parser.h"
#include "sink.h"

/* The action's parameters, validated (params.c). */
typedef struct otr_config {
    char *template_name;
    trpt_mta_format format;
    trpt_tlsrpt_mode tlsrpt_mode;
    size_t max_sessions;        /* 0 = parser default */
    unsigned session_timeout_s; /* 0 = parser default */
    char **exclude_senders;     /* NULL-terminated or NULL */
    trpt_sink_type sink_type;
    char *spool_directory;
    trpt_fsync_policy fsync;
    uint64_t max_segment_bytes; /* 0 = spool default */
    char *stats_file;           /* NULL = none */
    int ordered;                /* lines start with a sequence number */
    unsigned order_timeout_ms;  /* wait for a missing number at most */
} otr_config;

void otr_config_clear(otr_config *c);
/* Frees a NULL-terminated array of strings and the strings (NULL ok). */
void otr_strings_free(char **v);

typedef struct otr_counters {
    uint64_t messages;     /* lines parsed */
    uint64_t replay_skips; /* lines of a retried batch not parsed again */
    uint64_t batches;      /* commit attempts */
    uint64_t failures;     /* failed commit attempts */
    uint64_t held;         /* records of failed commits kept for retry */
    uint64_t order_waits;  /* batches that waited for earlier ones */
    uint64_t order_gaps;   /* numbers given up on after the time-out */
    uint64_t unnumbered;   /* lines without a sequence number (ordered) */
} otr_counters;

typedef struct otr_worker otr_worker;

int otr_worker_new(otr_worker **out);
void otr_worker_free(otr_worker *w);

/* The i-th line of a batch (the caller's storage, valid during commit). */
typedef void (*otr_line_fn)(void *ctx, size_t i, const char **line,
                            size_t *len);

typedef struct otr_engine otr_engine;

/* Takes over cfg's contents (cfg is cleared). */
int otr_engine_new(otr_engine **out, otr_config *cfg);
int otr_engine_commit(otr_engine *e, otr_worker *w, size_t n,
                      otr_line_fn line_at, void *ctx);
int otr_engine_probe(otr_engine *e);
int otr_engine_hup(otr_engine *e);
int otr_engine_close(otr_engine *e);
const char *otr_engine_source(const otr_engine *e);
void otr_engine_counters(otr_engine *e, otr_counters *c, trpt_parser_stats *ps,
                         trpt_sink_stats *ss);
/* Write counters as "name=value" lines to path (via a temporary file and
 * rename, so a reader sees the old or the new file). */
int otr_engine_write_stats(otr_engine *e, const char *path);

#endif
