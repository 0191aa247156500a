/*
 * report_info.h - what the sender needs to know of a report in the outbox:
 * its report-id (for the mail's Subject), its policy domain, its date range
 * and its session counts (to skip reports without failures when so
 * configured). Reads the gzip file the aggregator wrote; every byte is
 * distrusted all the same (a damaged file must not crash the sender).
 *
 * trpt_report_info_read()   from gzip bytes; decompressed size bounded by
 *                           TRPT_REPORT_INFO_MAX
 * trpt_report_info_clear()  free (reusable)
 * trpt_report_split()       a report of several policies -> one report per
 *                           policy, written into outbox_dir beside it
 *                           (atomically, deterministic bytes), named
 *                           "<name without .json.gz>-p<N>.json.gz" with
 *                           report-id "<id before @>-p<N>@<after>";
 *                           *n_parts tells how many (-EINVAL for a report
 *                           of one policy: it cannot be split)
 * Errors: -EBADMSG not gzip or not a report, -EFBIG too large, -ENOMEM.
 */
#ifndef TRPT_REPORT_INFO_H
#define TRPT_REPORT_INFO_H

#include <stddef.h>
#include <stdint.h>

#define TRPT_REPORT_INFO_MAX (256u * 1024 * 1024)

typedef struct trpt_report_info {
    char *report_id;
    char *policy_domain; /* of the first policy */
    size_t n_policies;
    uint64_t successes; /* summed over the policies */
    uint64_t failures;
} trpt_report_info;

int trpt_report_info_read(const void *gz, size_t len, trpt_report_info *out);
void trpt_report_info_clear(trpt_report_info *info);
int trpt_report_split(const void *gz, size_t len, const char *name,
                      const char *outbox_dir, size_t *n_parts);

#endif
