/*
 * outbox.h - delivery state of the reports in the outbox (RFC 8460 §5).
 *
 * The aggregator writes each report once, as an immutable file
 * OUTBOX/<RFC 8460 §5.3 name>.json.gz. Its delivery state lives beside it
 * in OUTBOX/delivery/<name>.state, one small text file per report,
 * replaced atomically (tmp, fsync, rename, directory fsync) after every
 * change. It holds the report's destinations (the rua URIs, resolved once
 * so that retries go where the first try went) and, per destination, the
 * state, attempts, next try and last error.
 *
 * A sender records an attempt only after it finished, so a crash in the
 * middle of a delivery sends that one report again to that destination,
 * with the same bytes and report-id; nothing already recorded as sent is
 * sent again.
 *
 * Schedule (times in microseconds since the epoch):
 *  - first try: the end of the report's day (next UTC midnight) + grace +
 *    a per-report offset in [0, spread), derived from the report's name
 *    (so restarts keep it, and a big outbox does not hit every receiver at
 *    00:00 + grace);
 *  - after a retryable failure: base * 2^(attempts-1), capped, +-20 %
 *    jitter from the name and attempt; given up once the next try would be
 *    later than first try + give_up;
 *  - a permanent failure gives up at once.
 *
 * trpt_outbox_reports()     report file names in dir (sorted)
 * trpt_outbox_load()        the state of one report; a report without a
 *                           state file gives a fresh, unresolved entry
 * trpt_outbox_parse()       the same from a state file's text (tests,
 *                           fuzzing); -EBADMSG when it is not valid
 * trpt_outbox_save()        write the state atomically
 * trpt_outbox_resolve()     set the destinations (or the reason there are
 *                           none) of an unresolved entry
 * trpt_outbox_record()      record one attempt's outcome for destination i
 * trpt_outbox_next_due()    earliest next try of any open destination, or
 *                           INT64_MAX when the entry is finished
 * trpt_outbox_finished()    1 when no destination is open
 * trpt_outbox_first_try()   the schedule's first try of a report
 * trpt_outbox_entry_free()  NULL ok
 */
#ifndef TRPT_OUTBOX_H
#define TRPT_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

typedef enum trpt_dest_state {
    TRPT_DEST_PENDING = 0, /* not tried yet, or failed and due again */
    TRPT_DEST_SENT,        /* accepted by the receiver */
    TRPT_DEST_GIVEN_UP,    /* permanent failure, or retries exhausted */
} trpt_dest_state;

const char *trpt_dest_state_name(trpt_dest_state s);

typedef struct trpt_outbox_dest {
    char *uri; /* "mailto:..." or "https://..." */
    trpt_dest_state state;
    unsigned attempts;
    int64_t next_us;  /* next try (PENDING) */
    int64_t done_us;  /* when sent or given up */
    char *last_error; /* one line, NULL = none */
} trpt_outbox_dest;

typedef struct trpt_outbox_entry {
    char *report;      /* file name in the outbox */
    int resolved;      /* destinations are known */
    char *no_dest_why; /* resolved with no destination: why (one line) */
    int64_t first_us;  /* first try */
    trpt_outbox_dest *dest;
    size_t n_dest;
} trpt_outbox_entry;

typedef struct trpt_outbox_schedule {
    int64_t grace_us;   /* after the day's end; default 1 h */
    int64_t spread_us;  /* default 4 h */
    int64_t base_us;    /* first retry delay; default 5 min */
    int64_t cap_us;     /* longest retry delay; default 4 h */
    int64_t give_up_us; /* after the first try; default 24 h */
} trpt_outbox_schedule;

/* Defaults for zero fields. */
void trpt_outbox_schedule_defaults(trpt_outbox_schedule *s);

int trpt_outbox_reports(const char *dir, char ***names);
void trpt_outbox_reports_free(char **names);
int trpt_outbox_load(const char *dir, const char *report,
                     const trpt_outbox_schedule *s, trpt_outbox_entry **out);
int trpt_outbox_parse(const char *report, const char *text, size_t len,
                      trpt_outbox_entry **out);
int trpt_outbox_save(const char *dir, const trpt_outbox_entry *e);
int trpt_outbox_resolve(trpt_outbox_entry *e, const char *const *uris, size_t n,
                        const char *no_dest_why);
int trpt_outbox_record(trpt_outbox_entry *e, size_t i, int ok, int retryable,
                       const char *error, int64_t now_us,
                       const trpt_outbox_schedule *s);
int64_t trpt_outbox_next_due(const trpt_outbox_entry *e);
int trpt_outbox_finished(const trpt_outbox_entry *e);
int trpt_outbox_first_try(const char *report, const trpt_outbox_schedule *s,
                          int64_t *first_us);
void trpt_outbox_entry_free(trpt_outbox_entry *e);

#endif
