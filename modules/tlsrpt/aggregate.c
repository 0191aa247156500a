/* aggregate.c - `tlsrpt aggregate`: fold new spool records into the state
 * and write the reports of every day whose grace period is over (design.md,
 * "Days and lateness"). With --follow it repeats until SIGTERM or SIGINT,
 * always finishing the pass in progress and saving the state first. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "state.h"
#include "timeutil.h"
#include "tlsrpt.h"

#define CHECKPOINT_RECORDS 100000 /* bounds the work a crash repeats */
#define MAX_CHECKPOINT     100000000
#define DEFAULT_INTERVAL   300
#define MAX_INTERVAL       86400

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* No SA_RESTART: the sleep between passes must end at once. */
static void install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

static void sleep_interruptible(unsigned seconds)
{
    struct timespec ts = {.tv_sec = 1};

    for (unsigned i = 0; i < seconds && !stop_requested; i++)
        nanosleep(&ts, NULL);
}

/* One pass: fold, report what is due, save. 0 or a negative errno, with a
 * message saying which step failed. */
static int run_pass(trpt_state *s, const tlsrpt_ctx *ctx, int64_t now_us,
                    uint64_t checkpoint_every)
{
    int r;

    if ((r = trpt_state_pass(s, checkpoint_every)) < 0) {
        tlsrpt_err("reading spool %s into state %s: %s",
                   ctx->cfg->spool_directory, ctx->cfg->state_directory,
                   strerror(-r));
        return r;
    }
    if ((r = trpt_state_report_due(s, now_us)) < 0) {
        tlsrpt_err("writing reports to %s: %s", ctx->cfg->outbox_directory,
                   strerror(-r));
        return r;
    }
    if ((r = trpt_state_save(s)) < 0) {
        tlsrpt_err("saving state in %s: %s", ctx->cfg->state_directory,
                   strerror(-r));
        return r;
    }
    return 0;
}

/* The aggregator's counters persist in the state; before is their value
 * when this run began, so the summary tells what this run did. */
static void print_summary(trpt_state *s, const tlsrpt_ctx *ctx,
                          const trpt_agg_stats *before)
{
    const trpt_state_stats *st = trpt_state_stats_get(s);
    const trpt_agg_stats *as = trpt_agg_stats_get(trpt_state_agg(s));
    uint64_t dup = as->duplicates - before->duplicates;
    uint64_t excl = as->excluded - before->excluded;
    uint64_t inval = as->invalid - before->invalid;

    fprintf(stderr,
            "tlsrpt aggregate: %" PRIu64 " spool records read, %" PRIu64
            " report(s) written to %s, %" PRIu64 " late record(s), %" PRIu64
            " spool segment(s) removed\n",
            st->frames, st->reports_written, ctx->cfg->outbox_directory,
            st->late_records, st->segments_removed);
    if (dup || excl || inval)
        fprintf(stderr,
                "  skipped: %" PRIu64 " duplicate(s) (event id seen before), "
                "%" PRIu64 " excluded (exclude_domain), %" PRIu64 " invalid\n",
                dup, excl, inval);
    if (st->torn_bytes || st->corrupt_bytes)
        fprintf(stderr,
                "  spool damage skipped: %" PRIu64 " torn bytes, %" PRIu64
                " corrupt bytes\n",
                st->torn_bytes, st->corrupt_bytes);
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: tlsrpt aggregate [--follow] [--interval SECONDS] "
            "[--now TIME]\n"
            "Fold the spool into the state and write the reports of days "
            "that are due.\n"
            "  -f, --follow        repeat every interval until SIGTERM/"
            "SIGINT\n"
            "  -i, --interval SEC  seconds between passes (default %d)\n"
            "  -n, --now TIME      pretend it is TIME (RFC 3339), for "
            "tests\n"
            "  -k, --checkpoint-every N  save the state every N records "
            "(default %d)\n",
            DEFAULT_INTERVAL, CHECKPOINT_RECORDS);
}

/* Decimal in [min, max], nothing else. */
static int parse_count(const char *s, unsigned long min, unsigned long max,
                       unsigned long *out)
{
    char *end;

    errno = 0;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    *out = strtoul(s, &end, 10);
    if (errno || *end || *out < min || *out > max)
        return -EINVAL;
    return 0;
}

typedef struct aggregate_opts {
    int follow;
    unsigned interval;
    int64_t now_us; /* 0 = the clock */
    uint64_t checkpoint_every;
} aggregate_opts;

static int parse_args(int argc, char **argv, aggregate_opts *o)
{
    static const struct option opts[] = {
        {"follow", no_argument, NULL, 'f'},
        {"interval", required_argument, NULL, 'i'},
        {"now", required_argument, NULL, 'n'},
        {"checkpoint-every", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    unsigned long v;
    int c;

    while ((c = getopt_long(argc, argv, "fi:n:k:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            o->follow = 1;
            break;
        case 'i':
            if (parse_count(optarg, 1, MAX_INTERVAL, &v) < 0)
                return tlsrpt_usage_error("aggregate",
                                          "interval must be 1..%d seconds",
                                          MAX_INTERVAL);
            o->interval = (unsigned)v;
            break;
        case 'k':
            if (parse_count(optarg, 1, MAX_CHECKPOINT, &v) < 0)
                return tlsrpt_usage_error("aggregate",
                                          "--checkpoint-every must be 1..%d",
                                          MAX_CHECKPOINT);
            o->checkpoint_every = v;
            break;
        case 'n':
            if (tlsrpt_parse_time_arg("aggregate", optarg, &o->now_us) < 0)
                return TLSRPT_EXIT_USAGE;
            break;
        case 'h':
            usage(stdout);
            return TLSRPT_EXIT_OK;
        default:
            return tlsrpt_usage_error("aggregate", "bad option");
        }
    }
    if (optind < argc)
        return tlsrpt_usage_error("aggregate", "unexpected argument: %s",
                                  argv[optind]);
    if (o->follow && o->now_us)
        return tlsrpt_usage_error("aggregate",
                                  "--now is for single passes, not --follow");
    return -1;
}

int cmd_aggregate(tlsrpt_ctx *ctx, int argc, char **argv)
{
    aggregate_opts o = {.interval = DEFAULT_INTERVAL,
                        .checkpoint_every = CHECKPOINT_RECORDS};
    trpt_state *s = NULL;
    trpt_agg_stats before;
    int rc, r;

    if ((rc = parse_args(argc, argv, &o)) >= 0)
        return rc;
    if ((rc = tlsrpt_require_submitter(ctx)) != 0 ||
        (rc = tlsrpt_ensure_dirs(ctx)) != 0 ||
        (rc = tlsrpt_open_state(ctx, &s)) != 0)
        return rc;
    before = *trpt_agg_stats_get(trpt_state_agg(s));
    install_signals();
    for (;;) {
        r = run_pass(s, ctx, o.now_us ? o.now_us : trpt_now_us(),
                     o.checkpoint_every);
        if (!o.follow || stop_requested)
            break;
        /* A failing pass (full disk) is retried: a daemon keeps going. */
        tlsrpt_info(ctx, "pass done, next in %u s", o.interval);
        sleep_interruptible(o.interval);
        if (stop_requested)
            break;
    }
    print_summary(s, ctx, &before);
    trpt_state_free(s);
    return r < 0 ? TLSRPT_EXIT_SYSTEM : TLSRPT_EXIT_OK;
}
