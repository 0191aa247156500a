/* lookup.c - `tlsrpt lookup DOMAIN [--mx HOST]`: what delivery and policy
 * resolution see for a domain: its TLSRPT record and destinations, and the
 * policy (DANE, MTA-STS or none) with the reason. docs/tlsrpt.1. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tlsrpt.h"

static void usage(FILE *f)
{
    fprintf(f, "Usage: tlsrpt lookup [--mx HOST] DOMAIN\n"
               "Show the TLSRPT record (rua destinations) of DOMAIN and the\n"
               "policy a sender applies to it: DNSSEC-validated TLSA of the\n"
               "MX HOST (tlsa), MTA-STS (sts), or no-policy-found.\n");
}

static void print_rua(const trpt_rua_lookup *l, const char *domain)
{
    printf("tlsrpt-record: ");
    if (l->rc < 0) {
        printf("none usable (%s)\n", l->why);
        return;
    }
    printf("%s\n", l->txt->record);
    for (size_t i = 0; i < l->txt->n_rua; i++)
        printf("rua: %s\n", l->txt->rua[i].uri);
    if (l->txt->n_unsupported || l->txt->n_invalid)
        printf("skipped: %zu unsupported, %zu invalid URI(s) for %s\n",
               l->txt->n_unsupported, l->txt->n_invalid, domain);
}

static void print_policy(const trpt_resolved_policy *p)
{
    printf("policy-type: %s\npolicy-domain: %s\n",
           trpt_policy_type_name(p->type), p->policy_domain);
    for (size_t i = 0; i < p->policy_strings.n; i++)
        printf("policy-string: %s\n", p->policy_strings.v[i]);
    for (size_t i = 0; i < p->mx_hosts.n; i++)
        printf("mx-host: %s\n", p->mx_hosts.v[i]);
    printf("why: %s%s\n", p->why, p->temporary ? " (temporary failure)" : "");
}

int cmd_lookup(tlsrpt_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"mx", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const trpt_rua_lookup *l;
    const trpt_resolved_policy *p;
    const char *mx = NULL, *domain;
    tlsrpt_net net;
    struct timespec now;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        if (c == 'm') {
            mx = optarg;
        } else if (c == 'h') {
            usage(stdout);
            return TLSRPT_EXIT_OK;
        } else {
            return tlsrpt_usage_error("lookup", "unknown option");
        }
    }
    if (optind != argc - 1)
        return tlsrpt_usage_error("lookup", "one DOMAIN expected");
    domain = argv[optind];
    if ((rc = tlsrpt_net_open(ctx, &net)) != 0)
        return rc;
    clock_gettime(CLOCK_REALTIME, &now);
    rc = trpt_resolver_rua(net.resolver, domain, (int64_t)now.tv_sec * 1000000,
                           &l);
    if (rc == -EINVAL) {
        tlsrpt_net_close(&net);
        return tlsrpt_usage_error("lookup", "not a domain name: %s", domain);
    }
    if (rc == 0)
        print_rua(l, domain);
    if (rc == 0)
        rc = trpt_resolver_policy(net.resolver, domain, mx, now.tv_sec / 86400,
                                  &p);
    if (rc == 0)
        print_policy(p);
    tlsrpt_net_close(&net);
    if (rc < 0) {
        tlsrpt_err("lookup %s: %s", domain, strerror(-rc));
        return TLSRPT_EXIT_SYSTEM;
    }
    return TLSRPT_EXIT_OK;
}
