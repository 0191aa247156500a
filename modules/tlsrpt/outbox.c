/* outbox.c - `tlsrpt outbox`: the delivery state of every report in the
 * outbox (outbox.h), one line per destination. docs/tlsrpt.1. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "outbox.h"
#include "timeutil.h"
#include "tlsrpt.h"

static void usage(FILE *f)
{
    fprintf(f, "Usage: tlsrpt outbox [--pending]\n"
               "List each report of the outbox with its destinations and\n"
               "their delivery state (pending, sent, given-up), attempts,\n"
               "next try or completion time, and last error.\n"
               "  -p, --pending  only reports with a delivery still open\n");
}

static void print_entry(const trpt_outbox_entry *e)
{
    char when[40];

    if (!e->resolved) {
        trpt_format_rfc3339(e->first_us, when);
        printf("%s\n  not tried yet; first try at %s\n", e->report, when);
        return;
    }
    printf("%s\n", e->report);
    if (!e->n_dest)
        printf("  no destination: %s\n", e->no_dest_why);
    for (size_t i = 0; i < e->n_dest; i++) {
        const trpt_outbox_dest *d = &e->dest[i];

        trpt_format_rfc3339(
            d->state == TRPT_DEST_PENDING ? d->next_us : d->done_us, when);
        printf("  %-8s %s attempts=%u %s=%s%s%s\n",
               trpt_dest_state_name(d->state), d->uri, d->attempts,
               d->state == TRPT_DEST_PENDING ? "next" : "at", when,
               d->last_error ? " error=" : "",
               d->last_error ? d->last_error : "");
    }
}

int cmd_outbox(tlsrpt_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"pending", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = ctx->cfg->outbox_directory;
    char **names = NULL;
    int c, r, pending_only = 0, bad = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "ph", opts, NULL)) != -1) {
        if (c == 'p') {
            pending_only = 1;
        } else if (c == 'h') {
            usage(stdout);
            return TLSRPT_EXIT_OK;
        } else {
            return tlsrpt_usage_error("outbox", "unknown option");
        }
    }
    if (optind != argc)
        return tlsrpt_usage_error("outbox", "no arguments expected");
    if ((r = trpt_outbox_reports(dir, &names)) < 0) {
        tlsrpt_err("outbox %s: %s", dir, strerror(-r));
        return TLSRPT_EXIT_SYSTEM;
    }
    for (size_t i = 0; names[i]; i++) {
        trpt_outbox_entry *e = NULL;

        if ((r = trpt_outbox_load(dir, names[i], NULL, &e)) < 0) {
            printf("%s\n  delivery state unreadable: %s\n", names[i],
                   strerror(-r));
            bad = 1;
            continue;
        }
        if (!pending_only || !trpt_outbox_finished(e))
            print_entry(e);
        trpt_outbox_entry_free(e);
    }
    trpt_outbox_reports_free(names);
    return bad ? TLSRPT_EXIT_INPUT : TLSRPT_EXIT_OK;
}
