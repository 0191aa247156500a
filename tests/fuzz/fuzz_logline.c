/* fuzz_logline.c - libFuzzer target: trpt_logline_parse() on arbitrary
 * bytes with a fixed reference time. Checks that a framed line's pointers
 * lie within the input and that a refused line names its reason, and that
 * the ASCII entry agrees with it on clean ASCII lines. */
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

/* On a line of ASCII without NUL or '\n', trpt_logline_parse_ascii() must
 * agree with trpt_logline_parse() (`ll`, `reason`: its outcome). */
static void check_ascii_entry(const char *line, size_t size,
                              const trpt_logline *ll, const char *reason)
{
    trpt_logline a;
    const char *why = NULL;

    for (size_t i = 0; i < size; i++)
        if (line[i] == 0 || line[i] == '\n' || (unsigned char)line[i] >= 0x80)
            return;
    if (trpt_logline_parse_ascii(line, size, REF_TIME_US, &a, &why) == 0) {
        if (!a.newline_free || reason)
            abort();
        a.newline_free = 0;
        if (memcmp(&a, ll, sizeof a) != 0)
            abort();
    } else if (!why || !reason || strcmp(why, reason) != 0) {
        abort();
    }
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
    check_ascii_entry(line, size, &ll, reason);
    free(line);
    return 0;
}
