/*
 * canon_dump.c - test helper: core/dkim.c's relaxed canonical forms, many
 * cases per run.
 *
 * stdin:  records "H <len>\n<len bytes>" (one header field without its
 *         final CRLF, RFC 6376 §3.4.2) or "B <len>\n<len bytes>" (a body,
 *         §3.4.4)
 * stdout: per record "<len>\n<len bytes>" of the canonical form, or "-\n"
 *         when the function refuses the input
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dkim.h"

enum { CASE_MAX = 1 << 20 };

static int one_case(char mode, size_t len, trpt_buf *in, trpt_buf *out)
{
    int r;

    trpt_buf_reset(in);
    trpt_buf_reset(out);
    if (len > CASE_MAX || trpt_buf_reserve(in, len) < 0 ||
        fread(in->data, 1, len, stdin) != len)
        return -1;
    in->len = len;
    r = mode == 'B' ? trpt_dkim_canon_body(in->data, len, out)
                    : trpt_dkim_canon_header(in->data, len, out);
    if (r < 0)
        fputs("-\n", stdout);
    else if (printf("%zu\n", out->len) < 0 ||
             fwrite(out->data ? out->data : "", 1, out->len, stdout) !=
                 out->len)
        return -1;
    return 0;
}

int main(void)
{
    trpt_buf in, out;
    char mode;
    size_t len;
    int r = 0;

    trpt_buf_init(&in);
    trpt_buf_init(&out);
    while (r == 0 && scanf(" %c %zu", &mode, &len) == 2 && getchar() == '\n')
        r = (mode == 'B' || mode == 'H') ? one_case(mode, len, &in, &out) : -1;
    trpt_buf_free(&in);
    trpt_buf_free(&out);
    return r < 0;
}
