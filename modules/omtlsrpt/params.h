/*
 * params.h - omtlsrpt's action() parameters: the table rsyslog checks
 * names and types against, and the validation of their values, so that
 * `rsyslogd -N1` reports every wrong one (docs/omtlsrpt.8).
 *
 * otr_params_blk         the parameter table (nvlstGetParams)
 * otr_params_read()      values -> otr_config; on error returns -EINVAL
 *                        and writes a message naming the parameter
 * otr_parse_*()          one value each; 0 or -EINVAL
 */
#ifndef OMTLSRPT_PARAMS_H
#define OMTLSRPT_PARAMS_H

#include <stddef.h>

#include "engine.h"
#include "rsyslog_abi.h"

#define OTR_DEFAULT_TEMPLATE      "RSYSLOG_FileFormat"
#define OTR_DEFAULT_SPOOL_DIR     "/var/spool/opentlsrpt" /* tlsrpt.conf's */
#define OTR_MAX_SESSIONS_MAX      100000000u
#define OTR_TIMEOUT_MAX           (7u * 86400u)
#define OTR_ORDER_TIMEOUT_DEFAULT 2000u /* ms */
#define OTR_ORDER_TIMEOUT_MAX     60000u

extern struct cnfparamblk otr_params_blk;

int otr_params_read(const struct cnfparamvals *vals, otr_config *out, char *err,
                    size_t errlen);

int otr_parse_format(const char *s, trpt_mta_format *out);
int otr_parse_tlsrpt_mode(const char *s, trpt_tlsrpt_mode *out);
int otr_parse_fsync(const char *s, trpt_fsync_policy *out);
int otr_parse_sink(const char *s, trpt_sink_type *out);
/* An envelope sender: "a@b" or "<a@b>"; stored without the brackets. */
int otr_parse_sender(const char *s, char **out);

#endif
