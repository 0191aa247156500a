/* report.c - `tlsrpt report --day DAY [--stdout]`: write one day's reports
 * now, without waiting for report_delay, or preview them as pretty JSON on
 * stdout (nothing written to the outbox, the day not marked reported). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "state.h"
#include "timeutil.h"
#include "tlsrpt.h"

typedef struct report_opts {
    int have_day;
    int64_t day;
    int preview;
} report_opts;

static void usage(FILE *f)
{
    fprintf(f, "Usage: tlsrpt report --day YYYY-MM-DD [--stdout]\n"
               "Write the reports of one UTC day to the outbox now.\n"
               "  -d, --day DAY   the UTC day (required)\n"
               "  -s, --stdout    print the reports as pretty JSON instead; "
               "write nothing\n");
}

static int parse_args(int argc, char **argv, report_opts *o)
{
    static const struct option opts[] = {
        {"day", required_argument, NULL, 'd'},
        {"stdout", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    while ((c = getopt_long(argc, argv, "d:sh", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (tlsrpt_parse_day_arg("report", optarg, &o->day) < 0)
                return TLSRPT_EXIT_USAGE;
            o->have_day = 1;
            break;
        case 's':
            o->preview = 1;
            break;
        case 'h':
            usage(stdout);
            return TLSRPT_EXIT_OK;
        default:
            return tlsrpt_usage_error("report", "bad option");
        }
    }
    if (optind < argc)
        return tlsrpt_usage_error("report", "unexpected argument: %s",
                                  argv[optind]);
    if (!o->have_day)
        return tlsrpt_usage_error("report", "--day YYYY-MM-DD is required");
    return -1;
}

static int write_day(trpt_state *s, const tlsrpt_ctx *ctx, const report_opts *o)
{
    char day[16];
    int r;

    trpt_format_day(o->day, day);
    if ((r = trpt_state_pass(s, 100000)) < 0) {
        tlsrpt_err("reading spool %s: %s", ctx->cfg->spool_directory,
                   strerror(-r));
        return TLSRPT_EXIT_SYSTEM;
    }
    r = trpt_state_report_day(s, o->day, o->preview ? stdout : NULL);
    if (r == -ENOENT) {
        fprintf(stderr, "tlsrpt report: no pending data for %s\n", day);
        return TLSRPT_EXIT_OK;
    }
    if (r < 0) {
        tlsrpt_err("reports for %s: %s", day, strerror(-r));
        return TLSRPT_EXIT_SYSTEM;
    }
    if (o->preview) {
        if (fflush(stdout) != 0) {
            tlsrpt_err("writing to stdout: %s", strerror(errno));
            return TLSRPT_EXIT_SYSTEM;
        }
        return TLSRPT_EXIT_OK;
    }
    if ((r = trpt_state_save(s)) < 0) {
        tlsrpt_err("saving state in %s: %s", ctx->cfg->state_directory,
                   strerror(-r));
        return TLSRPT_EXIT_SYSTEM;
    }
    fprintf(stderr,
            "tlsrpt report: %" PRIu64 " report(s) for %s written to %s\n",
            trpt_state_stats_get(s)->reports_written, day,
            ctx->cfg->outbox_directory);
    return TLSRPT_EXIT_OK;
}

int cmd_report(tlsrpt_ctx *ctx, int argc, char **argv)
{
    report_opts o = {0};
    trpt_state *s = NULL;
    int rc;

    if ((rc = parse_args(argc, argv, &o)) >= 0)
        return rc;
    if ((rc = tlsrpt_require_submitter(ctx)) != 0 ||
        (rc = tlsrpt_ensure_dirs(ctx)) != 0 ||
        (rc = tlsrpt_open_state(ctx, &s)) != 0)
        return rc;
    rc = write_day(s, ctx, &o);
    trpt_state_free(s);
    return rc;
}
