/* fuzz_logline.c - libFuzzer target: trpt_logline_parse() on arbitrary
 * bytes with a fixed reference time. Checks that a framed line's pointers
 * lie within the input and that a refused line names its reason. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logline.h"

#define REF_TIME_US 1795867200000000LL /* 2026-11-28T12:00:00Z */

static int within(const uint8_t *data, size_t size, const char *p, size_t n)
{
    const char *base = (const char *)data;

    return p >= base && n <= size && p + n <= base + size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trpt_logline ll;
    const char *reason = NULL;
    /* a copy of exactly `size` bytes, so ASan sees any over-read */
    char *line = malloc(size ? size : 1);

    if (!line)
        return 0;
    memcpy(line, data, size);
    if (trpt_logline_parse(line, size, REF_TIME_US, &ll, &reason) == 0) {
        if (!within((const uint8_t *)line, size, ll.msg, ll.msg_len) ||
            (ll.host &&
             !within((const uint8_t *)line, size, ll.host, ll.host_len)) ||
            (ll.prog &&
             !within((const uint8_t *)line, size, ll.prog, ll.prog_len)))
            abort();
        if (ll.framing == TRPT_FRAMING_EXIM && (ll.host || ll.prog))
            abort();
        if (ll.time_us < 0)
            abort();
    } else if (!reason) {
        abort();
    }
    free(line);
    return 0;
}
