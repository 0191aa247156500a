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
 * trpt_config_suppressed() 1 if reports for this domain are not sent on
 *                         this day (suppress)
 * trpt_config_free()      NULL ok
 */
#ifndef TRPT_CONFIG_H
#define TRPT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

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

/* suppress = DOMAIN [until=YYYY-MM-DD]: no reports go to this policy
 * domain (up to and including that day). */
typedef struct trpt_suppression {
    char *domain;
    int64_t until_day; /* epoch day; INT64_MAX = for good */
} trpt_suppression;

/* Delivery (tlsrpt send, tlsrpt lookup; tlsrpt.conf(5) DELIVERY). Times
 * in seconds. */
typedef struct trpt_delivery_config {
    char *dns_server;            /* dns_server: IP or IP@PORT; NULL = system */
    char *dns_trust_anchor_file; /* dns_trust_anchor_file */
    int dnssec;                  /* dnssec: yes | no */
    int resolve_policies;        /* resolve_policies: yes | no */
    char *https_ca_file;         /* https_ca_file; NULL = system bundle */
    trpt_strv allow_addresses;   /* allow_address (repeatable) */
    unsigned http_timeout;       /* http_timeout */
    char *report_from;           /* report_from: envelope and From: */
    char *smtp_server;           /* smtp_server; NULL = sendmail */
    char *smtp_helo;             /* smtp_helo */
    char *smtp_ca_file;          /* smtp_ca_file */
    int smtp_require_tls;        /* smtp_require_tls: yes | no */
    char *smtp_username;         /* smtp_username */
    char *smtp_password_file;    /* smtp_password_file */
    char *sendmail_path;         /* sendmail_path */
    char *dkim_key_file;         /* dkim_key_file; NULL = unsigned */
    char *dkim_selector;         /* dkim_selector */
    char *dkim_domain;           /* dkim_domain; default submitter_domain */
    unsigned send_grace;         /* send_grace: after the day's end */
    unsigned send_spread;        /* send_spread: jitter window */
    unsigned retry_base;         /* retry_base: first retry delay */
    unsigned retry_max;          /* retry_max: longest retry delay */
    unsigned give_up_after;      /* give_up_after: from the first try */
    int send_success_only;       /* send_success_only_reports: yes | no */
    unsigned max_report_size;    /* max_report_size: gzip bytes */
    unsigned max_destinations;   /* max_destinations per report */
    trpt_suppression *suppress;  /* suppress (repeatable) */
    size_t n_suppress;
} trpt_delivery_config;

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
    trpt_delivery_config delivery;
} trpt_config;

int trpt_config_defaults(trpt_config **out);
int trpt_config_load(trpt_config **out, const char *path, char *err,
                     size_t errlen);
const trpt_policy_hint *trpt_config_hint(const trpt_config *c,
                                         const char *domain);
int trpt_config_excluded_domain(const trpt_config *c, const char *domain);
int trpt_config_suppressed(const trpt_config *c, const char *domain,
                           int64_t day);
void trpt_config_free(trpt_config *c);

#endif
