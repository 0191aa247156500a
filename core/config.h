/*
 * config.h - the configuration file (docs/tlsrpt.conf.5).
 *
 * Format: "name = value" lines, '#' starts a comment, blank lines ignored,
 * names are case-sensitive, unknown names are an error (typos must not be
 * silently ignored). List-valued names may repeat.
 *
 * trpt_config_defaults()  a config with every default filled in
 * trpt_config_load()      read a file over the defaults; on error returns
 *                         -EINVAL and writes "FILE:LINE: message" into err
 * trpt_config_hint()      the policy hint for a recipient domain, or NULL
 * trpt_config_excluded_domain() 1 if reports for this domain are excluded
 * trpt_config_free()      NULL ok
 */
#ifndef TRPT_CONFIG_H
#define TRPT_CONFIG_H

#include <stddef.h>

#include "parser.h"
#include "record.h"
#include "spool.h"

/* A per-domain policy hint: what the logs cannot say about a domain's
 * policy. For sts, policy strings are built from mode/mx/max_age. For tlsa,
 * the policy domain of a record becomes its receiving MX host (RFC 8460
 * §3: the TLSA base domain). */
typedef struct trpt_policy_hint {
    char *domain;
    trpt_policy_type type;
    trpt_strv policy_strings;
    trpt_strv mx_hosts;
} trpt_policy_hint;

typedef struct trpt_config {
    char *organization_name; /* organization_name */
    char *contact_info;      /* contact_info */
    char *submitter_domain;  /* submitter_domain */
    char *spool_directory;   /* spool_directory */
    char *state_directory;   /* state_directory */
    char *outbox_directory;  /* outbox_directory */
    trpt_policy_hint *hints; /* policy_hint (repeatable) */
    size_t n_hints;
    trpt_strv exclude_senders;       /* exclude_sender (repeatable) */
    trpt_strv exclude_domains;       /* exclude_domain (repeatable) */
    unsigned report_delay;           /* report_delay: seconds after the UTC day
                                        ends before it is reported (grace) */
    trpt_fsync_policy spool_fsync;   /* spool_fsync: always | never */
    unsigned max_sessions;           /* max_sessions */
    unsigned session_timeout;        /* session_timeout (seconds) */
    trpt_tlsrpt_mode postfix_tlsrpt; /* auto|yes|no|datagrams */
} trpt_config;

int trpt_config_defaults(trpt_config **out);
int trpt_config_load(trpt_config **out, const char *path, char *err,
                     size_t errlen);
const trpt_policy_hint *trpt_config_hint(const trpt_config *c,
                                         const char *domain);
int trpt_config_excluded_domain(const trpt_config *c, const char *domain);
void trpt_config_free(trpt_config *c);

#endif
