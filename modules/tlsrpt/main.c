/* main.c - `tlsrpt`: global options, configuration, subcommand dispatch.
 * See tlsrpt.h and docs/tlsrpt.1. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "timeutil.h"
#include "tlsrpt.h"

#define DEFAULT_CONFIG "/etc/opentlsrpt/tlsrpt.conf"

void tlsrpt_err(const char *fmt, ...)
{
    va_list ap;

    fputs("tlsrpt: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void tlsrpt_info(const tlsrpt_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    if (!ctx->verbose)
        return;
    fputs("tlsrpt: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int tlsrpt_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "tlsrpt %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'tlsrpt %s --help'.\n", cmd);
    return TLSRPT_EXIT_USAGE;
}

int tlsrpt_valid_host(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 253)
        return 0;
    for (; *s; s++)
        if (*s <= ' ' || *s == '@' || *s == 0x7f)
            return 0;
    return 1;
}

int tlsrpt_require_submitter(const tlsrpt_ctx *ctx)
{
    if (ctx->cfg->submitter_domain)
        return 0;
    tlsrpt_err("submitter_domain is not set in %s; reports name their "
               "submitter (RFC 8460 section 4.4), set it first "
               "(see tlsrpt.conf(5))",
               ctx->config_path);
    return TLSRPT_EXIT_SYSTEM;
}

/* mkdir -p: each missing component is created with mode 0750. */
static int make_path(const char *path)
{
    char *copy = strdup(path);
    int r = 0;

    if (!copy)
        return -ENOMEM;
    for (char *p = copy + 1; r == 0; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;

        *p = '\0';
        if (mkdir(copy, 0750) < 0 && errno != EEXIST)
            r = -errno;
        *p = saved;
        if (saved == '\0')
            break;
    }
    free(copy);
    return r;
}

int tlsrpt_ensure_dir(const char *path, const char *what)
{
    int r = make_path(path);

    if (r == 0)
        return 0;
    tlsrpt_err("cannot create %s directory %s: %s", what, path, strerror(-r));
    return TLSRPT_EXIT_SYSTEM;
}

int tlsrpt_ensure_dirs(const tlsrpt_ctx *ctx)
{
    int rc;

    if ((rc = tlsrpt_ensure_dir(ctx->cfg->spool_directory, "spool")) != 0 ||
        (rc = tlsrpt_ensure_dir(ctx->cfg->state_directory, "state")) != 0 ||
        (rc = tlsrpt_ensure_dir(ctx->cfg->outbox_directory, "outbox")) != 0)
        return rc;
    return 0;
}

int tlsrpt_parse_day_arg(const char *cmd, const char *arg, int64_t *day)
{
    if (trpt_parse_day(arg, day) < 0) {
        tlsrpt_usage_error(cmd, "not a date (YYYY-MM-DD): %s", arg);
        return -EINVAL;
    }
    return 0;
}

int tlsrpt_parse_time_arg(const char *cmd, const char *arg, int64_t *us)
{
    if (trpt_parse_rfc3339(arg, strlen(arg), us) < 0) {
        tlsrpt_usage_error(cmd, "not an RFC 3339 time: %s", arg);
        return -EINVAL;
    }
    return 0;
}

/* The aggregator asks DNS for the policy of records without one. */
static int resolve_for_agg(void *ctx, const char *domain, const char *mx,
                           int64_t day, trpt_agg_resolved *out)
{
    tlsrpt_net *net = ctx;
    const trpt_resolved_policy *p;
    int r = trpt_resolver_policy(net->resolver, domain, mx, day, &p);

    if (r < 0)
        return r;
    out->type = p->type;
    out->policy_domain = p->policy_domain;
    out->strings = (const char *const *)p->policy_strings.v;
    out->n_strings = p->policy_strings.n;
    out->mx = (const char *const *)p->mx_hosts.v;
    out->n_mx = p->mx_hosts.n;
    return 0;
}

static int attach_resolver(tlsrpt_ctx *ctx, trpt_state *s)
{
    int rc;

    if (!ctx->cfg->delivery.resolve_policies)
        return 0;
    if (!(ctx->policy_net = calloc(1, sizeof *ctx->policy_net))) {
        tlsrpt_err("out of memory");
        return TLSRPT_EXIT_SYSTEM;
    }
    if ((rc = tlsrpt_net_open(ctx, ctx->policy_net)) != 0) {
        free(ctx->policy_net);
        ctx->policy_net = NULL;
        return rc;
    }
    trpt_agg_set_resolver(trpt_state_agg(s), resolve_for_agg, ctx->policy_net);
    return 0;
}

int tlsrpt_open_state(tlsrpt_ctx *ctx, trpt_state **out)
{
    int r = trpt_state_open(out, ctx->cfg);

    if (r == -EWOULDBLOCK || r == -EAGAIN) {
        tlsrpt_err("state %s is in use by another aggregator",
                   ctx->cfg->state_directory);
        return TLSRPT_EXIT_SYSTEM;
    }
    if (r < 0) {
        tlsrpt_err("cannot open state in %s (spool %s): %s",
                   ctx->cfg->state_directory, ctx->cfg->spool_directory,
                   strerror(-r));
        return TLSRPT_EXIT_SYSTEM;
    }
    if ((r = attach_resolver(ctx, *out)) != 0) {
        trpt_state_free(*out);
        *out = NULL;
    }
    return r;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: tlsrpt [OPTIONS] COMMAND [ARGS]\n"
            "SMTP TLS Reporting (RFC 8460) from Postfix and Exim logs.\n"
            "\n"
            "Commands:\n"
            "  ingest FILE...|-   parse mail logs (plain or .gz) into the "
            "spool\n"
            "  aggregate          fold the spool, write reports for due days\n"
            "  report --day DAY   write (or --stdout preview) one day's "
            "reports\n"
            "  show               pending counts per policy domain and day\n"
            "  collect            receive Postfix's libtlsrpt datagrams into "
            "the spool\n"
            "  journal            read MTA entries from the systemd journal "
            "into the spool\n"
            "  lookup DOMAIN      show a domain's TLSRPT record and policy\n"
            "  send               deliver due reports to their destinations\n"
            "  outbox             delivery state of each report\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE  configuration (default %s)\n"
            "      --spool DIR    override spool_directory\n"
            "      --state DIR    override state_directory\n"
            "      --outbox DIR   override outbox_directory\n"
            "  -v, --verbose      more messages on stderr\n"
            "  -h, --help         this help; COMMAND --help for a command\n"
            "  -V, --version      print the version\n"
            "\n"
            "Exit status: 0 ok, 1 bad input (good data kept), 2 usage,\n"
            "3 configuration, spool, state or outbox failure. See tlsrpt(1).\n",
            DEFAULT_CONFIG);
}

/* A missing default file means "all defaults"; an explicit -c must exist. */
static int load_config(tlsrpt_ctx *ctx, int explicit_path)
{
    char err[1024];
    int r = trpt_config_load(&ctx->cfg, ctx->config_path, err, sizeof err);

    if (r == -ENOENT && !explicit_path) {
        tlsrpt_info(ctx, "%s not found, using defaults", ctx->config_path);
        r = trpt_config_defaults(&ctx->cfg);
        if (r == 0)
            return 0;
        snprintf(err, sizeof err, "%s", strerror(-r));
    }
    if (r < 0) {
        tlsrpt_err("%s", err[0] ? err : strerror(-r));
        return TLSRPT_EXIT_SYSTEM;
    }
    return 0;
}

static int override_dir(char **field, const char *value)
{
    char *copy;

    if (!value)
        return 0;
    if (!*value)
        return -EINVAL;
    if (!(copy = strdup(value)))
        return -ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

typedef struct global_opts {
    const char *spool, *state, *outbox;
    int explicit_config;
} global_opts;

enum { OPT_SPOOL = 256, OPT_STATE, OPT_OUTBOX };

/* Parses options before the command name; returns -1 to continue, else an
 * exit code. */
static int parse_global(tlsrpt_ctx *ctx, global_opts *g, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"spool", required_argument, NULL, OPT_SPOOL},
        {"state", required_argument, NULL, OPT_STATE},
        {"outbox", required_argument, NULL, OPT_OUTBOX},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;

    /* '+': stop at the command name; its options are its own. */
    while ((c = getopt_long(argc, argv, "+c:vhV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            ctx->config_path = optarg;
            g->explicit_config = 1;
            break;
        case OPT_SPOOL:
            g->spool = optarg;
            break;
        case OPT_STATE:
            g->state = optarg;
            break;
        case OPT_OUTBOX:
            g->outbox = optarg;
            break;
        case 'v':
            ctx->verbose++;
            break;
        case 'h':
            usage(stdout);
            return TLSRPT_EXIT_OK;
        case 'V':
            printf("tlsrpt (opentlsrpt) %s\n", TLSRPT_VERSION);
            return TLSRPT_EXIT_OK;
        default:
            fprintf(stderr, "Try 'tlsrpt --help'.\n");
            return TLSRPT_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return TLSRPT_EXIT_USAGE;
    }
    return -1;
}

static const struct command {
    const char *name;
    int (*run)(tlsrpt_ctx *ctx, int argc, char **argv);
} commands[] = {
    {"ingest", cmd_ingest},   {"aggregate", cmd_aggregate},
    {"report", cmd_report},   {"show", cmd_show},
    {"collect", cmd_collect}, {"journal", cmd_journal},
    {"lookup", cmd_lookup},   {"send", cmd_send},
    {"outbox", cmd_outbox},
};

int main(int argc, char **argv)
{
    tlsrpt_ctx ctx = {.config_path = DEFAULT_CONFIG};
    global_opts g = {0};
    const struct command *cmd = NULL;
    int rc;

    if ((rc = parse_global(&ctx, &g, argc, argv)) >= 0)
        return rc;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[optind], commands[i].name) == 0)
            cmd = &commands[i];
    if (!cmd) {
        tlsrpt_err("unknown command: %s (try 'tlsrpt --help')", argv[optind]);
        return TLSRPT_EXIT_USAGE;
    }
    if ((rc = load_config(&ctx, g.explicit_config)) != 0)
        return rc;
    if (override_dir(&ctx.cfg->spool_directory, g.spool) < 0 ||
        override_dir(&ctx.cfg->state_directory, g.state) < 0 ||
        override_dir(&ctx.cfg->outbox_directory, g.outbox) < 0) {
        trpt_config_free(ctx.cfg);
        tlsrpt_err("--spool, --state and --outbox need a directory");
        return TLSRPT_EXIT_USAGE;
    }
    argv += optind;
    argc -= optind;
    optind = 0; /* glibc: fully re-initialise getopt for the command */
    rc = cmd->run(&ctx, argc, argv);
    if (ctx.policy_net) {
        tlsrpt_net_close(ctx.policy_net);
        free(ctx.policy_net);
    }
    trpt_config_free(ctx.cfg);
    return rc;
}
