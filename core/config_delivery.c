/* config_delivery.c - the delivery settings of the configuration file
 * (config.h trpt_delivery_config; tlsrpt.conf(5) DELIVERY). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"
#include "timeutil.h"

#define MAX_SUPPRESS 100000
#define DOMAIN_MAX   253

void trpt_cfg_delivery_defaults(trpt_delivery_config *d)
{
    memset(d, 0, sizeof *d);
    d->dnssec = 1;
    d->resolve_policies = 1;
    d->http_timeout = 60;
    d->smtp_require_tls = 1;
    d->send_grace = 3600;
    d->send_spread = 4 * 3600;
    d->retry_base = 300;
    d->retry_max = 4 * 3600;
    d->give_up_after = 86400;
    d->send_success_only = 1;
    d->max_report_size = 10 * 1024 * 1024;
    d->max_destinations = 10;
}

void trpt_cfg_delivery_free(trpt_delivery_config *d)
{
    char **strings[] = {
        &d->dns_server,    &d->dns_trust_anchor_file, &d->https_ca_file,
        &d->report_from,   &d->smtp_server,           &d->smtp_helo,
        &d->smtp_ca_file,  &d->smtp_username,         &d->smtp_password_file,
        &d->sendmail_path, &d->dkim_key_file,         &d->dkim_selector,
        &d->dkim_domain};

    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        free(*strings[i]);
        *strings[i] = NULL;
    }
    trpt_strv_free(&d->allow_addresses);
    for (size_t i = 0; i < d->n_suppress; i++)
        free(d->suppress[i].domain);
    free(d->suppress);
    d->suppress = NULL;
    d->n_suppress = 0;
}

static int set_bool(trpt_cfg_reader *rd, int *field, const char *name,
                    const char *value)
{
    if (strcmp(value, "yes") == 0)
        *field = 1;
    else if (strcmp(value, "no") == 0)
        *field = 0;
    else
        return trpt_cfg_error(rd, "%s must be yes or no, not %s", name, value);
    return 0;
}

/* Files are opened by daemons with another working directory. */
static int set_path(trpt_cfg_reader *rd, char **field, const char *value)
{
    if (value[0] != '/')
        return trpt_cfg_error(rd, "must be an absolute path: %s", value);
    if (strlen(value) > 3072 || !trpt_cfg_text_clean(value))
        return trpt_cfg_error(rd, "not a usable path: %s", value);
    return trpt_cfg_replace(field, value);
}

/* "IP" or "IP@PORT", as libunbound takes a forwarder. */
static int set_dns_server(trpt_cfg_reader *rd, char **field, const char *value)
{
    size_t n = strlen(value);

    if (n == 0 || n > 64 || strspn(value, "0123456789abcdefABCDEF.:@") != n)
        return trpt_cfg_error(rd, "dns_server must be IP or IP@PORT, not %s",
                              value);
    return trpt_cfg_replace(field, value);
}

/* An address the report mails come from: local@domain, no spaces or
 * brackets (it goes into SMTP commands and headers). */
static int set_address(trpt_cfg_reader *rd, char **field, const char *value)
{
    const char *at = strrchr(value, '@');
    char dom[DOMAIN_MAX + 1];

    if (!at || at == value || strlen(value) > 254 ||
        strcspn(value, " \t<>()\",;:\\[]") != strlen(value) ||
        !trpt_cfg_text_clean(value) ||
        trpt_cfg_normalize_domain(at + 1, 0, dom, sizeof dom) < 0)
        return trpt_cfg_error(rd, "not a mail address: %s", value);
    return trpt_cfg_replace(field, value);
}

static int set_smtp_server(trpt_cfg_reader *rd, char **field, const char *value)
{
    if ((strncmp(value, "smtp://", 7) != 0 &&
         strncmp(value, "smtps://", 8) != 0) ||
        strlen(value) > 512 || strcspn(value, " \t") != strlen(value) ||
        !trpt_cfg_text_clean(value))
        return trpt_cfg_error(
            rd, "smtp_server must be smtp://HOST[:PORT] or smtps://..., not %s",
            value);
    return trpt_cfg_replace(field, value);
}

/* A DKIM selector is a sequence of labels (RFC 6376 §3.1). */
static int set_selector(trpt_cfg_reader *rd, char **field, const char *value)
{
    char sel[DOMAIN_MAX + 1];

    if (trpt_cfg_normalize_domain(value, 0, sel, sizeof sel) < 0)
        return trpt_cfg_error(rd, "not a DKIM selector: %s", value);
    return trpt_cfg_replace(field, sel);
}

static int add_allow_address(trpt_cfg_reader *rd, trpt_delivery_config *d,
                             const char *value)
{
    size_t n = strlen(value);

    if (n == 0 || n > 45 || strspn(value, "0123456789abcdefABCDEF.:") != n)
        return trpt_cfg_error(rd, "allow_address must be an IP address, not %s",
                              value);
    return trpt_strv_push(&d->allow_addresses, value);
}

/* suppress = DOMAIN [until=YYYY-MM-DD] */
static int add_suppression(trpt_cfg_reader *rd, trpt_delivery_config *d,
                           char *value)
{
    char dom[DOMAIN_MAX + 1];
    char *until = strchr(value, ' ');
    int64_t day = INT64_MAX;
    trpt_suppression *v;

    if (until) {
        *until++ = '\0';
        until += strspn(until, " \t");
        if (strncmp(until, "until=", 6) != 0 ||
            trpt_parse_day(until + 6, &day) < 0)
            return trpt_cfg_error(rd,
                                  "suppress: expected until=YYYY-MM-DD, "
                                  "not %s",
                                  until);
    }
    if (trpt_cfg_normalize_domain(value, 0, dom, sizeof dom) < 0)
        return trpt_cfg_error(rd, "suppress: not a domain: %s", value);
    if (d->n_suppress >= MAX_SUPPRESS)
        return trpt_cfg_error(rd, "too many suppress entries");
    if (!(v = realloc(d->suppress, (d->n_suppress + 1) * sizeof *v)))
        return -ENOMEM;
    d->suppress = v;
    if (!(v[d->n_suppress].domain = strdup(dom)))
        return -ENOMEM;
    v[d->n_suppress++].until_day = day;
    return 0;
}

int trpt_cfg_delivery_setting(trpt_cfg_reader *rd, trpt_config *c,
                              const char *name, char *value)
{
    trpt_delivery_config *d = &c->delivery;
    static const unsigned week = 7 * 86400;

    if (strcmp(name, "dns_server") == 0)
        return set_dns_server(rd, &d->dns_server, value);
    if (strcmp(name, "dns_trust_anchor_file") == 0)
        return set_path(rd, &d->dns_trust_anchor_file, value);
    if (strcmp(name, "dnssec") == 0)
        return set_bool(rd, &d->dnssec, name, value);
    if (strcmp(name, "resolve_policies") == 0)
        return set_bool(rd, &d->resolve_policies, name, value);
    if (strcmp(name, "https_ca_file") == 0)
        return set_path(rd, &d->https_ca_file, value);
    if (strcmp(name, "allow_address") == 0)
        return add_allow_address(rd, d, value);
    if (strcmp(name, "http_timeout") == 0)
        return trpt_cfg_set_unsigned(rd, &d->http_timeout, value, 1, 3600);
    if (strcmp(name, "report_from") == 0)
        return set_address(rd, &d->report_from, value);
    if (strcmp(name, "smtp_server") == 0)
        return set_smtp_server(rd, &d->smtp_server, value);
    if (strcmp(name, "smtp_helo") == 0)
        return trpt_cfg_set_domain(rd, &d->smtp_helo, value);
    if (strcmp(name, "smtp_ca_file") == 0)
        return set_path(rd, &d->smtp_ca_file, value);
    if (strcmp(name, "smtp_require_tls") == 0)
        return set_bool(rd, &d->smtp_require_tls, name, value);
    if (strcmp(name, "smtp_username") == 0)
        return trpt_cfg_set_text(rd, &d->smtp_username, value);
    if (strcmp(name, "smtp_password_file") == 0)
        return set_path(rd, &d->smtp_password_file, value);
    if (strcmp(name, "sendmail_path") == 0)
        return set_path(rd, &d->sendmail_path, value);
    if (strcmp(name, "dkim_key_file") == 0)
        return set_path(rd, &d->dkim_key_file, value);
    if (strcmp(name, "dkim_selector") == 0)
        return set_selector(rd, &d->dkim_selector, value);
    if (strcmp(name, "dkim_domain") == 0)
        return trpt_cfg_set_domain(rd, &d->dkim_domain, value);
    if (strcmp(name, "send_grace") == 0)
        return trpt_cfg_set_unsigned(rd, &d->send_grace, value, 0, week);
    if (strcmp(name, "send_spread") == 0)
        return trpt_cfg_set_unsigned(rd, &d->send_spread, value, 1, 86400);
    if (strcmp(name, "retry_base") == 0)
        return trpt_cfg_set_unsigned(rd, &d->retry_base, value, 1, 86400);
    if (strcmp(name, "retry_max") == 0)
        return trpt_cfg_set_unsigned(rd, &d->retry_max, value, 1, week);
    if (strcmp(name, "give_up_after") == 0)
        return trpt_cfg_set_unsigned(rd, &d->give_up_after, value, 60, week);
    if (strcmp(name, "send_success_only_reports") == 0)
        return set_bool(rd, &d->send_success_only, name, value);
    if (strcmp(name, "max_report_size") == 0)
        return trpt_cfg_set_unsigned(rd, &d->max_report_size, value, 512,
                                     1024u * 1024 * 1024);
    if (strcmp(name, "max_destinations") == 0)
        return trpt_cfg_set_unsigned(rd, &d->max_destinations, value, 1, 64);
    if (strcmp(name, "suppress") == 0)
        return add_suppression(rd, d, value);
    return -ENOENT;
}

int trpt_cfg_delivery_derive(trpt_config *c)
{
    trpt_delivery_config *d = &c->delivery;
    char from[DOMAIN_MAX + 32];
    int known = 0;

    if (c->submitter_domain && !d->report_from) {
        snprintf(from, sizeof from, "tlsrpt-noreply@%s", c->submitter_domain);
        if (!(d->report_from = strdup(from)))
            return -ENOMEM;
    }
    if (c->submitter_domain && !d->dkim_domain &&
        !(d->dkim_domain = strdup(c->submitter_domain)))
        return -ENOMEM;
    if (!d->sendmail_path && !(d->sendmail_path = strdup("/usr/sbin/sendmail")))
        return -ENOMEM;
    if (!d->report_from)
        return 0;
    /* Our own report mails never feed later reports (RFC 8460 §5.3 mails
     * are deliveries too). */
    for (size_t i = 0; i < c->exclude_senders.n && !known; i++)
        known = strcasecmp(c->exclude_senders.v[i], d->report_from) == 0;
    return known ? 0 : trpt_strv_push(&c->exclude_senders, d->report_from);
}

int trpt_config_suppressed(const trpt_config *c, const char *domain,
                           int64_t day)
{
    if (!c || !domain)
        return 0;
    for (size_t i = 0; i < c->delivery.n_suppress; i++)
        if (strcasecmp(c->delivery.suppress[i].domain, domain) == 0 &&
            day <= c->delivery.suppress[i].until_day)
            return 1;
    return 0;
}
