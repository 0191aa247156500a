/*
 * tlsrpt.h - the `tlsrpt` command line program (docs/tlsrpt.1).
 *
 * main.c parses the global options, loads the configuration and calls one
 * subcommand; each subcommand lives in its own file:
 *   cmd_ingest()     ingest.c     log files -> spool
 *   cmd_aggregate()  aggregate.c  spool -> state -> reports for due days
 *   cmd_report()     report.c     one day's reports, or a preview
 *   cmd_show()       show.c       pending counts as a table
 *   cmd_collect()    collect.c    libtlsrpt datagrams -> spool
 *   cmd_journal()    journal.c    systemd journal -> spool
 *   cmd_lookup()     lookup.c     TLSRPT record and policy of a domain
 *   cmd_send()       send.c       outbox -> rua destinations
 *   cmd_outbox()     outbox.c     delivery state of the outbox
 * A subcommand gets argv starting at its own name and returns an exit code
 * (TLSRPT_EXIT_*). Messages go to stderr prefixed with "tlsrpt: ".
 */
#ifndef TLSRPT_CLI_H
#define TLSRPT_CLI_H

#include <stdint.h>

#include "config.h"
#include "dns.h"
#include "http.h"
#include "resolver.h"
#include "state.h"

#define TLSRPT_VERSION "0.1.0"

/* Exit codes, documented in tlsrpt.1 EXIT STATUS. */
enum {
    TLSRPT_EXIT_OK = 0,
    TLSRPT_EXIT_INPUT = 1,  /* some input was bad; the good data was kept */
    TLSRPT_EXIT_USAGE = 2,  /* bad command line */
    TLSRPT_EXIT_SYSTEM = 3, /* configuration, spool, state or outbox failure */
};

struct tlsrpt_net;

typedef struct tlsrpt_ctx {
    trpt_config *cfg;
    const char *config_path;
    int verbose;
    struct tlsrpt_net *policy_net; /* the aggregator's policy resolver */
} tlsrpt_ctx;

int cmd_ingest(tlsrpt_ctx *ctx, int argc, char **argv);
int cmd_aggregate(tlsrpt_ctx *ctx, int argc, char **argv);
int cmd_report(tlsrpt_ctx *ctx, int argc, char **argv);
int cmd_show(tlsrpt_ctx *ctx, int argc, char **argv);
int cmd_collect(tlsrpt_ctx *ctx, int argc, char **argv);
int cmd_journal(tlsrpt_ctx *ctx, int argc, char **argv);
int cmd_lookup(tlsrpt_ctx *ctx, int argc, char **argv);
int cmd_send(tlsrpt_ctx *ctx, int argc, char **argv);
int cmd_outbox(tlsrpt_ctx *ctx, int argc, char **argv);

/* DNS, HTTPS and the resolver as configured (netsetup.c). */
typedef struct tlsrpt_net {
    trpt_dns *dns;
    trpt_resolver *resolver;
    trpt_http_config http;
    const char **allow;        /* allow_address list, NULL-terminated */
    const char *connect_to[2]; /* TLSRPT_TEST_CONNECT_TO, tests only */
} tlsrpt_net;

/* 0, or TLSRPT_EXIT_SYSTEM after a message. */
int tlsrpt_net_open(const tlsrpt_ctx *ctx, tlsrpt_net *net);
void tlsrpt_net_close(tlsrpt_net *net);

/* Shared helpers (main.c). */
void tlsrpt_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tlsrpt_info(const tlsrpt_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Exit code for a usage error in a subcommand, after printing the hint. */
int tlsrpt_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Reports need submitter_domain; 0 if set, else prints why and returns
 * TLSRPT_EXIT_SYSTEM. */
int tlsrpt_require_submitter(const tlsrpt_ctx *ctx);
/* 1 if s can be a --host value: 1..253 printable bytes, no space, no '@'
 * (records refuse addresses). */
int tlsrpt_valid_host(const char *s);
/* Parses "YYYY-MM-DD" into an epoch day, with a message on failure. */
int tlsrpt_parse_day_arg(const char *cmd, const char *arg, int64_t *day);
/* Creates a directory and its parents (mode 0750) if missing; 0 or
 * TLSRPT_EXIT_SYSTEM after a message naming what it is for. */
int tlsrpt_ensure_dir(const char *path, const char *what);
/* Creates the spool, state and outbox directories if missing. */
int tlsrpt_ensure_dirs(const tlsrpt_ctx *ctx);
/* Parses an RFC 3339 time (--now) into epoch microseconds. */
int tlsrpt_parse_time_arg(const char *cmd, const char *arg, int64_t *us);
/* Opens the state with a clear message on failure (locked, unreadable);
 * 0 or TLSRPT_EXIT_SYSTEM. */
int tlsrpt_open_state(tlsrpt_ctx *ctx, trpt_state **out);

#endif
