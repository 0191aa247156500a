/*
 * fuzz_omtlsrpt.c - libFuzzer target for omtlsrpt's input side: the data
 * is one rsyslog batch (lines split at '\n'), reframed (frame.c) and
 * committed through the engine (engine.c) into a scratch spool; the
 * first byte chooses ordered mode (sequence-number prefixes) and whether
 * the batch is committed a second time (rsyslog's retry).
 * Built by tests/fuzz/build.sh with modules/omtlsrpt/{engine,frame}.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "frame.h"

#define MAX_LINES 64

typedef struct batch {
    const char *p[MAX_LINES];
    size_t n[MAX_LINES];
} batch;

static void line_at(void *ctx, size_t i, const char **p, size_t *n)
{
    batch *b = ctx;

    *p = b->p[i];
    *n = b->n[i];
}

static char spool[64];

static void remove_segments(void)
{
    char **names = NULL;

    if (trpt_spool_list(spool, &names) < 0)
        return;
    for (char **n = names; *n; n++)
        trpt_spool_remove(spool, *n);
    trpt_spool_list_free(names);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    otr_config c = {0};
    otr_engine *e = NULL;
    otr_worker *w = NULL;
    trpt_buf fb;
    batch b;
    size_t nl = 0, start;
    const char *p;
    size_t len;
    uint8_t mode;

    if (size < 1)
        return 0;
    if (!spool[0]) {
        snprintf(spool, sizeof spool, "/tmp/fuzz-omtlsrpt-%d", (int)getpid());
    }
    mode = data[0];
    data++, size--;
    for (start = 0; start <= size && nl < MAX_LINES;) {
        const uint8_t *q = memchr(data + start, '\n', size - start);
        size_t end = q ? (size_t)(q - data) : size;

        b.p[nl] = (const char *)data + start;
        b.n[nl++] = end - start;
        start = end + 1;
        if (!q)
            break;
    }
    trpt_buf_init(&fb);
    for (size_t i = 0; i < nl; i++)
        otr_frame_line(b.p[i], b.n[i], &fb, &p, &len);
    trpt_buf_free(&fb);

    c.spool_directory = strdup(spool);
    c.fsync = TRPT_FSYNC_NEVER;
    c.ordered = mode & 1;
    c.order_timeout_ms = 1;
    c.max_sessions = 16;
    if (!c.spool_directory || otr_engine_new(&e, &c) < 0) {
        otr_config_clear(&c);
        return 0;
    }
    if (otr_worker_new(&w) == 0) {
        otr_engine_commit(e, w, nl, line_at, &b);
        if (mode & 2)
            otr_engine_commit(e, w, nl, line_at, &b);
        otr_worker_free(w);
    }
    otr_engine_close(e);
    remove_segments();
    return 0;
}
