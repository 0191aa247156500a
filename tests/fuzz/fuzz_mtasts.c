/* fuzz_mtasts.c - MTA-STS parsing (core/mtasts.h) on arbitrary input:
 * never a crash or a leak, every refusal says why, and what is accepted
 * keeps the header's promises.
 *
 * Input: the first byte chooses the target for the rest.
 *   0: a policy file body (trpt_mtasts_policy_parse)
 *   1: an _mta-sts record text (trpt_mtasts_txt_record_parse)
 *   2: "pattern\nhost" for trpt_mtasts_mx_match */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mtasts.h"

static void check_pattern(const char *m)
{
    size_t n = strlen(m);
    const char *name = strncmp(m, "*.", 2) == 0 ? m + 2 : m;
    char host[TRPT_HOSTNAME_MAX + 8];

    if (n == 0 || m[n - 1] == '.' ||
        !trpt_txt_hostname_valid(name, strlen(name)))
        abort();
    for (const char *c = m; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            abort();
    /* A pattern matches the host it describes. */
    if (name == m) {
        if (!trpt_mtasts_mx_match(m, m))
            abort();
    } else {
        host[0] = 'x';
        memcpy(host + 1, m + 1, n); /* "x.example.com" and its NUL */
        if (!trpt_mtasts_mx_match(m, host) || trpt_mtasts_mx_match(m, name))
            abort();
    }
}

static void fuzz_policy(const char *s, size_t n)
{
    trpt_mtasts_policy *p = NULL;
    char err[256] = "";

    if (trpt_mtasts_policy_parse(s, n, &p, err, sizeof err) < 0) {
        if (!err[0] || p)
            abort();
        return;
    }
    if (p->mode < TRPT_MTASTS_MODE_NONE || p->mode > TRPT_MTASTS_MODE_ENFORCE ||
        p->max_age > TRPT_MTASTS_MAX_AGE || p->policy_strings.n < 3 ||
        p->mx.n > TRPT_MTASTS_MAX_MX ||
        (p->mx.n == 0 && p->mode != TRPT_MTASTS_MODE_NONE))
        abort();
    for (size_t i = 0; i < p->mx.n; i++) {
        check_pattern(p->mx.v[i]);
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->mx.v[i], p->mx.v[j]) == 0)
                abort();
    }
    for (size_t i = 0; i < p->policy_strings.n; i++) {
        const char *l = p->policy_strings.v[i];

        if (!strstr(l, ": "))
            abort();
        for (const char *c = l; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                abort();
    }
    trpt_mtasts_policy_free(p);
}

static void fuzz_txt(const char *s, size_t n)
{
    trpt_mtasts_txt *t = NULL;
    char err[256] = "";
    size_t idlen;

    if (trpt_mtasts_txt_record_parse(s, n, &t, err, sizeof err) < 0) {
        if (!err[0] || t)
            abort();
        return;
    }
    idlen = strlen(t->id);
    if (idlen == 0 || idlen > TRPT_MTASTS_ID_MAX || strlen(t->record) != n)
        abort();
    trpt_mtasts_txt_free(t);
}

static void fuzz_match(const char *s, size_t n)
{
    char *copy = strndup(s, n), *host, *upper;
    int m;

    if (!copy)
        abort();
    host = strchr(copy, '\n');
    if (host)
        *host++ = '\0';
    else
        host = copy + strlen(copy);
    m = trpt_mtasts_mx_match(copy, host);
    if (m != 0 && m != 1)
        abort();
    /* ASCII case never changes the answer. */
    if (!(upper = strdup(host)))
        abort();
    for (char *c = upper; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    if (trpt_mtasts_mx_match(copy, upper) != m)
        abort();
    /* An exact pattern matches only its own name. */
    if (m && strncmp(copy, "*.", 2) != 0) {
        size_t a = strlen(copy), b = strlen(host);

        a -= a > 1 && copy[a - 1] == '.';
        b -= b > 1 && host[b - 1] == '.';
        if (a != b || strncasecmp(copy, host, a) != 0)
            abort();
    }
    free(upper);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data + 1;

    if (size == 0)
        return 0;
    switch (data[0] % 3) {
    case 0:
        fuzz_policy(s, size - 1);
        break;
    case 1:
        fuzz_txt(s, size - 1);
        break;
    default:
        fuzz_match(s, size - 1);
        break;
    }
    return 0;
}
