/* fuzz_parser_restart.c - the parser's restart support (parser.h):
 * arbitrary lines (Postfix and Exim shapes alike), with
 * trpt_parser_oldest_open() asked after every line. It must name a line
 * already fed (never one ahead, so a replay cannot skip input), and the
 * native hosts it lists must be accepted by a fresh parser. The first
 * input byte picks the postfix_tlsrpt mode. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"

static int count(void *ctx, const trpt_record *rec)
{
    (void)rec;
    (*(size_t *)ctx)++;
    return 0;
}

static void check_oldest(const trpt_parser *p, uint64_t first, uint64_t last)
{
    uint64_t off = UINT64_MAX;

    if (trpt_parser_oldest_open(p, &off) && (off < first || off > last))
        abort();
}

static void check_natives(const trpt_parser *p)
{
    trpt_parser *fresh = NULL;
    trpt_parser_config cfg = {.source_id = "fuzz"};
    size_t n = 0;

    if (trpt_parser_new(&fresh, &cfg, count, &n) < 0)
        return;
    for (size_t i = 0; trpt_parser_native_host(p, i); i++)
        if (trpt_parser_add_native_host(fresh, trpt_parser_native_host(p, i)))
            abort();
    trpt_parser_free(fresh);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trpt_parser_config cfg = {.source_id = "fuzz",
                              .ref_time_us = 1795867121000000LL,
                              .max_sessions = 64};
    trpt_parser *p = NULL;
    size_t records = 0, pos = 1;
    uint64_t first = 0;
    int have_first = 0;

    if (size < 1)
        return 0;
    cfg.tlsrpt_mode = (trpt_tlsrpt_mode)(data[0] % 3);
    if (trpt_parser_new(&p, &cfg, count, &records) < 0)
        return 0;
    while (pos < size) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;

        if (!have_first) {
            first = pos;
            have_first = 1;
        }
        trpt_parser_feed(p, (const char *)data + pos, len, pos);
        check_oldest(p, first, pos);
        pos += len + 1;
    }
    check_natives(p);
    trpt_parser_flush(p, size);
    trpt_parser_free(p);
    return 0;
}
