/* fuzz_datagram.c - libFuzzer target for the libtlsrpt datagram decoder
 * (core/datagram.c). Every record it emits must be valid and survive the
 * JSON round trip of the spool; anything else aborts. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "datagram.h"

static int check_record(void *ctx, const trpt_record *r)
{
    trpt_buf json;
    trpt_record back;

    (void)ctx;
    if (trpt_record_validate(r) != 0)
        abort();
    trpt_buf_init(&json);
    trpt_record_init(&back);
    if (trpt_record_to_json(r, &json) != 0 ||
        trpt_record_from_json(&back, json.data, json.len) != 0 ||
        strcmp(back.policy_domain, r->policy_domain) != 0 ||
        back.result != r->result)
        abort();
    trpt_record_clear(&back);
    trpt_buf_free(&json);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static trpt_datagram_decoder *d;
    trpt_datagram_opts o = {.source = "dg-0123456789abcdef",
                            .seq = 1,
                            .time_us = 1795867052000000LL,
                            .host = "sender"};
    trpt_datagram_error why;
    int r;

    if (!d && trpt_datagram_decoder_new(&d) < 0)
        abort();
    r = trpt_datagram_decode(d, (const char *)data, size, &o, check_record,
                             NULL, &why);
    if (r == 0 || (r < 0 && r != -EINVAL && r != -E2BIG && r != -ENOMEM))
        abort(); /* a decoded datagram has at least one record */
    return 0;
}
