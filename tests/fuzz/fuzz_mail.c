/* fuzz_mail.c - the report mail builder with hostile field values (the
 * input split at NULs into fields; the file name is made of the submitter,
 * the policy domain and a fuzzed middle, so that valid mails are reached):
 * no crash, no leak; a refused mail leaves the output untouched; a built
 * one has CRLF lines only, none over 998 octets, and exactly one
 * TLS-Report-Domain in its header. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail.h"

static const char *field(const char **p, const char *end)
{
    const char *s = *p;

    if (s >= end)
        return "x.test";
    *p = s + strnlen(s, (size_t)(end - s)) + 1;
    return s;
}

static void check_built(const trpt_buf *out)
{
    const char *hend = strstr(out->data, "\r\n\r\n");
    const char *first = strstr(out->data, "\r\nTLS-Report-Domain: ");
    const char *second =
        first ? strstr(first + 1, "\r\nTLS-Report-Domain: ") : NULL;
    size_t col = 0;

    for (size_t i = 0; i < out->len; i++) {
        char c = out->data[i];

        if (c == '\n' && (i == 0 || out->data[i - 1] != '\r'))
            abort();
        if (c == '\r' && (i + 1 == out->len || out->data[i + 1] != '\n'))
            abort();
        col = c == '\n' ? 0 : col + 1;
        if (col > 999)
            abort();
    }
    if (!hend || !first || first > hend || (second && second < hend))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char gz[20] = {0x1f, 0x8b, 8};
    char *copy = malloc(size + 1), name[2048];
    const char *p = copy, *end, *to[3], *middle;
    trpt_report_mail m;
    trpt_buf out;

    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    end = copy + size;
    to[0] = field(&p, end);
    to[1] = size % 3 ? NULL : field(&p, end);
    to[2] = NULL;
    m = (trpt_report_mail){
        .from = field(&p, end),
        .to = to,
        .policy_domain = field(&p, end),
        .submitter = field(&p, end),
        .report_id = field(&p, end),
        .gzip = gz,
        .gzip_len = sizeof gz,
        .date = (int64_t)size * 1000003,
    };
    middle = field(&p, end);
    snprintf(name, sizeof name, "%s!%s!%s.json.gz", m.submitter,
             m.policy_domain, middle);
    m.file_name = name;
    m.msgid_unique = size % 2 ? "u" : field(&p, end);
    m.msgid_domain = size % 5 ? NULL : field(&p, end);
    m.text = size % 7 ? field(&p, end) : NULL;
    trpt_buf_init(&out);
    if (trpt_report_mail_build(&m, &out) == 0)
        check_built(&out);
    else if (out.len != 0)
        abort();
    trpt_buf_free(&out);
    free(copy);
    return 0;
}
