/*
 * report_info.c - the facts of a report file the sender needs
 * (report_info.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>
#include <zlib.h>

#include "buf.h"
#include "fileutil.h"
#include "report.h"
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

/* gzip bytes -> the report's root object with a non-empty string
 * "report-id" and an array "policies" (depth-limited parse). */
static int load_report(const void *gz, size_t len, json_object **root,
                       const char **id, json_object **policies)
{
    json_tokener *tok = NULL;
    json_object *o = NULL;
    trpt_buf json;
    int r;

    *root = NULL;
    trpt_buf_init(&json);
    if ((r = gunzip(gz, len, TRPT_REPORT_INFO_MAX, &json)) < 0)
        goto out;
    r = -EBADMSG;
    if (json.len > INT32_MAX || !(tok = fjson_tokener_new_ex(32)))
        goto out;
    o = json_tokener_parse_ex(tok, json.data, (int)json.len);
    if (!o || fjson_tokener_get_error(tok) != fjson_tokener_success ||
        !json_object_is_type(o, json_type_object) ||
        !(*id = get_string(o, "report-id")) || !(*id)[0] ||
        !json_object_object_get_ex(o, "policies", policies) ||
        !json_object_is_type(*policies, json_type_array))
        goto out;
    *root = o;
    o = NULL;
    r = 0;
out:
    json_object_put(o);
    if (tok)
        json_tokener_free(tok);
    trpt_buf_free(&json);
    return r;
}

int trpt_report_info_read(const void *gz, size_t len, trpt_report_info *out)
{
    json_object *root, *policies;
    const char *id;
    int r;

    if (!out)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    if (!gz)
        return -EINVAL;
    if ((r = load_report(gz, len, &root, &id, &policies)) < 0)
        return r;
    if (!(out->report_id = strdup(id)))
        r = -ENOMEM;
    else
        r = read_policies(policies, out);
    json_object_put(root);
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

/* --- splitting ------------------------------------------------------------ */

/* libfastjson writes '/' as "\/"; reports are written without. */
static int append_plain(trpt_buf *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (p[0] == '\\' && p[1] == '/')
            p++;
        if (trpt_buf_putc(out, *p) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* "<id before @>-p<N>@<rest>" (or "-p<N>" appended without '@'). */
static int part_id(const char *id, size_t part, trpt_buf *out)
{
    const char *at = strrchr(id, '@');
    size_t head = at ? (size_t)(at - id) : strlen(id);

    return trpt_buf_printf(out, "%.*s-p%zu%s", (int)head, id, part,
                           at ? at : "");
}

/* One part: every member of root but report-id and policies, then those. */
static int write_part(json_object *root, json_object *policy, size_t part,
                      const char *id, const char *name, const char *dir)
{
    json_object *o = json_object_new_object(), *arr = json_object_new_array();
    trpt_buf idb, json, gz, pname;
    size_t stem = strlen(name) - strlen(".json.gz");
    int r;

    trpt_buf_init(&idb);
    trpt_buf_init(&json);
    trpt_buf_init(&gz);
    trpt_buf_init(&pname);
    r = !o || !arr ? -ENOMEM : part_id(id, part, &idb);
    if (r == 0) {
        struct fjson_object_iterator it = fjson_object_iter_begin(root);
        struct fjson_object_iterator end = fjson_object_iter_end(root);

        for (; !fjson_object_iter_equal(&it, &end);
             fjson_object_iter_next(&it)) {
            const char *key = fjson_object_iter_peek_name(&it);
            json_object *val = fjson_object_iter_peek_value(&it);

            if (strcmp(key, "report-id") == 0)
                json_object_object_add(o, key,
                                       json_object_new_string(idb.data));
            else if (strcmp(key, "policies") == 0)
                json_object_object_add(o, key, json_object_get(arr));
            else
                json_object_object_add(o, key, json_object_get(val));
        }
        json_object_array_add(arr, json_object_get(policy));
        r = append_plain(
            &json, json_object_to_json_string_ext(o, FJSON_TO_STRING_PLAIN));
    }
    if (r == 0)
        r = trpt_report_gzip(json.data, json.len, &gz);
    if (r == 0)
        r = trpt_buf_printf(&pname, "%s/%.*s-p%zu.json.gz", dir, (int)stem,
                            name, part);
    if (r == 0)
        r = trpt_write_file_atomic(pname.data, gz.data, gz.len, 0640);
    json_object_put(arr);
    json_object_put(o);
    trpt_buf_free(&idb);
    trpt_buf_free(&json);
    trpt_buf_free(&gz);
    trpt_buf_free(&pname);
    return r;
}

int trpt_report_split(const void *gz, size_t len, const char *name,
                      const char *outbox_dir, size_t *n_parts)
{
    json_object *root, *policies;
    size_t n, nl = name ? strlen(name) : 0;
    const char *id;
    int r;

    if (!gz || !outbox_dir || !n_parts || nl <= 8 || strchr(name, '/') ||
        strcmp(name + nl - 8, ".json.gz") != 0)
        return -EINVAL;
    *n_parts = 0;
    if ((r = load_report(gz, len, &root, &id, &policies)) < 0)
        return r;
    n = json_object_array_length(policies);
    r = n < 2 ? -EINVAL : 0;
    for (size_t i = 0; r == 0 && i < n; i++)
        r = write_part(root, json_object_array_get_idx(policies, i), i + 1, id,
                       name, outbox_dir);
    json_object_put(root);
    if (r == 0)
        *n_parts = n;
    return r;
}
