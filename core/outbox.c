/*
 * outbox.c - per-report delivery state files (outbox.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fileutil.h"
#include "outbox.h"

#define STATE_DIR      "delivery"
#define STATE_MAGIC    "opentlsrpt-delivery 1"
#define MAX_DESTS      64
#define MAX_TEXT       300
#define MAX_STATE_FILE (64 * 1024)
#define US_PER_S       1000000LL

const char *trpt_dest_state_name(trpt_dest_state s)
{
    switch (s) {
    case TRPT_DEST_PENDING:
        return "pending";
    case TRPT_DEST_SENT:
        return "sent";
    case TRPT_DEST_GIVEN_UP:
        return "given-up";
    }
    return "unknown";
}

void trpt_outbox_schedule_defaults(trpt_outbox_schedule *s)
{
    if (!s->grace_us)
        s->grace_us = 3600 * US_PER_S;
    if (!s->spread_us)
        s->spread_us = 4 * 3600 * US_PER_S;
    if (!s->base_us)
        s->base_us = 300 * US_PER_S;
    if (!s->cap_us)
        s->cap_us = 4 * 3600 * US_PER_S;
    if (!s->give_up_us)
        s->give_up_us = 24 * 3600 * US_PER_S;
}

/* FNV-1a 64 (public domain algorithm): spreads names over the schedule. */
static uint64_t name_hash(const char *s, uint64_t extra)
{
    uint64_t h = 1469598103934665603ULL ^ extra;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* A report file name as the aggregator writes it: no path, no hidden or
 * temporary file, ends in .json.gz. */
static int report_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;

    return n > 8 && n < 250 && name[0] != '.' && !strchr(name, '/') &&
           strcmp(name + n - 8, ".json.gz") == 0;
}

/* RFC 8460 §5.3: submitter!policy-domain!begin!end[!unique].json.gz. */
int trpt_outbox_first_try(const char *report, const trpt_outbox_schedule *s,
                          int64_t *first_us)
{
    trpt_outbox_schedule d = s ? *s : (trpt_outbox_schedule){0};
    const char *p = report;
    char *end;
    long long until;

    if (!report_name_ok(report) || !first_us)
        return -EINVAL;
    trpt_outbox_schedule_defaults(&d);
    for (int bangs = 0; bangs < 3; bangs++) {
        if (!(p = strchr(p, '!')))
            return -EINVAL;
        p++;
    }
    errno = 0;
    until = strtoll(p, &end, 10);
    if (errno || end == p || (*end != '!' && *end != '.') || until < 0 ||
        until > 253402300799LL)
        return -EINVAL;
    *first_us = (until + 1) * US_PER_S + d.grace_us +
                (int64_t)(name_hash(report, 0) % (uint64_t)d.spread_us);
    return 0;
}

/* --- the entry ------------------------------------------------------------ */

void trpt_outbox_entry_free(trpt_outbox_entry *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_dest; i++) {
        free(e->dest[i].uri);
        free(e->dest[i].last_error);
    }
    free(e->dest);
    free(e->no_dest_why);
    free(e->report);
    free(e);
}

/* One line of printable ASCII, at most MAX_TEXT bytes. */
static char *clean_text(const char *s)
{
    size_t n = 0;
    char *out;

    if (!s)
        return NULL;
    if (!(out = malloc(MAX_TEXT + 1)))
        return NULL;
    for (; *s && n < MAX_TEXT; s++)
        out[n++] = (*s >= ' ' && *s < 0x7f) ? *s : '?';
    out[n] = '\0';
    return out;
}

/* A destination URI: printable ASCII without spaces. */
static int uri_ok(const char *u)
{
    size_t n = u ? strlen(u) : 0;

    if (n == 0 || n > 2048)
        return 0;
    for (; *u; u++)
        if (*u <= ' ' || *u >= 0x7f)
            return 0;
    return 1;
}

int trpt_outbox_resolve(trpt_outbox_entry *e, const char *const *uris, size_t n,
                        const char *no_dest_why)
{
    if (!e || e->resolved || n > MAX_DESTS || (n && !uris))
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!uri_ok(uris[i]))
            return -EINVAL;
    if (n && !(e->dest = calloc(n, sizeof *e->dest)))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!(e->dest[i].uri = strdup(uris[i])))
            return -ENOMEM;
        e->dest[i].next_us = e->first_us;
        e->n_dest = i + 1;
    }
    if (n == 0 && !(e->no_dest_why = clean_text(
                        no_dest_why ? no_dest_why : "no destination")))
        return -ENOMEM;
    e->resolved = 1;
    return 0;
}

/* base * 2^(attempts-1), capped, +-20 % from the name and attempt. */
static int64_t retry_delay(const trpt_outbox_entry *e, unsigned attempts,
                           const trpt_outbox_schedule *s)
{
    int64_t d = s->base_us;
    uint64_t h = name_hash(e->report, attempts);

    for (unsigned i = 1; i < attempts && d < s->cap_us; i++)
        d *= 2;
    if (d > s->cap_us)
        d = s->cap_us;
    return d - d / 5 + (int64_t)(h % (uint64_t)(2 * (d / 5) + 1));
}

int trpt_outbox_record(trpt_outbox_entry *e, size_t i, int ok, int retryable,
                       const char *error, int64_t now_us,
                       const trpt_outbox_schedule *sched)
{
    trpt_outbox_schedule s = sched ? *sched : (trpt_outbox_schedule){0};
    trpt_outbox_dest *d;

    if (!e || i >= e->n_dest || e->dest[i].state != TRPT_DEST_PENDING)
        return -EINVAL;
    trpt_outbox_schedule_defaults(&s);
    d = &e->dest[i];
    d->attempts++;
    free(d->last_error);
    d->last_error = NULL;
    if (ok) {
        d->state = TRPT_DEST_SENT;
        d->done_us = now_us;
        return 0;
    }
    if (!(d->last_error = clean_text(error ? error : "failed")))
        return -ENOMEM;
    d->next_us = now_us + retry_delay(e, d->attempts, &s);
    if (!retryable || d->next_us > e->first_us + s.give_up_us) {
        d->state = TRPT_DEST_GIVEN_UP;
        d->done_us = now_us;
    }
    return 0;
}

int64_t trpt_outbox_next_due(const trpt_outbox_entry *e)
{
    int64_t next = INT64_MAX;

    if (!e)
        return next;
    if (!e->resolved)
        return e->first_us;
    for (size_t i = 0; i < e->n_dest; i++)
        if (e->dest[i].state == TRPT_DEST_PENDING && e->dest[i].next_us < next)
            next = e->dest[i].next_us;
    return next;
}

int trpt_outbox_finished(const trpt_outbox_entry *e)
{
    return e && trpt_outbox_next_due(e) == INT64_MAX;
}

/* --- listing ------------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void trpt_outbox_reports_free(char **names)
{
    if (!names)
        return;
    for (size_t i = 0; names[i]; i++)
        free(names[i]);
    free(names);
}

int trpt_outbox_reports(const char *dir, char ***names)
{
    DIR *d;
    struct dirent *de;
    char **v = NULL;
    size_t n = 0, cap = 0;
    int r = 0;

    if (!dir || !names)
        return -EINVAL;
    *names = NULL;
    if (!(d = opendir(dir)))
        return -errno;
    while ((de = readdir(d))) {
        struct stat st;

        if (!report_name_ok(de->d_name) ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (n + 2 > cap) {
            size_t ncap = cap ? 2 * cap : 64;
            char **nv = realloc(v, ncap * sizeof *v);

            if (!nv) {
                r = -ENOMEM;
                break;
            }
            v = nv;
            cap = ncap;
        }
        if (!(v[n] = strdup(de->d_name))) {
            r = -ENOMEM;
            break;
        }
        v[++n] = NULL;
    }
    closedir(d);
    if (r < 0 || !v) {
        if (v)
            v[n] = NULL;
        trpt_outbox_reports_free(v);
        if (r < 0)
            return r;
        v = calloc(1, sizeof *v);
        if (!v)
            return -ENOMEM;
    }
    qsort(v, n, sizeof *v, cmp_names);
    *names = v;
    return 0;
}

/* --- the state file ------------------------------------------------------- */

static int state_path(char *out, size_t len, const char *dir,
                      const char *report, const char *suffix)
{
    int n = snprintf(out, len, "%s/" STATE_DIR "/%s%s", dir, report, suffix);

    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int parse_i64(const char *s, int64_t *v, char **end)
{
    errno = 0;
    *v = strtoll(s, end, 10);
    return errno || *end == s ? -EBADMSG : 0;
}

static int parse_dest_line(trpt_outbox_entry *e, char *s)
{
    static const char *const names[] = {"pending", "sent", "given-up"};
    trpt_outbox_dest *d, *nv;
    int64_t attempts, next, done;
    char *p, *end;
    size_t k;

    if (e->n_dest >= MAX_DESTS)
        return -EBADMSG;
    for (k = 0; k < 3; k++)
        if (strncmp(s, names[k], strlen(names[k])) == 0 &&
            s[strlen(names[k])] == ' ')
            break;
    if (k == 3)
        return -EBADMSG;
    p = s + strlen(names[k]) + 1;
    if (parse_i64(p, &attempts, &end) < 0 || *end != ' ' || attempts < 0 ||
        attempts > 100000 || parse_i64(end + 1, &next, &end) < 0 ||
        *end != ' ' || parse_i64(end + 1, &done, &end) < 0 || *end != ' ' ||
        !uri_ok(end + 1))
        return -EBADMSG;
    if (!(nv = realloc(e->dest, (e->n_dest + 1) * sizeof *nv)))
        return -ENOMEM;
    e->dest = nv;
    d = &e->dest[e->n_dest];
    memset(d, 0, sizeof *d);
    if (!(d->uri = strdup(end + 1)))
        return -ENOMEM;
    d->state = (trpt_dest_state)k;
    d->attempts = (unsigned)attempts;
    d->next_us = next;
    d->done_us = done;
    e->n_dest++;
    return 0;
}

static int parse_line(trpt_outbox_entry *e, char *line, int *seen_report)
{
    int64_t v;
    char *end;

    if (strncmp(line, "report ", 7) == 0) {
        if (strcmp(line + 7, e->report) != 0)
            return -EBADMSG; /* a state file of another report */
        *seen_report = 1;
        return 0;
    }
    if (strncmp(line, "first ", 6) == 0) {
        if (parse_i64(line + 6, &v, &end) < 0 || *end)
            return -EBADMSG;
        e->first_us = v;
        return 0;
    }
    if (strcmp(line, "resolved 1") == 0 || strcmp(line, "resolved 0") == 0) {
        e->resolved = line[9] == '1';
        return 0;
    }
    if (strncmp(line, "none ", 5) == 0) {
        free(e->no_dest_why);
        return (e->no_dest_why = clean_text(line + 5)) ? 0 : -ENOMEM;
    }
    if (strncmp(line, "dest ", 5) == 0)
        return parse_dest_line(e, line + 5);
    if (strncmp(line, "error ", 6) == 0) {
        if (parse_i64(line + 6, &v, &end) < 0 || *end != ' ' || v < 0 ||
            (size_t)v >= e->n_dest)
            return -EBADMSG;
        free(e->dest[v].last_error);
        return (e->dest[v].last_error = clean_text(end + 1)) ? 0 : -ENOMEM;
    }
    return -EBADMSG;
}

/* Parses a state file's text (len bytes, buf[len] writable) into e. */
static int parse_state(trpt_outbox_entry *e, char *buf, size_t len)
{
    char *line, *next;
    int seen_report = 0, r = 0;

    buf[len] = '\0';
    if (memchr(buf, '\0', len) ||
        strncmp(buf, STATE_MAGIC "\n", strlen(STATE_MAGIC) + 1) != 0)
        return -EBADMSG;
    for (line = buf + strlen(STATE_MAGIC) + 1; r == 0 && *line; line = next) {
        if (!(next = strchr(line, '\n')))
            return -EBADMSG; /* every line ends in a newline */
        *next++ = '\0';
        r = parse_line(e, line, &seen_report);
    }
    if (r == 0 && (!seen_report ||
                   e->resolved != (e->n_dest > 0 || e->no_dest_why != NULL)))
        r = -EBADMSG;
    return r;
}

static int read_state(const char *path, trpt_outbox_entry *e)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    char *buf;
    ssize_t n;
    int r;

    if (fd < 0)
        return -errno;
    if (!(buf = malloc(MAX_STATE_FILE + 1))) {
        close(fd);
        return -ENOMEM;
    }
    n = read(fd, buf, MAX_STATE_FILE + 1);
    close(fd);
    if (n < 0 || n > MAX_STATE_FILE)
        r = n < 0 ? -EIO : -EFBIG;
    else
        r = parse_state(e, buf, (size_t)n);
    free(buf);
    return r;
}

static trpt_outbox_entry *new_entry(const char *report)
{
    trpt_outbox_entry *e = calloc(1, sizeof *e);

    if (e && !(e->report = strdup(report))) {
        free(e);
        e = NULL;
    }
    return e;
}

int trpt_outbox_parse(const char *report, const char *text, size_t len,
                      trpt_outbox_entry **out)
{
    trpt_outbox_entry *e;
    char *buf;
    int r;

    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!report_name_ok(report) || !text || len > MAX_STATE_FILE)
        return -EINVAL;
    if (!(e = new_entry(report)) || !(buf = malloc(len + 1))) {
        trpt_outbox_entry_free(e);
        return -ENOMEM;
    }
    memcpy(buf, text, len);
    r = parse_state(e, buf, len);
    free(buf);
    if (r < 0) {
        trpt_outbox_entry_free(e);
        return r;
    }
    *out = e;
    return 0;
}

int trpt_outbox_load(const char *dir, const char *report,
                     const trpt_outbox_schedule *s, trpt_outbox_entry **out)
{
    char path[4096];
    trpt_outbox_entry *e;
    int r;

    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!dir || !report_name_ok(report))
        return -EINVAL;
    if ((r = state_path(path, sizeof path, dir, report, ".state")) < 0)
        return r;
    if (!(e = new_entry(report)))
        return -ENOMEM;
    r = read_state(path, e);
    if (r == -ENOENT) /* never tried: a fresh entry */
        r = trpt_outbox_first_try(report, s, &e->first_us);
    if (r < 0) {
        trpt_outbox_entry_free(e);
        return r;
    }
    *out = e;
    return 0;
}

static int format_state(const trpt_outbox_entry *e, trpt_buf *b)
{
    int r = trpt_buf_printf(
        b, STATE_MAGIC "\nreport %s\nfirst %" PRId64 "\nresolved %d\n",
        e->report, e->first_us, e->resolved);

    if (r == 0 && e->no_dest_why)
        r = trpt_buf_printf(b, "none %s\n", e->no_dest_why);
    for (size_t i = 0; r == 0 && i < e->n_dest; i++) {
        const trpt_outbox_dest *d = &e->dest[i];

        r = trpt_buf_printf(b, "dest %s %u %" PRId64 " %" PRId64 " %s\n",
                            trpt_dest_state_name(d->state), d->attempts,
                            d->next_us, d->done_us, d->uri);
        if (r == 0 && d->last_error)
            r = trpt_buf_printf(b, "error %zu %s\n", i, d->last_error);
    }
    return r;
}

int trpt_outbox_save(const char *dir, const trpt_outbox_entry *e)
{
    char sdir[4096], path[4200];
    trpt_buf b;
    int r;

    if (!dir || !e || !report_name_ok(e->report))
        return -EINVAL;
    if (snprintf(sdir, sizeof sdir, "%s/" STATE_DIR, dir) >= (int)sizeof sdir)
        return -ENAMETOOLONG;
    if (mkdir(sdir, 0750) < 0 && errno != EEXIST)
        return -errno;
    if ((r = state_path(path, sizeof path, dir, e->report, ".state")) < 0)
        return r;
    trpt_buf_init(&b);
    if ((r = format_state(e, &b)) == 0)
        r = trpt_write_file_atomic(path, b.data, b.len, 0640);
    trpt_buf_free(&b);
    return r;
}
