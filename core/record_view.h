/*
 * record_view.h - a decoded record whose strings are not copied: the
 * aggregator's fast path (core/agg.c), and the first stage of
 * trpt_record_from_json().
 *
 * A view's strings point into the JSON text it was decoded from (or, for
 * strings written with escapes, into the view's own scratch buffer); they
 * are not NUL-terminated and stay valid until the next decode into the same
 * view or until the JSON text goes. A string that is absent has p == NULL.
 *
 * trpt_record_view_init()      empty view, no allocation yet
 * trpt_record_view_from_json() decode and validate one JSON object: the
 *                              same rules and error codes as
 *                              trpt_record_from_json() (it is built on
 *                              this); on error the view is left empty
 * trpt_record_view_from_record() a view of a record that passed
 *                              trpt_record_validate(); borrows its strings
 * trpt_record_view_free()      release the scratch buffer (NULL ok)
 */
#ifndef TRPT_RECORD_VIEW_H
#define TRPT_RECORD_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define TRPT_VIEW_MAX_VECTOR 64 /* docs/record-format.md, "Limits" */

typedef struct trpt_sv {
    const char *p; /* NULL: absent */
    size_t len;
} trpt_sv;

typedef struct trpt_record_view {
    /* the record (version is always TRPT_RECORD_VERSION) */
    int64_t time_us;
    trpt_policy_type policy_type;
    trpt_result result;
    trpt_sv event_id;
    trpt_sv reporting_host;
    trpt_sv mta;
    trpt_sv policy_domain;
    trpt_sv tlsrpt_record;
    trpt_sv sending_mta_ip;
    trpt_sv receiving_mx_hostname;
    trpt_sv receiving_ip;
    trpt_sv receiving_mx_helo;
    trpt_sv failure_reason_code;
    trpt_sv additional_information;
    trpt_sv queue_id;
    size_t n_policy_strings;
    size_t n_mx_hosts;
    /* the event id, parsed: its source is event_id.p[0 .. id_source_len) */
    size_t id_source_len;
    uint64_t id_offset;
    unsigned id_sub;
    /* vector entries: [0, n_policy_strings) and [0, n_mx_hosts) */
    trpt_sv policy_strings[TRPT_VIEW_MAX_VECTOR];
    trpt_sv mx_hosts[TRPT_VIEW_MAX_VECTOR];
    /* private to record.c */
    char *scratch; /* unescaped strings */
    size_t scratch_cap;
    size_t scratch_used;
    char date_seen[10];   /* "YYYY-MM-DD" of the last time decoded... */
    int64_t date_day;     /* ...and its epoch day (a date parse is saved) */
    char source_seen[64]; /* the last event id source (checked once) */
    size_t source_seen_len;
} trpt_record_view;

void trpt_record_view_init(trpt_record_view *v);
int trpt_record_view_from_json(trpt_record_view *v, const char *json,
                               size_t len);
int trpt_record_view_from_record(trpt_record_view *v, const trpt_record *r);
void trpt_record_view_free(trpt_record_view *v);

#endif
