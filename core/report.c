/*
 * report.c - RFC 8460 aggregate reports; see report.h.
 *
 * Decisions:
 * - policy-domain is always written (RFC 8460 §4.4; a receiver rejects
 *   reports without it). policy-string and mx-host are written as arrays
 *   (erratum 6241) when known, and left out when empty: the RFC calls
 *   neither required and no-policy-found has none.
 * - failure-details is left out when a policy had no failures, as Google
 *   and Microsoft do; receivers handle that already.
 * - Unknown optional detail fields are left out, never written as "" or
 *   null (RFC 8460 §4.4 marks helo, additional-information and
 *   failure-reason-code optional; the rest we write whenever known).
 * - h8 is the 32-bit FNV-1a hash of the TLSRPT record text in lower-case
 *   hex, or "none" when no record was seen: it separates reports of one
 *   domain and day that go to different rua= destinations.
 * - Domains are checked before they become part of a file name: only
 *   letters, digits, '-', '_' and '.', no leading dot, no "..".
 */
#include "fileutil.h"
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "timeutil.h"

#define SECONDS_PER_DAY 86400
#define MAX_DOMAIN_LEN  253
#define REPORT_MODE     0640

/* ------------------------------------------------------------- names */

static int name_component_ok(const char *s)
{
    size_t len;

    if (!s || !*s || *s == '.')
        return 0;
    len = strlen(s);
    if (len > MAX_DOMAIN_LEN || strstr(s, ".."))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

static uint32_t fnv1a32(const char *s)
{
    uint32_t h = 0x811c9dc5u;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x01000193u;
    }
    return h;
}

/* h8 plus the "_<seq>" suffix of supplementary reports (docs/tlsrpt.1). */
static void unique_part(const trpt_agg_group *g, const trpt_report_meta *m,
                        char *buf, size_t len)
{
    int n;

    if (g->tlsrpt_record)
        n = snprintf(buf, len, "%08x", fnv1a32(g->tlsrpt_record));
    else
        n = snprintf(buf, len, "none");
    if (m->seq > 1 && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, "_%u", m->seq);
}

static int check_group(const trpt_agg_group *g, const trpt_report_meta *m)
{
    if (!g || !m || !name_component_ok(g->policy_domain) ||
        !name_component_ok(m->submitter_domain))
        return -EINVAL;
    /* years 1970..9999 keep "YYYY-MM-DD" and the epoch seconds sane */
    if (g->day < 0 || g->day > trpt_days_from_civil(9999, 12, 31))
        return -ERANGE;
    return 0;
}

int trpt_report_names(const trpt_agg_group *g, const trpt_report_meta *m,
                      trpt_buf *report_id, trpt_buf *file_name)
{
    char day[16], uniq[32];
    int64_t begin;
    int rc;

    if ((rc = check_group(g, m)) < 0)
        return rc;
    trpt_format_day(g->day, day);
    unique_part(g, m, uniq, sizeof(uniq));
    begin = g->day * SECONDS_PER_DAY;
    if (report_id &&
        (rc = trpt_buf_printf(report_id, "%sT00:00:00Z_%s_%s@%s", day,
                              g->policy_domain, uniq, m->submitter_domain)) < 0)
        return rc;
    /* RFC 8460 §5.3: sender!policy-domain!begin!end!unique-id.json.gz */
    if (file_name &&
        (rc = trpt_buf_printf(
             file_name, "%s!%s!%lld!%lld!%s.json.gz", m->submitter_domain,
             g->policy_domain, (long long)begin,
             (long long)(begin + SECONDS_PER_DAY - 1), uniq)) < 0)
        return rc;
    return 0;
}

/* -------------------------------------------------------------- JSON */

#define KEY_FLAGS (FJSON_OBJECT_KEY_IS_CONSTANT | FJSON_OBJECT_ADD_KEY_IS_NEW)

/* Adds value under a constant key; consumes value; NULL means no memory. */
static int put(struct fjson_object *o, const char *key,
               struct fjson_object *value)
{
    if (!value)
        return -ENOMEM;
    fjson_object_object_add_ex(o, key, value, KEY_FLAGS);
    return 0;
}

static int put_string(struct fjson_object *o, const char *key, const char *s)
{
    return put(o, key, fjson_object_new_string(s));
}

/* Optional fields: left out when unknown. */
static int put_string_opt(struct fjson_object *o, const char *key,
                          const char *s)
{
    return s ? put_string(o, key, s) : 0;
}

static int put_count(struct fjson_object *o, const char *key, uint64_t n)
{
    return put(o, key,
               fjson_object_new_int64(n > INT64_MAX ? INT64_MAX : (int64_t)n));
}

/* Arrays of strings (RFC 8460 erratum 6241); left out when empty. */
static int put_string_array(struct fjson_object *o, const char *key,
                            const char *const *v, size_t n)
{
    struct fjson_object *arr;

    if (!n)
        return 0;
    if (!(arr = fjson_object_new_array()))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct fjson_object *s = fjson_object_new_string(v[i]);

        if (!s || fjson_object_array_add(arr, s) < 0) {
            fjson_object_put(s);
            fjson_object_put(arr);
            return -ENOMEM;
        }
    }
    return put(o, key, arr);
}

/* Consumes child; adds it to array arr. */
static int array_add(struct fjson_object *arr, struct fjson_object *child)
{
    if (!child)
        return -ENOMEM;
    if (fjson_object_array_add(arr, child) < 0) {
        fjson_object_put(child);
        return -ENOMEM;
    }
    return 0;
}

/* RFC 8460 §4.4 failure-details entry. */
static struct fjson_object *detail_to_json(const trpt_agg_detail *d)
{
    struct fjson_object *o = fjson_object_new_object();
    int rc;

    if (!o)
        return NULL;
    if ((rc = put_string(o, "result-type", trpt_result_name(d->result))) < 0 ||
        (rc = put_string_opt(o, "sending-mta-ip", d->sending_mta_ip)) < 0 ||
        (rc = put_string_opt(o, "receiving-mx-hostname",
                             d->receiving_mx_hostname)) < 0 ||
        (rc = put_string_opt(o, "receiving-mx-helo", d->receiving_mx_helo)) <
            0 ||
        (rc = put_string_opt(o, "receiving-ip", d->receiving_ip)) < 0 ||
        (rc = put_count(o, "failed-session-count", d->count)) < 0 ||
        (rc = put_string_opt(o, "additional-information",
                             d->additional_information)) < 0 ||
        (rc = put_string_opt(o, "failure-reason-code",
                             d->failure_reason_code)) < 0) {
        fjson_object_put(o);
        return NULL;
    }
    return o;
}

/* RFC 8460 §4.4 "policy" object. */
static struct fjson_object *policy_to_json(const trpt_agg_policy *p,
                                           const char *domain)
{
    struct fjson_object *o = fjson_object_new_object();

    if (!o)
        return NULL;
    if (put_string(o, "policy-type", trpt_policy_type_name(p->type)) < 0 ||
        put_string_array(o, "policy-string", p->policy_strings,
                         p->n_policy_strings) < 0 ||
        put_string(o, "policy-domain", domain) < 0 ||
        put_string_array(o, "mx-host", p->mx_hosts, p->n_mx_hosts) < 0) {
        fjson_object_put(o);
        return NULL;
    }
    return o;
}

static struct fjson_object *summary_to_json(const trpt_agg_policy *p)
{
    struct fjson_object *o = fjson_object_new_object();

    if (!o)
        return NULL;
    if (put_count(o, "total-successful-session-count", p->success) < 0 ||
        put_count(o, "total-failure-session-count", p->failure) < 0) {
        fjson_object_put(o);
        return NULL;
    }
    return o;
}

static int put_details(struct fjson_object *o, const trpt_agg_policy *p)
{
    struct fjson_object *arr;
    int rc = 0;

    if (!p->n_details)
        return 0;
    if (!(arr = fjson_object_new_array()))
        return -ENOMEM;
    for (size_t i = 0; rc == 0 && i < p->n_details; i++)
        rc = array_add(arr, detail_to_json(&p->details[i]));
    if (rc < 0) {
        fjson_object_put(arr);
        return rc;
    }
    return put(o, "failure-details", arr);
}

static struct fjson_object *policy_entry_to_json(const trpt_agg_policy *p,
                                                 const char *domain)
{
    struct fjson_object *o = fjson_object_new_object();

    if (!o)
        return NULL;
    if (put(o, "policy", policy_to_json(p, domain)) < 0 ||
        put(o, "summary", summary_to_json(p)) < 0 || put_details(o, p) < 0) {
        fjson_object_put(o);
        return NULL;
    }
    return o;
}

/* RFC 8460 §4.1: one UTC day, written as 00:00:00Z .. 23:59:59Z. */
static struct fjson_object *date_range_to_json(int64_t day)
{
    struct fjson_object *o = fjson_object_new_object();
    char d[16], start[40], end[40];

    if (!o)
        return NULL;
    trpt_format_day(day, d);
    snprintf(start, sizeof(start), "%sT00:00:00Z", d);
    snprintf(end, sizeof(end), "%sT23:59:59Z", d);
    if (put_string(o, "start-datetime", start) < 0 ||
        put_string(o, "end-datetime", end) < 0) {
        fjson_object_put(o);
        return NULL;
    }
    return o;
}

static struct fjson_object *policies_to_json(const trpt_agg_group *g)
{
    struct fjson_object *arr = fjson_object_new_array();

    for (size_t i = 0; arr && i < g->n_policies; i++)
        if (array_add(arr, policy_entry_to_json(&g->policies[i],
                                                g->policy_domain)) < 0) {
            fjson_object_put(arr);
            return NULL;
        }
    return arr;
}

/* libfastjson writes '/' as "\/" (legal JSON, RFC 8259 §7); large senders
 * write URIs plainly, so do we. Every escape is two characters long at its
 * start, so pairs are copied as they are except "\/". */
static int append_without_slash_escapes(trpt_buf *out, const char *text)
{
    size_t len = strlen(text), k;
    char *dst;
    int rc;

    if ((rc = trpt_buf_reserve(out, len)) < 0)
        return rc;
    dst = out->data + out->len;
    k = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\\' && i + 1 < len) {
            if (text[i + 1] != '/')
                dst[k++] = text[i];
            dst[k++] = text[++i];
        } else {
            dst[k++] = text[i];
        }
    }
    out->len += k;
    out->data[out->len] = '\0';
    return 0;
}

static int build_report(struct fjson_object *o, const trpt_agg_group *g,
                        const trpt_report_meta *m)
{
    trpt_buf id;
    int rc;

    trpt_buf_init(&id);
    if ((rc = trpt_report_names(g, m, &id, NULL)) == 0 &&
        (rc = put_string(o, "organization-name", m->organization_name)) == 0 &&
        (rc = put(o, "date-range", date_range_to_json(g->day))) == 0 &&
        (rc = put_string(o, "contact-info", m->contact_info)) == 0 &&
        (rc = put_string(o, "report-id", id.data)) == 0)
        rc = put(o, "policies", policies_to_json(g));
    trpt_buf_free(&id);
    return rc;
}

int trpt_report_json(const trpt_agg_group *g, const trpt_report_meta *m,
                     int pretty, trpt_buf *out)
{
    struct fjson_object *o;
    const char *text;
    int rc;

    if (!g || !m || !out || !m->organization_name || !m->contact_info)
        return -EINVAL;
    if (g->n_policies && !g->policies)
        return -EINVAL;
    if (!(o = fjson_object_new_object()))
        return -ENOMEM;
    rc = build_report(o, g, m);
    if (rc == 0) {
        text = fjson_object_to_json_string_ext(
            o, pretty ? FJSON_TO_STRING_PRETTY : FJSON_TO_STRING_PLAIN);
        rc = text ? append_without_slash_escapes(out, text) : -ENOMEM;
    }
    fjson_object_put(o);
    return rc;
}

/* -------------------------------------------------------------- gzip */

/* RFC 1952 member with mtime 0 and OS 255 ("unknown"), so equal input gives
 * equal bytes on every host and every day. */
int trpt_report_gzip(const char *data, size_t len, trpt_buf *out)
{
    gz_header header;
    z_stream z;
    size_t start, fed = 0;
    int zr, rc;

    if ((!data && len) || !out)
        return -EINVAL;
    memset(&z, 0, sizeof(z));
    memset(&header, 0, sizeof(header));
    header.os = 255;
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    if (deflateSetHeader(&z, &header) != Z_OK) {
        deflateEnd(&z);
        return -EINVAL;
    }
    start = out->len;
    rc = trpt_buf_reserve(out, deflateBound(&z, len) + 64);
    if (rc < 0) {
        deflateEnd(&z);
        return rc;
    }
    z.next_in = (Bytef *)(uintptr_t)data;
    z.next_out = (Bytef *)out->data + start;
    z.avail_out = (uInt)(out->cap - start - 1);
    /* feed in chunks: avail_in is only a uInt */
    do {
        if (z.avail_in == 0 && fed < len) {
            size_t chunk = len - fed > (1u << 30) ? (1u << 30) : len - fed;

            z.avail_in = (uInt)chunk;
            fed += chunk;
        }
        zr = deflate(&z, fed == len ? Z_FINISH : Z_NO_FLUSH);
    } while (zr == Z_OK);
    if (zr != Z_STREAM_END) {
        deflateEnd(&z);
        out->data[start] = '\0';
        return -EIO;
    }
    out->len = start + z.total_out;
    out->data[out->len] = '\0';
    deflateEnd(&z);
    return 0;
}

/* ------------------------------------------------------------- write */

/* Creates the temporary file; O_EXCL|O_NOFOLLOW refuses to follow or
 * reuse anything already there (a stale temp file of a crash is removed). */
static int create_tmp(int dirfd, const char *tmp, bool *replaced)
{
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = openat(dirfd, tmp, flags, REPORT_MODE);

    *replaced = fd < 0 && errno == EEXIST;
    if (*replaced) {
        if (unlinkat(dirfd, tmp, 0) < 0)
            return -errno;
        fd = openat(dirfd, tmp, flags, REPORT_MODE);
    }
    if (fd < 0)
        return -errno;
    if (fchmod(fd, REPORT_MODE) < 0) { /* whatever the umask */
        int e = -errno;

        close(fd);
        unlinkat(dirfd, tmp, 0);
        return e;
    }
    return fd;
}

/* ------------------------------------------------------------- batch */

/*
 * A day's reports are made durable together: each is written to a
 * temporary file (write-back started at once), then every temporary file
 * is fsynced, then each is renamed to its final name, then the directory
 * is fsynced once. A crash before a rename leaves only a temporary file
 * (removed by the next run, trpt_report_remove_stale); after it, the name
 * holds a complete, synced file. Per report this costs one fsync instead
 * of two, and the fsyncs mostly find their data already on its way (one
 * journal commit serves many files), where publishing one by one waited
 * for two commits per report.
 */
typedef struct batch_file {
    char *tmp;  /* ".<name>.<pid>.tmp" */
    char *name; /* final name */
} batch_file;

struct trpt_report_batch {
    int dirfd;
    batch_file *files;
    size_t n, cap;
    trpt_buf json, gz, name;
};

int trpt_report_batch_open(trpt_report_batch **out, const char *outbox_dir)
{
    trpt_report_batch *b;

    if (!out || !outbox_dir)
        return -EINVAL;
    if (!(b = calloc(1, sizeof(*b))))
        return -ENOMEM;
    b->dirfd = open(outbox_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (b->dirfd < 0) {
        int e = -errno;

        free(b);
        return e;
    }
    trpt_buf_init(&b->json);
    trpt_buf_init(&b->gz);
    trpt_buf_init(&b->name);
    *out = b;
    return 0;
}

/* Notes a temporary file to publish. Two reports of a batch with the same
 * name (only if two TLSRPT records share their 32-bit hash) share the
 * temporary file: the later replaced the earlier, as a rename would. */
static int batch_remember(trpt_report_batch *b, const char *tmp,
                          const char *name, bool replaced)
{
    batch_file *f;

    for (size_t i = 0; replaced && i < b->n; i++)
        if (strcmp(b->files[i].tmp, tmp) == 0)
            return 0;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;

        if (!(f = realloc(b->files, cap * sizeof(*f))))
            return -ENOMEM;
        b->files = f;
        b->cap = cap;
    }
    f = &b->files[b->n];
    f->tmp = strdup(tmp);
    f->name = strdup(name);
    if (!f->tmp || !f->name) {
        free(f->tmp);
        free(f->name);
        return -ENOMEM;
    }
    b->n++;
    return 0;
}

/* The temporary file, written but not synced; its write-back is started
 * (Linux) so that the fsync at commit finds little left to do. *replaced
 * tells whether a file of that name was there (and was removed). */
static int write_tmp(int dirfd, const char *tmp, const trpt_buf *gz,
                     bool *replaced)
{
    int fd = create_tmp(dirfd, tmp, replaced);
    int rc;

    if (fd < 0)
        return fd;
    rc = trpt_write_all(fd, gz->data, gz->len);
#ifdef SYNC_FILE_RANGE_WRITE
    if (rc == 0)
        (void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE); /* a hint */
#endif
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc < 0)
        unlinkat(dirfd, tmp, 0);
    return rc;
}

int trpt_report_batch_add(trpt_report_batch *b, const trpt_agg_group *g,
                          const trpt_report_meta *m)
{
    char tmp[512];
    bool replaced;
    int rc;

    if (!b || !g || !m)
        return -EINVAL;
    trpt_buf_reset(&b->json);
    trpt_buf_reset(&b->gz);
    trpt_buf_reset(&b->name);
    if ((rc = trpt_report_names(g, m, NULL, &b->name)) < 0 ||
        (rc = trpt_report_json(g, m, 0, &b->json)) < 0 ||
        (rc = trpt_report_gzip(b->json.data, b->json.len, &b->gz)) < 0)
        return rc;
    if (snprintf(tmp, sizeof(tmp), ".%s.%ld.tmp", b->name.data,
                 (long)getpid()) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    if ((rc = write_tmp(b->dirfd, tmp, &b->gz, &replaced)) < 0)
        return rc;
    if ((rc = batch_remember(b, tmp, b->name.data, replaced)) < 0)
        unlinkat(b->dirfd, tmp, 0);
    return rc;
}

static int fsync_at(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

/* Every file synced before any is renamed: a name never shows a file
 * whose content could still be lost. */
int trpt_report_batch_commit(trpt_report_batch *b)
{
    size_t done = 0;
    int rc = 0;

    if (!b)
        return -EINVAL;
    for (size_t i = 0; rc == 0 && i < b->n; i++)
        rc = fsync_at(b->dirfd, b->files[i].tmp);
    while (rc == 0 && done < b->n) {
        if (renameat(b->dirfd, b->files[done].tmp, b->dirfd,
                     b->files[done].name) < 0)
            rc = -errno;
        else
            done++;
    }
    if (done == 0)
        return rc;
    if (fsync(b->dirfd) < 0 && rc == 0)
        rc = -errno;
    /* renamed ones are published; the rest are removed by batch_free */
    for (size_t i = 0; i < done; i++) {
        free(b->files[i].tmp);
        free(b->files[i].name);
    }
    memmove(b->files, b->files + done, (b->n - done) * sizeof(*b->files));
    b->n -= done;
    return rc;
}

size_t trpt_report_batch_pending(const trpt_report_batch *b)
{
    return b ? b->n : 0;
}

void trpt_report_batch_free(trpt_report_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++) {
        unlinkat(b->dirfd, b->files[i].tmp, 0);
        free(b->files[i].tmp);
        free(b->files[i].name);
    }
    free(b->files);
    close(b->dirfd);
    trpt_buf_free(&b->json);
    trpt_buf_free(&b->gz);
    trpt_buf_free(&b->name);
    free(b);
}

/* One report: a batch of one. */
int trpt_report_write(const trpt_agg_group *g, const trpt_report_meta *m,
                      const char *outbox_dir, trpt_buf *path_out)
{
    trpt_report_batch *b = NULL;
    int rc;

    if (!g || !m || !outbox_dir)
        return -EINVAL;
    if ((rc = trpt_report_batch_open(&b, outbox_dir)) == 0 &&
        (rc = trpt_report_batch_add(b, g, m)) == 0 &&
        (rc = trpt_report_batch_commit(b)) == 0 && path_out)
        rc = trpt_buf_printf(path_out, "%s/%s", outbox_dir, b->name.data);
    trpt_report_batch_free(b);
    return rc;
}

/* Temporary names are ".<final name>.<pid>.tmp" (trpt_report_batch). */
static int is_stale_tmp(const char *name)
{
    size_t n = strlen(name);

    return name[0] == '.' && n > 5 && strcmp(name + n - 4, ".tmp") == 0;
}

int trpt_report_remove_stale(const char *outbox_dir)
{
    DIR *d = opendir(outbox_dir);
    struct dirent *e;
    int r = 0;

    if (!d)
        return errno == ENOENT ? 0 : -errno;
    while ((e = readdir(d)) != NULL) {
        if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN)
            continue;
        if (is_stale_tmp(e->d_name) && unlinkat(dirfd(d), e->d_name, 0) < 0 &&
            errno != ENOENT)
            r = -errno;
    }
    closedir(d);
    return r;
}
