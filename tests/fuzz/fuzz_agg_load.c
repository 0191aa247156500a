/* fuzz_agg_load.c - the aggregator's saved image is read back from disk on
 * every start: trpt_agg_load must refuse anything corrupt without crashing,
 * and an image it accepts must save and load again to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static trpt_config *cfg;
    trpt_agg *a = NULL, *b = NULL;
    trpt_buf one, two;

    if (!cfg && trpt_config_defaults(&cfg) < 0)
        abort();
    if (trpt_agg_new(&a, cfg) < 0)
        abort();
    trpt_buf_init(&one);
    trpt_buf_init(&two);
    if (trpt_agg_load(a, (const char *)data, size) == 0) {
        if (trpt_agg_save(a, &one) < 0 || trpt_agg_new(&b, cfg) < 0 ||
            trpt_agg_load(b, one.data, one.len) < 0 ||
            trpt_agg_save(b, &two) < 0)
            abort();
        if (one.len != two.len || memcmp(one.data, two.data, one.len) != 0)
            abort();
    }
    trpt_buf_free(&one);
    trpt_buf_free(&two);
    trpt_agg_free(a);
    trpt_agg_free(b);
    return 0;
}
