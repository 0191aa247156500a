/* fuzz_parser.c - libFuzzer target for the parser front end and the MTA
 * parsers: the input is split on '\n' and fed line by line to a parser in
 * AUTO format (Postfix and Exim), with small bounds so eviction and
 * time-outs are exercised, then flushed. Must never crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "parser.h"

static int discard(void *ctx, const trpt_record *rec)
{
    (void)ctx;
    (void)rec;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const excluded[] = {"reports@example.org", NULL};
    trpt_parser_config cfg = {
        .format = TRPT_FORMAT_AUTO,
        .source_id = "fuzz",
        .ref_time_us = 1795000000000000LL, /* Nov 2026: fixed year */
        .max_sessions = 8,
        .session_timeout_s = 60,
        .exclude_senders = excluded,
    };
    const char *p = (const char *)data, *end = p + size;
    trpt_parser *parser;

    if (trpt_parser_new(&parser, &cfg, discard, NULL) < 0)
        return 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

        trpt_parser_feed(parser, p, len, (uint64_t)(p - (const char *)data));
        p += len + (nl ? 1 : 0);
    }
    trpt_parser_flush(parser, size);
    trpt_parser_free(parser);
    return 0;
}
