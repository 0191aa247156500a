/* fuzz_report_info.c - reading a report file back (report_info.h): the
 * input is taken as gzip bytes, and gzipped as JSON text, so both the
 * decompression and the JSON walk are exercised. */
#include <stdint.h>
#include <stdlib.h>

#include "report.h"
#include "report_info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trpt_report_info info;
    trpt_buf gz;

    if (trpt_report_info_read(data, size, &info) == 0)
        trpt_report_info_clear(&info);
    trpt_buf_init(&gz);
    if (trpt_report_gzip((const char *)data, size, &gz) == 0 &&
        trpt_report_info_read(gz.data, gz.len, &info) == 0) {
        if (!info.report_id || !info.policy_domain || !info.n_policies)
            abort();
        trpt_report_info_clear(&info);
    }
    trpt_buf_free(&gz);
    return 0;
}
