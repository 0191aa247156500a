/*
 * state.h - the aggregator's durable state and its run loop.
 *
 * One state file (STATE_DIR/aggregate.state) holds, consistently together:
 * the aggregate counts (agg.h), the read position of every spool segment,
 * the days already reported (with their report sequence numbers), and the
 * event-id high-water marks. It is replaced atomically (write a temporary
 * file, fsync, rename, fsync the directory), so a kill -9 at any point
 * leaves either the old or the new state, each consistent with the spool:
 * nothing is lost and nothing is counted twice.
 * A lock file (flock) keeps a second aggregator off the same state.
 *
 * trpt_state_open()       lock and load (or start empty)
 * trpt_state_pass()       fold every new spool frame; checkpoints every
 *                         checkpoint_records records and at the end
 * trpt_state_report_due() write reports for days whose grace period has
 *                         passed at now_us, mark them reported, checkpoint,
 *                         then delete spool segments no longer needed
 * trpt_state_report_day() write (or, with out != NULL, print pretty JSON
 *                         without writing or marking) one day's reports
 * trpt_state_agg()        the aggregator, for `tlsrpt show`
 * trpt_state_free()       unlock, free (does not save)
 */
#ifndef TRPT_STATE_H
#define TRPT_STATE_H

#include <stdint.h>
#include <stdio.h>

#include "agg.h"
#include "config.h"

typedef struct trpt_state trpt_state;

typedef struct trpt_state_stats {
    uint64_t frames;        /* spool frames read in this process */
    uint64_t torn_bytes;    /* torn tails skipped */
    uint64_t corrupt_bytes; /* corrupt bytes skipped */
    uint64_t late_records;  /* records for an already-reported day */
    uint64_t reports_written;
    uint64_t segments_removed;
} trpt_state_stats;

int trpt_state_open(trpt_state **out, const trpt_config *cfg);
int trpt_state_pass(trpt_state *s, uint64_t checkpoint_records);
int trpt_state_report_due(trpt_state *s, int64_t now_us);
int trpt_state_report_day(trpt_state *s, int64_t day, FILE *preview);
int trpt_state_save(trpt_state *s);
trpt_agg *trpt_state_agg(trpt_state *s);
const trpt_state_stats *trpt_state_stats_get(const trpt_state *s);
void trpt_state_free(trpt_state *s);

#endif
