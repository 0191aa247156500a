/* fuzz_journal_state.c - the restart point file of `tlsrpt journal`
 * (modules/tlsrpt/journal_state.c) and journal cursors: any bytes are
 * refused or parsed, never crash; what parses is written back and parses
 * to the same state (the file a restart trusts). The module is included
 * whole so its static parser and formatter are reachable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../modules/tlsrpt/journal_state.c"

static int same_state(const jr_state *a, const jr_state *b)
{
    if (strcmp(a->seqnum_id, b->seqnum_id) || a->restart != b->restart ||
        a->fed != b->fed || a->have_hw != b->have_hw || a->gaps != b->gaps ||
        a->nnatives != b->nnatives)
        return 0;
    if (a->have_hw && (a->hw_offset != b->hw_offset || a->hw_sub != b->hw_sub))
        return 0;
    for (size_t i = 0; i < a->nnatives; i++)
        if (strcmp(a->natives[i], b->natives[i]))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char *out = malloc(STATE_MAX_BYTES);
    char id[JR_ID_LEN + 1];
    jr_state st = {0}, again = {0};
    uint64_t seq;
    int n;

    if (!text || !out) {
        free(text);
        free(out);
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    (void)jr_cursor_parse(text, id, &seq);
    if (size <= STATE_MAX_BYTES && parse_state(&st, text, size) == 0) {
        n = format_state(&st, out, STATE_MAX_BYTES);
        if (n < 0 || parse_state(&again, out, (size_t)n) != 0 ||
            !same_state(&st, &again))
            abort();
    }
    jr_state_clear(&st);
    jr_state_clear(&again);
    free(text);
    free(out);
    return 0;
}
