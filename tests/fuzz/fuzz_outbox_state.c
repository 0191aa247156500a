/* fuzz_outbox_state.c - the outbox delivery state parser on arbitrary
 * text; what it accepts must also be usable (next due, finished). */
#include <stdint.h>
#include <stdlib.h>

#include "outbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trpt_outbox_entry *e = NULL;

    if (trpt_outbox_parse("s.test!d.test!1!2!x.json.gz", (const char *)data,
                          size, &e) == 0) {
        (void)trpt_outbox_next_due(e);
        (void)trpt_outbox_finished(e);
        for (size_t i = 0; i < e->n_dest; i++)
            if (!e->dest[i].uri)
                abort();
    }
    trpt_outbox_entry_free(e);
    return 0;
}
