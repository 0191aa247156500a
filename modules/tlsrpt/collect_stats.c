/* collect_stats.c - the counters of `tlsrpt collect`: a Prometheus
 * text file, the summary line at exit, the sd_notify status. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "collect.h"

/* ---- statistics ------------------------------------------------------ */

typedef struct snapshot {
    counters c;
    trpt_datagram_stats d;
    uint64_t pending;
    uint64_t malformed;
} snapshot;

static void take_snapshot(collector *co, snapshot *s)
{
    s->c.received = CNT_GET(&co->c, received);
    s->c.bytes = CNT_GET(&co->c, bytes);
    s->c.oversize = CNT_GET(&co->c, oversize);
    s->c.queue_full = CNT_GET(&co->c, queue_full);
    s->c.kernel_drops = CNT_GET(&co->c, kernel_drops);
    s->c.recv_errors = CNT_GET(&co->c, recv_errors);
    s->c.committed = CNT_GET(&co->c, committed);
    s->c.lost = CNT_GET(&co->c, lost);
    s->c.commit_failures = CNT_GET(&co->c, commit_failures);
    s->c.queue_high = CNT_GET(&co->c, queue_high);
    pthread_mutex_lock(&co->stats_lock);
    s->d = co->dstats;
    s->pending = co->pending_now;
    pthread_mutex_unlock(&co->stats_lock);
    s->malformed = 0;
    for (int i = 0; i < TRPT_DGERR_COUNT; i++)
        if (i != TRPT_DGERR_OVERSIZE)
            s->malformed += s->d.errors[i];
}

static void metric(FILE *f, const char *name, const char *type,
                   const char *help, uint64_t v)
{
    fprintf(f, "# HELP tlsrpt_collect_%s %s\n# TYPE tlsrpt_collect_%s %s\n",
            name, help, name, type);
    fprintf(f, "tlsrpt_collect_%s %" PRIu64 "\n", name, v);
}

static void write_metrics(FILE *f, const snapshot *s)
{
    metric(f, "datagrams_received_total", "counter",
           "Datagrams read from the socket.", s->c.received);
    metric(f, "received_bytes_total", "counter", "Bytes of the datagrams read.",
           s->c.bytes);
    metric(f, "datagrams_decoded_total", "counter",
           "Datagrams that gave records.", s->d.decoded);
    fprintf(f, "# HELP tlsrpt_collect_datagrams_malformed_total Datagrams "
               "skipped as malformed, by reason.\n"
               "# TYPE tlsrpt_collect_datagrams_malformed_total counter\n");
    for (int i = 0; i < TRPT_DGERR_COUNT; i++)
        if (i != TRPT_DGERR_OVERSIZE)
            fprintf(f,
                    "tlsrpt_collect_datagrams_malformed_total{reason=\"%s\"} "
                    "%" PRIu64 "\n",
                    trpt_datagram_error_name((trpt_datagram_error)i),
                    s->d.errors[i]);
    metric(f, "datagrams_oversize_total", "counter",
           "Datagrams longer than --max-datagram, skipped.", s->c.oversize);
    metric(f, "queue_full_drops_total", "counter",
           "Datagrams dropped because the in-memory queue was full.",
           s->c.queue_full);
    metric(f, "kernel_drops_total", "counter",
           "Drops the kernel reported for the socket (SO_RXQ_OVFL); senders' "
           "own EAGAIN losses are not visible here.",
           s->c.kernel_drops);
    metric(f, "receive_errors_total", "counter", "Failed receive calls.",
           s->c.recv_errors);
    metric(f, "records_total", "counter", "Records decoded.", s->d.records);
    metric(f, "records_committed_total", "counter",
           "Records made durable in the spool.", s->c.committed);
    metric(f, "records_lost_total", "counter",
           "Records lost to spool write failures.", s->c.lost);
    metric(f, "commit_failures_total", "counter", "Failed spool commits.",
           s->c.commit_failures);
    metric(f, "failure_details_ignored_total", "counter",
           "Failure details beyond the first of a session.",
           s->d.details_ignored);
    metric(f, "records_pending", "gauge", "Records not yet committed.",
           s->pending);
    metric(f, "queue_high_water_bytes", "gauge",
           "Most bytes the in-memory queue held.", s->c.queue_high);
}

/* Written to a temporary name and renamed: readers see whole files. */
void collect_write_stats_file(collector *co)
{
    char tmp[4200];
    snapshot s;
    FILE *f;

    if (!co->o.stats_file)
        return;
    take_snapshot(co, &s);
    snprintf(tmp, sizeof tmp, "%s.tmp", co->o.stats_file);
    if (!(f = fopen(tmp, "w"))) {
        tlsrpt_err("collect: %s: %s", tmp, strerror(errno));
        return;
    }
    write_metrics(f, &s);
    if (fclose(f) != 0 || rename(tmp, co->o.stats_file) < 0) {
        tlsrpt_err("collect: %s: %s", co->o.stats_file, strerror(errno));
        unlink(tmp);
    }
}

void collect_print_summary(collector *co)
{
    snapshot s;

    take_snapshot(co, &s);
    fprintf(stderr,
            "tlsrpt collect: %" PRIu64 " datagrams received, %" PRIu64
            " records written, %" PRIu64 " malformed, %" PRIu64
            " oversize, %" PRIu64 " dropped (queue full), %" PRIu64
            " kernel drops, %" PRIu64 " records lost (spool)\n",
            s.c.received, s.c.committed, s.malformed, s.c.oversize,
            s.c.queue_full, s.c.kernel_drops, s.c.lost);
    if (!s.malformed)
        return;
    fputs("  malformed:", stderr);
    for (int i = 0; i < TRPT_DGERR_COUNT; i++)
        if (i != TRPT_DGERR_OVERSIZE && s.d.errors[i])
            fprintf(stderr, " %s %" PRIu64,
                    trpt_datagram_error_name((trpt_datagram_error)i),
                    s.d.errors[i]);
    fputc('\n', stderr);
}

void collect_notify_status(collector *co)
{
    snapshot s;

    take_snapshot(co, &s);
    sd_notifyf(0,
               "STATUS=%" PRIu64 " datagrams, %" PRIu64 " records, %" PRIu64
               " malformed, %" PRIu64 " dropped",
               s.c.received, s.c.committed, s.malformed + s.c.oversize,
               s.c.queue_full);
}
