/* fuzz_record.c - libFuzzer target for the record decoder: any bytes either
 * fail to decode, or decode to a record that re-encodes (both encoders, the
 * same bytes) and decodes to an equal record (docs/record-format.md). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

static int str_equal(const char *a, const char *b)
{
    return (!a || !b) ? a == b : strcmp(a, b) == 0;
}

static int strv_equal(const trpt_strv *a, const trpt_strv *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return 0;
    return 1;
}

static int records_equal(const trpt_record *a, const trpt_record *b)
{
    return a->version == b->version && a->time_us == b->time_us &&
           a->policy_type == b->policy_type && a->result == b->result &&
           str_equal(a->event_id, b->event_id) &&
           str_equal(a->reporting_host, b->reporting_host) &&
           str_equal(a->mta, b->mta) &&
           str_equal(a->policy_domain, b->policy_domain) &&
           strv_equal(&a->policy_strings, &b->policy_strings) &&
           strv_equal(&a->mx_hosts, &b->mx_hosts) &&
           str_equal(a->tlsrpt_record, b->tlsrpt_record) &&
           str_equal(a->sending_mta_ip, b->sending_mta_ip) &&
           str_equal(a->receiving_mx_hostname, b->receiving_mx_hostname) &&
           str_equal(a->receiving_ip, b->receiving_ip) &&
           str_equal(a->receiving_mx_helo, b->receiving_mx_helo) &&
           str_equal(a->failure_reason_code, b->failure_reason_code) &&
           str_equal(a->additional_information, b->additional_information) &&
           str_equal(a->queue_id, b->queue_id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trpt_record a, b, c;
    trpt_buf out;

    trpt_record_init(&a);
    if (trpt_record_from_json(&a, (const char *)data, size) < 0)
        return 0;
    if (trpt_record_validate(&a) != 0)
        abort(); /* the decoder must only return valid records */
    trpt_buf_init(&out);
    if (trpt_record_to_json(&a, &out) != 0)
        abort();
    {
        /* the encoder for validated records writes the same bytes */
        trpt_buf trusted;

        trpt_buf_init(&trusted);
        if (trpt_record_to_json_valid(&a, &trusted) != 0 ||
            trusted.len != out.len ||
            memcmp(trusted.data, out.data, out.len) != 0)
            abort();
        trpt_buf_free(&trusted);
    }
    trpt_record_init(&b);
    if (trpt_record_from_json(&b, out.data, out.len) != 0 ||
        !records_equal(&a, &b))
        abort();
    /* decoding into a used record (the reuse path) gives the same */
    if (trpt_record_copy(&c, &b) != 0 ||
        trpt_record_from_json(&c, (const char *)data, size) != 0 ||
        !records_equal(&a, &c))
        abort();
    trpt_record_clear(&c);
    trpt_record_clear(&b);
    trpt_record_clear(&a);
    trpt_buf_free(&out);
    return 0;
}
