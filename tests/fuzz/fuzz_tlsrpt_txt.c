/* fuzz_tlsrpt_txt.c - the TLSRPT TXT record parser (core/tlsrpt_txt.h) on
 * arbitrary input: never a crash or a leak, every refusal says why, and
 * whatever it accepts keeps the promises of the header.
 *
 * Input: the first byte chooses the form of the rest.
 *   even: one record text (trpt_tlsrpt_record_parse)
 *   odd:  an RRset, each record a length byte and that much TXT RDATA in
 *         wire form (trpt_tlsrpt_txt_parse_rdata) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tlsrpt_txt.h"

#define MAX_RRS 8

static void check_target(const trpt_rua *r)
{
    const char *at;

    if (r->scheme == TRPT_RUA_HTTPS) {
        if (strcmp(r->target, r->uri) != 0 ||
            strncasecmp(r->target, "https://", 8) != 0 ||
            strlen(r->target) > TRPT_HTTPS_URL_MAX)
            abort();
        return;
    }
    if (r->scheme != TRPT_RUA_MAILTO ||
        strncasecmp(r->uri, "mailto:", 7) != 0 ||
        strlen(r->target) > TRPT_MAILTO_ADDR_MAX)
        abort();
    at = strchr(r->target, '@');
    if (!at || at == r->target || strchr(at + 1, '@') ||
        !trpt_txt_hostname_valid(at + 1, strlen(at + 1)))
        abort();
    for (const char *c = r->target; *c; c++)
        if (*c < 0x21 || *c > 0x7e)
            abort();
}

static void check_accepted(const trpt_tlsrpt_txt *t)
{
    if (strlen(t->record) != t->record_len || t->record_len > TRPT_TXT_MAX ||
        strncmp(t->record, TRPT_TLSRPT_VERSION, 10) != 0)
        abort();
    if (t->n_rua == 0 || t->n_rua > TRPT_TLSRPT_MAX_RUA || t->n_rua_fields == 0)
        abort();
    for (size_t i = 0; i < t->n_rua; i++) {
        check_target(&t->rua[i]);
        for (size_t j = 0; j < i; j++)
            if (t->rua[i].scheme == t->rua[j].scheme &&
                strcmp(t->rua[i].target, t->rua[j].target) == 0)
                abort();
    }
}

static int parse_rrset(const uint8_t *data, size_t size, trpt_tlsrpt_txt **out,
                       char *err, size_t errlen)
{
    trpt_txt_string rdata[MAX_RRS];
    size_t n = 0, i = 0;

    while (i < size && n < MAX_RRS) {
        size_t len = data[i++];

        if (len > size - i)
            len = size - i;
        rdata[n++] = (trpt_txt_string){(const char *)data + i, len};
        i += len;
    }
    return trpt_tlsrpt_txt_parse_rdata(rdata, n, out, err, errlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trpt_tlsrpt_txt *t = NULL;
    char err[256] = "";
    int rc;

    if (size == 0)
        return 0;
    if (data[0] & 1) {
        rc = parse_rrset(data + 1, size - 1, &t, err, sizeof err);
    } else {
        rc = trpt_tlsrpt_record_parse((const char *)data + 1, size - 1, &t, err,
                                      sizeof err);
        if (rc == 0 && (t->record_len != size - 1 ||
                        memcmp(t->record, data + 1, size - 1) != 0))
            abort(); /* the record text is kept exactly */
    }
    if (rc == 0)
        check_accepted(t);
    else if (!err[0] || t)
        abort(); /* every refusal says why and returns nothing */
    trpt_tlsrpt_txt_free(t);
    return 0;
}
