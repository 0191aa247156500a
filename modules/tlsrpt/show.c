/* show.c - `tlsrpt show [--day DAY]`: what is pending in the state, one row
 * per day, policy domain and policy, with failures by RFC 8460 result type.
 * New spool records are folded in first (like aggregate, without reports).
 * Days already reported are no longer in the state and are not shown. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "result.h"
#include "state.h"
#include "timeutil.h"
#include "tlsrpt.h"

typedef struct show_totals {
    uint64_t rows, success, failure;
} show_totals;

static void print_header(void)
{
    printf("%-10s  %-30s  %-15s  %8s  %8s  %8s  %s\n", "DAY", "POLICY DOMAIN",
           "POLICY TYPE", "SESSIONS", "SUCCESS", "FAILURE", "FAILURES BY TYPE");
}

/* "certificate-expired 7, validation-failure 2" from the detail rows. */
static void print_failure_types(const trpt_agg_policy *p)
{
    uint64_t by_result[TRPT_RESULT_COUNT] = {0};
    int first = 1;

    for (size_t i = 0; i < p->n_details; i++)
        if ((unsigned)p->details[i].result < TRPT_RESULT_COUNT)
            by_result[p->details[i].result] += p->details[i].count;
    for (int r = 0; r < TRPT_RESULT_COUNT; r++) {
        if (r == TRPT_RESULT_SUCCESS || !by_result[r])
            continue;
        printf("%s%s %" PRIu64, first ? "" : ", ",
               trpt_result_name((trpt_result)r), by_result[r]);
        first = 0;
    }
    if (first)
        fputc('-', stdout);
}

static int print_group(void *ctx, const trpt_agg_group *g)
{
    show_totals *t = ctx;
    char day[16];

    trpt_format_day(g->day, day);
    for (size_t i = 0; i < g->n_policies; i++) {
        const trpt_agg_policy *p = &g->policies[i];

        printf("%-10s  %-30s  %-15s  %8" PRIu64 "  %8" PRIu64 "  %8" PRIu64
               "  ",
               day, g->policy_domain, trpt_policy_type_name(p->type),
               p->success + p->failure, p->success, p->failure);
        print_failure_types(p);
        fputc('\n', stdout);
        t->rows++;
        t->success += p->success;
        t->failure += p->failure;
    }
    return 0;
}

static int show_days(trpt_agg *agg, int have_day, int64_t only_day,
                     show_totals *t)
{
    int64_t *days = NULL;
    size_t n = 0;
    int r;

    if ((r = trpt_agg_days(agg, &days, &n)) < 0)
        return r;
    for (size_t i = 0; i < n && r >= 0; i++)
        if (!have_day || days[i] == only_day)
            r = trpt_agg_foreach_group(agg, days[i], print_group, t);
    free(days);
    return r;
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: tlsrpt show [--day YYYY-MM-DD]\n"
               "Show pending (not yet reported) counts per day and policy "
               "domain.\n"
               "  -d, --day DAY   only this UTC day\n");
}

int cmd_show(tlsrpt_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"day", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    show_totals t = {0};
    trpt_state *s = NULL;
    int64_t day = 0;
    uint64_t dup;
    int have_day = 0, c, rc, r;

    while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return TLSRPT_EXIT_OK;
        }
        if (c != 'd')
            return tlsrpt_usage_error("show", "bad option");
        if (tlsrpt_parse_day_arg("show", optarg, &day) < 0)
            return TLSRPT_EXIT_USAGE;
        have_day = 1;
    }
    if (optind < argc)
        return tlsrpt_usage_error("show", "unexpected argument: %s",
                                  argv[optind]);
    if ((rc = tlsrpt_ensure_dirs(ctx)) != 0 ||
        (rc = tlsrpt_open_state(ctx, &s)) != 0)
        return rc;
    dup = trpt_agg_stats_get(trpt_state_agg(s))->duplicates;
    if ((r = trpt_state_pass(s, 100000)) < 0) {
        tlsrpt_err("reading spool %s: %s", ctx->cfg->spool_directory,
                   strerror(-r));
        trpt_state_free(s);
        return TLSRPT_EXIT_SYSTEM;
    }
    print_header();
    r = show_days(trpt_state_agg(s), have_day, day, &t);
    if (r >= 0 && t.rows == 0)
        printf("(nothing pending; days already reported are not kept)\n");
    else if (r >= 0)
        printf("%-10s  %-30s  %-15s  %8" PRIu64 "  %8" PRIu64 "  %8" PRIu64
               "\n",
               "total", "", "", t.success + t.failure, t.success, t.failure);
    dup = trpt_agg_stats_get(trpt_state_agg(s))->duplicates - dup;
    if (r >= 0 && dup) {
        fflush(stdout);
        fprintf(stderr,
                "tlsrpt show: %" PRIu64 " new duplicate record(s) skipped "
                "(event id seen before)\n",
                dup);
    }
    trpt_state_free(s);
    if (r < 0) {
        tlsrpt_err("show: %s", strerror(-r));
        return TLSRPT_EXIT_SYSTEM;
    }
    return fflush(stdout) == 0 ? TLSRPT_EXIT_OK : TLSRPT_EXIT_SYSTEM;
}
