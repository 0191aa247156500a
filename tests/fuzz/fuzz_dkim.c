/* fuzz_dkim.c - relaxed canonicalization and DKIM signing of hostile
 * messages: no crash, no leak, and a refused message leaves the output
 * untouched. The key is generated once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dkim.h"

static trpt_dkim_key *fuzz_key(void)
{
    static trpt_dkim_key *k;

    if (!k) {
        EVP_PKEY *p = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        BIO *b = BIO_new(BIO_s_mem());
        char *pem;
        long n;

        PEM_write_bio_PrivateKey(b, p, NULL, NULL, 0, NULL, NULL);
        n = BIO_get_mem_data(b, &pem);
        pem = strndup(pem, (size_t)n);
        if (trpt_dkim_load_key(pem, &k) < 0)
            abort();
        free(pem);
        BIO_free(b);
        EVP_PKEY_free(p);
    }
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trpt_buf out;
    int r;

    trpt_buf_init(&out);
    trpt_dkim_canon_body((const char *)data, size, &out);
    trpt_buf_reset(&out);
    trpt_dkim_canon_header((const char *)data, size, &out);
    trpt_buf_reset(&out);
    r = trpt_dkim_sign(fuzz_key(), "submitter.test", "tlsrpt", NULL,
                       (const char *)data, size, 1, &out);
    if (r < 0 && out.len != 0)
        abort();
    if (r == 0 && (out.len < 16 || memcmp(out.data, "DKIM-Signature: ", 16)))
        abort();
    trpt_buf_free(&out);
    return 0;
}
