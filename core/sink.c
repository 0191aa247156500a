/*
 * sink.c - the record sink (sink.h). Today one transport, the local spool;
 * the type switch is where Kafka plugs in.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sink.h"

struct trpt_sink {
    trpt_sink_type type;
    trpt_spool_writer *spool;
    char *default_host;
    trpt_buf json;
    trpt_record copy; /* rec with default_host filled in */
    uint64_t pending;
    uint64_t pending_bytes;
    trpt_sink_stats stats;
};

int trpt_sink_open(trpt_sink **out, const trpt_sink_config *cfg)
{
    trpt_spool_writer_config wc;
    trpt_sink *s;
    int r;

    if (!out || !cfg)
        return -EINVAL;
    *out = NULL;
    if (cfg->type != TRPT_SINK_SPOOL || !cfg->spool_directory ||
        !cfg->spool_directory[0])
        return -EINVAL;
    if (!(s = calloc(1, sizeof *s)))
        return -ENOMEM;
    s->type = cfg->type;
    trpt_buf_init(&s->json);
    trpt_record_init(&s->copy);
    if (cfg->default_host && !(s->default_host = strdup(cfg->default_host))) {
        free(s);
        return -ENOMEM;
    }
    wc.fsync = cfg->fsync;
    wc.max_segment_bytes = cfg->max_segment_bytes;
    if ((r = trpt_spool_writer_open(&s->spool, cfg->spool_directory, &wc)) <
        0) {
        free(s->default_host);
        free(s);
        return r;
    }
    *out = s;
    return 0;
}

/* Encodes rec into s->json; `valid` says the caller validated it. */
static int encode(trpt_sink *s, const trpt_record *rec, int valid)
{
    int r;

    trpt_buf_reset(&s->json);
    if (!s->default_host || rec->reporting_host)
        return valid ? trpt_record_to_json_valid(rec, &s->json)
                     : trpt_record_to_json(rec, &s->json);
    if ((r = trpt_record_copy(&s->copy, rec)) == 0 &&
        (r = trpt_record_set(&s->copy.reporting_host, s->default_host)) == 0)
        r = trpt_record_to_json(&s->copy, &s->json);
    trpt_record_clear(&s->copy);
    return r;
}

static int append(trpt_sink *s, const trpt_record *rec, int valid)
{
    int r;

    if (!s || !rec)
        return -EINVAL;
    if ((r = encode(s, rec, valid)) < 0) {
        if (r == -EINVAL)
            s->stats.invalid++;
        return r;
    }
    if ((r = trpt_spool_writer_append(s->spool, s->json.data, s->json.len)) < 0)
        return r;
    s->pending++;
    s->pending_bytes += s->json.len;
    s->stats.appended++;
    return 0;
}

int trpt_sink_append(trpt_sink *s, const trpt_record *rec)
{
    return append(s, rec, 0);
}

int trpt_sink_emit(void *sink, const trpt_record *rec)
{
    return append(sink, rec, 1);
}

int trpt_sink_commit(trpt_sink *s)
{
    int r;

    if (!s)
        return -EINVAL;
    if (s->pending == 0)
        return 0;
    if ((r = trpt_spool_writer_commit(s->spool)) < 0) {
        s->stats.failures++;
        s->stats.discarded += s->pending;
    } else {
        s->stats.commits++;
        s->stats.committed += s->pending;
        s->stats.bytes += s->pending_bytes;
    }
    s->pending = 0;
    s->pending_bytes = 0;
    return r;
}

void trpt_sink_discard(trpt_sink *s)
{
    if (!s)
        return;
    trpt_spool_writer_discard(s->spool);
    s->stats.discarded += s->pending;
    s->pending = 0;
    s->pending_bytes = 0;
}

int trpt_sink_reopen(trpt_sink *s)
{
    return s ? trpt_spool_writer_reopen(s->spool) : -EINVAL;
}

uint64_t trpt_sink_pending(const trpt_sink *s)
{
    return s ? s->pending : 0;
}

uint64_t trpt_sink_pending_bytes(const trpt_sink *s)
{
    return s ? s->pending_bytes : 0;
}

const char *trpt_sink_last_json(const trpt_sink *s, size_t *len)
{
    if (!s || !len)
        return NULL;
    *len = s->json.len;
    return s->json.data;
}

const trpt_sink_stats *trpt_sink_stats_get(const trpt_sink *s)
{
    return s ? &s->stats : NULL;
}

int trpt_sink_close(trpt_sink *s)
{
    int r;
    int r2;

    if (!s)
        return 0;
    r = trpt_sink_commit(s);
    r2 = trpt_spool_writer_close(s->spool);
    if (r == 0)
        r = r2;
    trpt_buf_free(&s->json);
    trpt_record_free(&s->copy);
    free(s->default_host);
    free(s);
    return r;
}
