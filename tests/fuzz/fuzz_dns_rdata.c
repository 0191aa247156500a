/* fuzz_dns_rdata.c - the DNS rdata decoders (MX, TLSA) on arbitrary
 * bytes: the first byte picks the decoder, the rest is the rdata. TXT
 * rdata has its own target (fuzz_tlsrpt_txt). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trpt_buf b;
    unsigned pref;
    char host[256];

    if (size < 1)
        return 0;
    switch (data[0] % 2) {
    case 1:
        if (trpt_dns_mx(data + 1, size - 1, &pref, host, sizeof host) == 0 &&
            strlen(host) >= sizeof host)
            abort();
        break;
    default:
        trpt_buf_init(&b);
        trpt_dns_tlsa_string(data + 1, size - 1, &b);
        trpt_buf_free(&b);
        break;
    }
    return 0;
}
