/*
 * buf.h - growable byte buffer.
 *
 * trpt_buf_init()     empty buffer, no allocation yet
 * trpt_buf_reserve()  make room for n more bytes
 * trpt_buf_append()   append bytes; trpt_buf_puts() a C string
 * trpt_buf_printf()   append formatted text
 * trpt_buf_reset()    length 0, memory kept
 * trpt_buf_free()     release memory (the struct itself is caller-owned)
 *
 * The data is always NUL-terminated after len (when allocated), so it can be
 * passed to C string functions. Functions return 0 or -ENOMEM.
 */
#ifndef TRPT_BUF_H
#define TRPT_BUF_H

#include <stddef.h>

typedef struct trpt_buf {
    char *data;
    size_t len;
    size_t cap;
} trpt_buf;

void trpt_buf_init(trpt_buf *b);
int trpt_buf_reserve(trpt_buf *b, size_t more);
int trpt_buf_append(trpt_buf *b, const void *p, size_t n);
int trpt_buf_puts(trpt_buf *b, const char *s);
int trpt_buf_putc(trpt_buf *b, char c);
int trpt_buf_printf(trpt_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void trpt_buf_reset(trpt_buf *b);
void trpt_buf_free(trpt_buf *b);

#endif
