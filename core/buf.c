/* buf.c - growable byte buffer; see buf.h. */
#include "buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void trpt_buf_init(trpt_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

int trpt_buf_reserve(trpt_buf *b, size_t more)
{
    size_t need;
    size_t cap;
    char *p;

    if (more > ((size_t)-1) / 2 - b->len)
        return -ENOMEM;
    need = b->len + more + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    p = realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int trpt_buf_append(trpt_buf *b, const void *p, size_t n)
{
    int r = trpt_buf_reserve(b, n);

    if (r < 0)
        return r;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int trpt_buf_puts(trpt_buf *b, const char *s)
{
    return trpt_buf_append(b, s, strlen(s));
}

int trpt_buf_putc(trpt_buf *b, char c)
{
    return trpt_buf_append(b, &c, 1);
}

int trpt_buf_printf(trpt_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    int r;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    r = trpt_buf_reserve(b, (size_t)n);
    if (r < 0)
        return r;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void trpt_buf_reset(trpt_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void trpt_buf_free(trpt_buf *b)
{
    free(b->data);
    trpt_buf_init(b);
}
