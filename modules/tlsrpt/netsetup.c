/* netsetup.c - DNS, HTTPS and the policy resolver as the configuration
 * says (tlsrpt.conf(5) DELIVERY), for the subcommands that go out to the
 * network (lookup, send). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tlsrpt.h"

int tlsrpt_net_open(const tlsrpt_ctx *ctx, tlsrpt_net *net)
{
    const trpt_delivery_config *d = &ctx->cfg->delivery;
    trpt_dns_config dc = {
        .server = d->dns_server,
        .trust_anchor_file = d->dns_trust_anchor_file,
        .no_dnssec = !d->dnssec,
        .unblock_zone = getenv("TLSRPT_TEST_UNBLOCK_ZONE"),
    };
    trpt_resolver_config rc = {0};
    char err[256];
    int r;

    memset(net, 0, sizeof *net);
    if ((r = trpt_dns_new(&net->dns, &dc, err, sizeof err)) < 0) {
        tlsrpt_err("DNS resolver: %s", err[0] ? err : strerror(-r));
        return TLSRPT_EXIT_SYSTEM;
    }
    net->allow = calloc(d->allow_addresses.n + 1, sizeof *net->allow);
    if (!net->allow) {
        tlsrpt_net_close(net);
        tlsrpt_err("out of memory");
        return TLSRPT_EXIT_SYSTEM;
    }
    for (size_t i = 0; i < d->allow_addresses.n; i++)
        net->allow[i] = d->allow_addresses.v[i];
    /* Test set-ups reach names on a loopback server (libcurl CONNECT_TO). */
    net->connect_to[0] = getenv("TLSRPT_TEST_CONNECT_TO");
    net->http = (trpt_http_config){
        .ca_file = d->https_ca_file,
        .total_timeout_ms = d->http_timeout * 1000,
        .allow_addresses = net->allow,
        .connect_to = net->connect_to[0] ? net->connect_to : NULL,
    };
    rc.dns = net->dns;
    rc.http = &net->http;
    rc.no_dane = rc.no_sts = !d->resolve_policies;
    if ((r = trpt_resolver_new(&net->resolver, &rc)) < 0) {
        tlsrpt_net_close(net);
        tlsrpt_err("resolver: %s", strerror(-r));
        return TLSRPT_EXIT_SYSTEM;
    }
    return 0;
}

void tlsrpt_net_close(tlsrpt_net *net)
{
    trpt_resolver_free(net->resolver);
    trpt_dns_free(net->dns);
    free(net->allow);
    memset(net, 0, sizeof *net);
}
