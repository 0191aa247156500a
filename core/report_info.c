/*
 * report_info.c - the facts of a report file the sender needs
 * (report_info.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>
#include <zlib.h>

#include "buf.h"
#include "report_info.h"

/* Inflates a gzip member into out, at most max bytes. */
static int gunzip(const void *gz, size_t len, size_t max, trpt_buf *out)
{
    z_stream z = {0};
    int zr, r = 0;

    if (len < 18 || ((const unsigned char *)gz)[0] != 0x1f ||
        ((const unsigned char *)gz)[1] != 0x8b)
        return -EBADMSG;
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return -ENOMEM;
    z.next_in = (Bytef *)gz;
    z.avail_in = (uInt)(len > UINT32_MAX ? UINT32_MAX : len);
    do {
        if ((r = trpt_buf_reserve(out, 64 * 1024)) < 0)
            break;
        z.next_out = (Bytef *)out->data + out->len;
        z.avail_out = 64 * 1024;
        zr = inflate(&z, Z_NO_FLUSH);
        out->len += 64 * 1024 - z.avail_out;
        if (out->len > max)
            r = -EFBIG;
        else if (zr != Z_OK && zr != Z_STREAM_END)
            r = zr == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;
        else if (zr == Z_OK && z.avail_in == 0 && z.avail_out != 0)
            r = -EBADMSG; /* truncated */
        if (zr == Z_STREAM_END)
            break;
    } while (r == 0);
    inflateEnd(&z);
    if (r == 0)
        out->data[out->len] = '\0';
    return r;
}

static const char *get_string(json_object *o, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int get_count(json_object *o, const char *key, uint64_t *sum)
{
    json_object *v;
    int64_t n;

    if (!json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_int))
        return -EBADMSG;
    n = json_object_get_int64(v);
    if (n < 0 || (uint64_t)n > UINT64_MAX - *sum)
        return -EBADMSG;
    *sum += (uint64_t)n;
    return 0;
}

static int read_policies(json_object *policies, trpt_report_info *out)
{
    size_t n = json_object_array_length(policies);

    for (size_t i = 0; i < n; i++) {
        json_object *p = json_object_array_get_idx(policies, i), *pol, *sum;
        const char *dom;

        if (!json_object_is_type(p, json_type_object) ||
            !json_object_object_get_ex(p, "policy", &pol) ||
            !json_object_object_get_ex(p, "summary", &sum) ||
            !(dom = get_string(pol, "policy-domain")) ||
            get_count(sum, "total-successful-session-count", &out->successes) <
                0 ||
            get_count(sum, "total-failure-session-count", &out->failures) < 0)
            return -EBADMSG;
        if (!out->policy_domain && !(out->policy_domain = strdup(dom)))
            return -ENOMEM;
    }
    out->n_policies = n;
    return n ? 0 : -EBADMSG;
}

int trpt_report_info_read(const void *gz, size_t len, trpt_report_info *out)
{
    json_tokener *tok = NULL;
    json_object *root = NULL, *policies;
    const char *id;
    trpt_buf json;
    int r;

    if (!out)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    if (!gz)
        return -EINVAL;
    trpt_buf_init(&json);
    if ((r = gunzip(gz, len, TRPT_REPORT_INFO_MAX, &json)) < 0)
        goto out;
    r = -EBADMSG;
    if (json.len > INT32_MAX || !(tok = fjson_tokener_new_ex(32)))
        goto out;
    root = json_tokener_parse_ex(tok, json.data, (int)json.len);
    if (!root || fjson_tokener_get_error(tok) != fjson_tokener_success ||
        !json_object_is_type(root, json_type_object) ||
        !(id = get_string(root, "report-id")) || !id[0] ||
        !json_object_object_get_ex(root, "policies", &policies) ||
        !json_object_is_type(policies, json_type_array))
        goto out;
    if (!(out->report_id = strdup(id))) {
        r = -ENOMEM;
        goto out;
    }
    r = read_policies(policies, out);
out:
    json_object_put(root);
    if (tok)
        json_tokener_free(tok);
    trpt_buf_free(&json);
    if (r < 0)
        trpt_report_info_clear(out);
    return r;
}

void trpt_report_info_clear(trpt_report_info *info)
{
    if (!info)
        return;
    free(info->report_id);
    free(info->policy_domain);
    memset(info, 0, sizeof *info);
}
