/*
 * report.h - RFC 8460 aggregate reports from aggregator groups.
 *
 * One report per (UTC day, policy domain, TLSRPT record): RFC 8460 §4 JSON
 * with every field (arrays for policy-string and mx-host, policy-domain
 * always, end-datetime 23:59:59Z), gzip-compressed (zlib, fixed header so
 * equal input gives equal bytes).
 *
 * report-id: "<YYYY-MM-DD>T00:00:00Z_<policy-domain>_<h8>[_<seq>]@<submitter>"
 *   where h8 is a hash of the TLSRPT record text, seq > 1 only for a
 *   supplementary report of late events (docs/tlsrpt.1, "Late events").
 * file name (§5.3): "<submitter>!<policy-domain>!<begin>!<end>!<h8>[_<seq>]
 *   .json.gz", begin/end in seconds since the epoch.
 *
 * trpt_report_json()   build the JSON text of one group (pretty or compact)
 * trpt_report_gzip()   gzip a buffer (deterministic header)
 * trpt_report_names()  report-id and file name of a group
 * trpt_report_write()  build, gzip and write atomically (tmp + fsync +
 *                      rename + dir fsync) into outbox_dir; an existing file
 *                      of the same name is replaced (same content)
 * trpt_report_batch_*() the same for many reports at once (a day's):
 *   _open()    a batch writing into outbox_dir
 *   _add()     build and gzip a group's report into a temporary file
 *   _commit()  fsync every temporary file, then rename each to its name,
 *              then fsync the directory once: a kill -9 at any point
 *              leaves under a final name either the old file or a
 *              complete new one; on error, files not yet renamed stay
 *              pending (_pending() counts them)
 *   _free()    remove the temporary files of pending reports; NULL ok
 * trpt_report_remove_stale() remove temporary files ".*.tmp" left in the
 *                      outbox by a writer that was killed; call only while
 *                      holding the aggregator lock (no other writer)
 */
#ifndef TRPT_REPORT_H
#define TRPT_REPORT_H

#include <stddef.h>

#include "agg.h"
#include "buf.h"

typedef struct trpt_report_meta {
    const char *organization_name;
    const char *contact_info;
    const char *submitter_domain;
    unsigned seq; /* 1 for the first report of a day, 2.. for late ones */
} trpt_report_meta;

int trpt_report_names(const trpt_agg_group *g, const trpt_report_meta *m,
                      trpt_buf *report_id, trpt_buf *file_name);
int trpt_report_json(const trpt_agg_group *g, const trpt_report_meta *m,
                     int pretty, trpt_buf *out);
int trpt_report_gzip(const char *data, size_t len, trpt_buf *out);
int trpt_report_write(const trpt_agg_group *g, const trpt_report_meta *m,
                      const char *outbox_dir, trpt_buf *path_out);
int trpt_report_remove_stale(const char *outbox_dir);

typedef struct trpt_report_batch trpt_report_batch;

int trpt_report_batch_open(trpt_report_batch **out, const char *outbox_dir);
int trpt_report_batch_add(trpt_report_batch *b, const trpt_agg_group *g,
                          const trpt_report_meta *m);
int trpt_report_batch_commit(trpt_report_batch *b);
size_t trpt_report_batch_pending(const trpt_report_batch *b);
void trpt_report_batch_free(trpt_report_batch *b);

#endif
