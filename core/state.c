/* state.c - the aggregator's durable state and run loop; see state.h.
 *
 * State file layout (all integers little-endian):
 *   "TRPTSTAT" | u32 version | u32 reserved (0)
 *   sections:  u32 tag | u64 length | payload
 *     SEGS  u32 n; n x (u16 name_len | name | u64 offset | u8 finished
 *                       | i64 max_day, INT64_MIN when no record yet)
 *     DAYS  i64 forgotten_through; u32 n; n x (i64 day | u32 last_seq)
 *     LATE  u64 late records (cumulative)
 *     AGG.  the aggregator image (trpt_agg_save)
 *   u32 crc32 (zlib) of every byte before it
 * A file that fails any check is refused (-EBADMSG): starting empty would
 * fold the spool a second time. A newer version is refused with -EPROTO.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "fileutil.h"
#include "record.h"
#include "report.h"
#include "spool.h"
#include "timeutil.h"

#define STATE_MAGIC      "TRPTSTAT"
#define STATE_MAGIC_LEN  8
#define STATE_VERSION    1u
#define STATE_HEADER_LEN 16
#define STATE_MAX_BYTES  ((uint64_t)1 << 31) /* absurd beyond 2 GiB */
#define SEG_NAME_MAX     255
#define NO_DAY           INT64_MIN
/* Reported-day entries are kept this many days behind the newest reported
 * day. Older days are "forgotten through": a record for them can no longer
 * get a correct sequence number, so it is counted late and dropped. */
#define REPORTED_RETENTION_DAYS 40
#define US_PER_DAY              (86400 * INT64_C(1000000))

#define TAG(a, b, c, d)                                                        \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 |                \
     (uint32_t)(d) << 24)
#define TAG_SEGS TAG('S', 'E', 'G', 'S')
#define TAG_DAYS TAG('D', 'A', 'Y', 'S')
#define TAG_LATE TAG('L', 'A', 'T', 'E')
#define TAG_AGG  TAG('A', 'G', 'G', '.')

typedef struct state_seg {
    char *name;
    uint64_t offset;
    int finished;
    int64_t max_day;
} state_seg;

typedef struct reported_day {
    int64_t day;
    uint32_t seq;
} reported_day;

struct trpt_state {
    const trpt_config *cfg;
    char *state_path;
    char *tmp_path;
    int lock_fd;
    trpt_agg *agg;
    state_seg *segs; /* sorted by name */
    size_t n_segs;
    reported_day *days; /* sorted by day */
    size_t n_days;
    int64_t forgotten_through; /* days <= this were reported long ago */
    trpt_state_stats stats;
};

static void state_log(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void state_log(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("tlsrpt: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- little-endian encoding ------------------------------------------ */

static int put_u32(trpt_buf *b, uint32_t v)
{
    unsigned char p[4];

    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return trpt_buf_append(b, p, sizeof p);
}

static int put_u64(trpt_buf *b, uint64_t v)
{
    unsigned char p[8];

    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return trpt_buf_append(b, p, sizeof p);
}

static int put_u16(trpt_buf *b, uint16_t v)
{
    unsigned char p[2] = {(unsigned char)v, (unsigned char)(v >> 8)};

    return trpt_buf_append(b, p, sizeof p);
}

typedef struct cursor {
    const unsigned char *p;
    size_t left;
} cursor;

static int get_bytes(cursor *c, size_t n, const unsigned char **out)
{
    if (c->left < n)
        return -EBADMSG;
    *out = c->p;
    c->p += n;
    c->left -= n;
    return 0;
}

static int get_uint(cursor *c, size_t n, uint64_t *v)
{
    const unsigned char *p;
    int r = get_bytes(c, n, &p);

    if (r < 0)
        return r;
    *v = 0;
    for (size_t i = 0; i < n; i++)
        *v |= (uint64_t)p[i] << (8 * i);
    return 0;
}

static uint64_t read_le(const unsigned char *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* ---- segments and reported days --------------------------------------- */

static void segs_free(state_seg *segs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(segs[i].name);
    free(segs);
}

static int seg_cmp(const void *a, const void *b)
{
    return strcmp(((const state_seg *)a)->name, ((const state_seg *)b)->name);
}

static state_seg *seg_find(state_seg *segs, size_t n, const char *name)
{
    state_seg key = {.name = (char *)name};

    return n ? bsearch(&key, segs, n, sizeof *segs, seg_cmp) : NULL;
}

/* A segment name from the state file is distrusted: it is joined to the
 * spool directory, so it must be one plain file name. */
static int seg_name_ok(const unsigned char *p, size_t len)
{
    if (len == 0 || len > SEG_NAME_MAX || p[0] == '.')
        return 0;
    for (size_t i = 0; i < len; i++)
        if (p[i] <= ' ' || p[i] >= 0x7f || p[i] == '/')
            return 0;
    return 1;
}

static reported_day *reported_find(const trpt_state *s, int64_t day)
{
    size_t lo = 0, hi = s->n_days;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (s->days[mid].day == day)
            return &s->days[mid];
        if (s->days[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int day_is_reported(const trpt_state *s, int64_t day)
{
    return day <= s->forgotten_through || reported_find(s, day) != NULL;
}

static uint32_t reported_seq(const trpt_state *s, int64_t day)
{
    const reported_day *d = reported_find(s, day);

    return d ? d->seq : 0;
}

/* Forget entries older than the retention window behind the newest one. */
static void reported_prune(trpt_state *s)
{
    int64_t newest, keep_from;
    size_t drop = 0;

    if (s->n_days == 0)
        return;
    newest = s->days[s->n_days - 1].day;
    keep_from = newest - REPORTED_RETENTION_DAYS;
    while (drop < s->n_days && s->days[drop].day < keep_from)
        drop++;
    if (drop == 0)
        return;
    if (s->days[drop - 1].day > s->forgotten_through)
        s->forgotten_through = s->days[drop - 1].day;
    memmove(s->days, s->days + drop, (s->n_days - drop) * sizeof *s->days);
    s->n_days -= drop;
}

static int reported_set(trpt_state *s, int64_t day, uint32_t seq)
{
    reported_day *d = reported_find(s, day);
    reported_day *nd;
    size_t at = 0;

    if (d) {
        d->seq = seq;
        return 0;
    }
    nd = realloc(s->days, (s->n_days + 1) * sizeof *nd);
    if (!nd)
        return -ENOMEM;
    s->days = nd;
    while (at < s->n_days && s->days[at].day < day)
        at++;
    memmove(s->days + at + 1, s->days + at, (s->n_days - at) * sizeof *nd);
    s->days[at] = (reported_day){day, seq};
    s->n_days++;
    reported_prune(s);
    return 0;
}

/* ---- serialization ----------------------------------------------------- */

static int section_begin(trpt_buf *b, uint32_t tag, size_t *len_at)
{
    int r = put_u32(b, tag);

    *len_at = b->len;
    return r < 0 ? r : put_u64(b, 0);
}

static void section_end(trpt_buf *b, size_t len_at)
{
    uint64_t len = b->len - len_at - 8;

    for (int i = 0; i < 8; i++)
        b->data[len_at + (size_t)i] = (char)(len >> (8 * i));
}

static int encode_segs(const trpt_state *s, trpt_buf *b)
{
    size_t at;
    int r = section_begin(b, TAG_SEGS, &at);

    if (r == 0)
        r = put_u32(b, (uint32_t)s->n_segs);
    for (size_t i = 0; r == 0 && i < s->n_segs; i++) {
        const state_seg *g = &s->segs[i];
        size_t len = strlen(g->name);

        if (len > SEG_NAME_MAX)
            return -ENAMETOOLONG;
        r = put_u16(b, (uint16_t)len);
        if (r == 0)
            r = trpt_buf_append(b, g->name, len);
        if (r == 0)
            r = put_u64(b, g->offset);
        if (r == 0)
            r = trpt_buf_putc(b, g->finished ? 1 : 0);
        if (r == 0)
            r = put_u64(b, (uint64_t)g->max_day);
    }
    if (r == 0)
        section_end(b, at);
    return r;
}

static int encode_days(const trpt_state *s, trpt_buf *b)
{
    size_t at;
    int r = section_begin(b, TAG_DAYS, &at);

    if (r == 0)
        r = put_u64(b, (uint64_t)s->forgotten_through);
    if (r == 0)
        r = put_u32(b, (uint32_t)s->n_days);
    for (size_t i = 0; r == 0 && i < s->n_days; i++) {
        r = put_u64(b, (uint64_t)s->days[i].day);
        if (r == 0)
            r = put_u32(b, s->days[i].seq);
    }
    if (r == 0)
        section_end(b, at);
    return r;
}

static int encode_late_and_agg(const trpt_state *s, trpt_buf *b)
{
    size_t at;
    int r = section_begin(b, TAG_LATE, &at);

    if (r == 0)
        r = put_u64(b, s->stats.late_records);
    if (r < 0)
        return r;
    section_end(b, at);
    r = section_begin(b, TAG_AGG, &at);
    if (r == 0)
        r = trpt_agg_save(s->agg, b);
    if (r == 0)
        section_end(b, at);
    return r;
}

static int state_encode(const trpt_state *s, trpt_buf *b)
{
    int r = trpt_buf_append(b, STATE_MAGIC, STATE_MAGIC_LEN);

    if (r == 0)
        r = put_u32(b, STATE_VERSION);
    if (r == 0)
        r = put_u32(b, 0);
    if (r == 0)
        r = encode_segs(s, b);
    if (r == 0)
        r = encode_days(s, b);
    if (r == 0)
        r = encode_late_and_agg(s, b);
    if (r == 0)
        r = put_u32(b, (uint32_t)crc32_z(0, (const Bytef *)b->data, b->len));
    return r;
}

static int decode_segs(trpt_state *s, cursor *c)
{
    uint64_t n;
    int r = get_uint(c, 4, &n);

    if (r < 0)
        return r;
    /* Each entry takes at least 20 bytes: bound n before allocating. */
    if (n > c->left / 20)
        return -EBADMSG;
    s->segs = calloc(n ? n : 1, sizeof *s->segs);
    if (!s->segs)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        state_seg *g = &s->segs[i];
        const unsigned char *name;
        uint64_t len, fin, day;

        if ((r = get_uint(c, 2, &len)) < 0 ||
            (r = get_bytes(c, len, &name)) < 0)
            return r;
        if (!seg_name_ok(name, len))
            return -EBADMSG;
        g->name = strndup((const char *)name, len);
        if (!g->name)
            return -ENOMEM;
        s->n_segs++;
        if ((r = get_uint(c, 8, &g->offset)) < 0 ||
            (r = get_uint(c, 1, &fin)) < 0 || (r = get_uint(c, 8, &day)) < 0)
            return r;
        if (fin > 1)
            return -EBADMSG;
        g->finished = (int)fin;
        g->max_day = (int64_t)day;
        if (i > 0 && strcmp(s->segs[i - 1].name, g->name) >= 0)
            return -EBADMSG; /* must be sorted, no duplicates */
    }
    return c->left == 0 ? 0 : -EBADMSG;
}

static int decode_days(trpt_state *s, cursor *c)
{
    uint64_t through, n;
    int r;

    if ((r = get_uint(c, 8, &through)) < 0 || (r = get_uint(c, 4, &n)) < 0)
        return r;
    if (n * 12 != c->left)
        return -EBADMSG;
    s->forgotten_through = (int64_t)through;
    s->days = calloc(n ? n : 1, sizeof *s->days);
    if (!s->days)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        uint64_t day, seq;

        if ((r = get_uint(c, 8, &day)) < 0 || (r = get_uint(c, 4, &seq)) < 0)
            return r;
        s->days[i] = (reported_day){(int64_t)day, (uint32_t)seq};
        if (seq == 0 || (i > 0 && s->days[i - 1].day >= (int64_t)day))
            return -EBADMSG;
        s->n_days++;
    }
    return 0;
}

static int decode_section(trpt_state *s, uint32_t tag, cursor *c)
{
    switch (tag) {
    case TAG_SEGS:
        return decode_segs(s, c);
    case TAG_DAYS:
        return decode_days(s, c);
    case TAG_LATE:
        if (c->left != 8)
            return -EBADMSG;
        return get_uint(c, 8, &s->stats.late_records);
    case TAG_AGG: {
        int r = trpt_agg_load(s->agg, (const char *)c->p, c->left);

        return r == -ENOMEM ? r : r < 0 ? -EBADMSG : 0;
    }
    default:
        return 0; /* unknown section of the same version: skip */
    }
}

static int state_check_header(const unsigned char *p, size_t len)
{
    uint64_t version;

    if (len < STATE_HEADER_LEN + 4 ||
        memcmp(p, STATE_MAGIC, STATE_MAGIC_LEN) != 0)
        return -EBADMSG;
    version = read_le(p + STATE_MAGIC_LEN, 4);
    if (version > STATE_VERSION)
        return -EPROTO;
    if (version == 0)
        return -EBADMSG;
    if (read_le(p + len - 4, 4) != crc32_z(0, p, len - 4))
        return -EBADMSG;
    return 0;
}

static int state_decode(trpt_state *s, const unsigned char *p, size_t len)
{
    cursor c = {p + STATE_HEADER_LEN, len - STATE_HEADER_LEN - 4};
    unsigned seen = 0;
    int r = state_check_header(p, len);

    while (r == 0 && c.left > 0) {
        uint64_t tag, slen;
        const unsigned char *body;
        cursor sc;
        unsigned bit;

        if ((r = get_uint(&c, 4, &tag)) < 0 ||
            (r = get_uint(&c, 8, &slen)) < 0 ||
            (r = get_bytes(&c, slen, &body)) < 0)
            break;
        bit = tag == TAG_SEGS   ? 1
              : tag == TAG_DAYS ? 2
              : tag == TAG_LATE ? 4
              : tag == TAG_AGG  ? 8
                                : 0;
        if (seen & bit)
            return -EBADMSG;
        seen |= bit;
        sc = (cursor){body, slen};
        r = decode_section(s, (uint32_t)tag, &sc);
    }
    if (r == 0 && seen != 15)
        r = -EBADMSG;
    return r;
}

/* ---- files ------------------------------------------------------------- */

static int read_whole_file(int fd, unsigned char **out, size_t *len)
{
    struct stat st;
    unsigned char *p;
    size_t got = 0;

    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EBADMSG;
    if ((uint64_t)st.st_size > STATE_MAX_BYTES)
        return -EFBIG;
    p = malloc((size_t)st.st_size + 1);
    if (!p)
        return -ENOMEM;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, p + got, (size_t)st.st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? -errno : -EBADMSG;

            free(p);
            return e;
        }
        got += (size_t)n;
    }
    *out = p;
    *len = got;
    return 0;
}

static int state_load(trpt_state *s)
{
    unsigned char *data = NULL;
    size_t len = 0;
    int fd = open(s->state_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    int r;

    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    r = read_whole_file(fd, &data, &len);
    close(fd);
    if (r == 0)
        r = state_decode(s, data, len);
    free(data);
    if (r == -EBADMSG)
        state_log("%s: state file is corrupt; refusing to start empty "
                  "(that would count the spool again). Move it aside to "
                  "rebuild the counts from the spool.",
                  s->state_path);
    else if (r == -EPROTO)
        state_log("%s: state file was written by a newer version; refusing "
                  "to use it",
                  s->state_path);
    else if (r < 0)
        state_log("%s: cannot load state: %s", s->state_path, strerror(-r));
    return r;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int r = 0;

    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0)
        r = -errno;
    close(fd);
    return r;
}

/* Write tmp, fsync, rename over the state, fsync the directory: a crash
 * leaves the old or the new file, never a mix. */
int trpt_state_save(trpt_state *s)
{
    trpt_buf b;
    int fd, r;

    trpt_buf_init(&b);
    r = state_encode(s, &b);
    if (r < 0)
        goto out;
    fd = open(s->tmp_path,
              O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0) {
        r = -errno;
        goto out;
    }
    r = trpt_write_all(fd, b.data, b.len);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(s->tmp_path, s->state_path) < 0)
        r = -errno;
    if (r == 0)
        r = fsync_dir(s->cfg->state_directory);
out:
    if (r < 0)
        state_log("%s: cannot save state: %s", s->state_path, strerror(-r));
    trpt_buf_free(&b);
    return r;
}

static int ensure_dir(const char *dir)
{
    struct stat st;

    if (mkdir(dir, 0750) == 0)
        return 0;
    if (errno != EEXIST)
        return -errno;
    if (stat(dir, &st) < 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int state_lock(trpt_state *s)
{
    char *path;
    int r = 0;

    if (asprintf(&path, "%s/aggregate.lock", s->cfg->state_directory) < 0)
        return -ENOMEM;
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (s->lock_fd < 0)
        r = -errno;
    else if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0)
        r = errno == EWOULDBLOCK ? -EBUSY : -errno;
    if (r == -EBUSY)
        state_log("%s: another aggregator is running on this state", path);
    else if (r < 0)
        state_log("%s: cannot lock: %s", path, strerror(-r));
    free(path);
    return r;
}

int trpt_state_open(trpt_state **out, const trpt_config *cfg)
{
    trpt_state *s;
    int r;

    *out = NULL;
    if (!cfg || !cfg->state_directory || !cfg->spool_directory)
        return -EINVAL;
    s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->cfg = cfg;
    s->lock_fd = -1;
    s->forgotten_through = NO_DAY;
    if (asprintf(&s->state_path, "%s/aggregate.state", cfg->state_directory) <
            0 ||
        asprintf(&s->tmp_path, "%s/aggregate.state.tmp", cfg->state_directory) <
            0) {
        s->state_path = s->tmp_path = NULL;
        r = -ENOMEM;
        goto fail;
    }
    r = ensure_dir(cfg->state_directory);
    if (r < 0) {
        state_log("%s: %s", cfg->state_directory, strerror(-r));
        goto fail;
    }
    r = state_lock(s);
    if (r == 0)
        r = trpt_agg_new(&s->agg, cfg);
    if (r == 0)
        r = state_load(s);
    if (r < 0)
        goto fail;
    *out = s;
    return 0;
fail:
    trpt_state_free(s);
    return r;
}

/* ---- the pass ---------------------------------------------------------- */

/* Fold record i of the batch the aggregator decoded (r, day: its decode
 * result and day). The record is decoded first because its day decides
 * lateness and the segment's retention; an undecodable payload is counted
 * there as invalid and skipped. */
static int fold_decoded(trpt_state *s, state_seg *g, int r, int64_t day,
                        size_t i)
{
    if (r < 0)
        return r == -ENOMEM ? r : 0;
    if (day <= s->forgotten_through) {
        /* Too late even for a supplementary report (see REPORTED_RETENTION
         * _DAYS): counted, not folded. */
        s->stats.late_records++;
        return 0;
    }
    r = trpt_agg_add_batched(s->agg, i);
    if (r == -ENOMEM)
        return r;
    if (r < 0)
        return 0; /* invalid: counted by agg, skipped */
    if (day > g->max_day)
        g->max_day = day;
    /* design.md, "Days and lateness": folded into a supplementary report */
    if (r == 0 && day_is_reported(s, day))
        s->stats.late_records++;
    return 0;
}

/* Merge the spool listing with the saved positions: new segments start at
 * 0, segments that vanished from the spool are forgotten. Returns 1 when
 * there is no spool directory. */
static int segs_sync_with_spool(trpt_state *s)
{
    char **names = NULL;
    state_seg *segs;
    size_t n = 0;
    int r = trpt_spool_list(s->cfg->spool_directory, &names);

    /* No spool directory yet (no writer ever ran): nothing to read. The
     * saved positions are kept, in case it is only not mounted yet. */
    if (r == -ENOENT)
        return 1;
    if (r < 0)
        return r;
    while (names[n])
        n++;
    segs = calloc(n ? n : 1, sizeof *segs);
    if (!segs) {
        trpt_spool_list_free(names);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        state_seg *old = seg_find(s->segs, s->n_segs, names[i]);

        segs[i] =
            old ? *old
                : (state_seg){.offset = 0, .finished = 0, .max_day = NO_DAY};
        segs[i].name = names[i]; /* take ownership */
        names[i] = NULL;
    }
    trpt_spool_list_free(names);
    qsort(segs, n, sizeof *segs, seg_cmp);
    segs_free(s->segs, s->n_segs);
    s->segs = segs;
    s->n_segs = n;
    return 0;
}

typedef struct pass_ctx {
    uint64_t checkpoint_records;
    uint64_t since_checkpoint;
} pass_ctx;

static void add_reader_stats(trpt_state *s, const trpt_spool_reader *rd)
{
    const trpt_spool_stats *st = trpt_spool_reader_stats(rd);

    s->stats.torn_bytes += st->torn_bytes;
    s->stats.corrupt_bytes += st->corrupt_bytes;
}

/* Payloads read but not folded yet: copies (the reader reuses its buffer),
 * folded TRPT_AGG_BATCH at a time so that the aggregator's lookups of one
 * batch overlap (trpt_agg_decode_batch). */
typedef struct fold_batch {
    trpt_buf data;
    size_t at[TRPT_AGG_BATCH], len[TRPT_AGG_BATCH];
    uint64_t end[TRPT_AGG_BATCH]; /* segment offset after each frame */
    size_t n;
} fold_batch;

static int batch_push(fold_batch *b, const char *p, size_t len, uint64_t end)
{
    int r;

    b->at[b->n] = b->data.len;
    if ((r = trpt_buf_append(&b->data, p, len)) < 0)
        return r;
    b->len[b->n] = len;
    b->end[b->n++] = end;
    return 0;
}

static int batch_fold(trpt_state *s, state_seg *g, pass_ctx *pc, fold_batch *b)
{
    const char *json[TRPT_AGG_BATCH] = {NULL};
    int64_t day[TRPT_AGG_BATCH];
    int rc[TRPT_AGG_BATCH];
    size_t n = b->n;
    int r;

    b->n = 0;
    for (size_t i = 0; i < n; i++)
        json[i] = b->data.data + b->at[i];
    r = trpt_agg_decode_batch(s->agg, json, b->len, n, day, rc);
    for (size_t i = 0; r == 0 && i < n; i++) {
        if ((r = fold_decoded(s, g, rc[i], day[i], i)) < 0)
            break;
        g->offset = b->end[i];
        /* Offsets and counts are saved together, so a kill -9 resumes
         * exactly after the last checkpointed frame. */
        if (pc->checkpoint_records &&
            ++pc->since_checkpoint >= pc->checkpoint_records) {
            pc->since_checkpoint = 0;
            r = trpt_state_save(s);
        }
    }
    trpt_buf_reset(&b->data);
    return r;
}

static int read_segment(trpt_state *s, state_seg *g, pass_ctx *pc)
{
    trpt_spool_reader *rd = NULL;
    fold_batch b = {.n = 0};
    const char *p;
    size_t len;
    int f, r = trpt_spool_reader_open(&rd, s->cfg->spool_directory, g->name,
                                      g->offset);

    if (r == -ENOENT)
        return 0; /* removed meanwhile; forgotten at the next listing */
    if (r < 0)
        return r;
    trpt_buf_init(&b.data);
    while ((r = trpt_spool_reader_next(rd, &p, &len)) == 1) {
        s->stats.frames++;
        r = batch_push(&b, p, len, trpt_spool_reader_offset(rd));
        if (r == 0 && b.n == TRPT_AGG_BATCH)
            r = batch_fold(s, g, pc, &b);
        if (r < 0)
            break;
    }
    /* what was read before an I/O error is folded as it was one by one */
    f = b.n ? batch_fold(s, g, pc, &b) : 0;
    if (r >= 0)
        r = f;
    trpt_buf_free(&b.data);
    if (r == 0) {
        g->offset = trpt_spool_reader_offset(rd);
        g->finished = trpt_spool_reader_finished(rd) == 1;
    }
    add_reader_stats(s, rd);
    trpt_spool_reader_free(rd);
    return r;
}

int trpt_state_pass(trpt_state *s, uint64_t checkpoint_records)
{
    pass_ctx pc = {checkpoint_records, 0};
    int r = segs_sync_with_spool(s);

    if (r == 1)
        return 0;
    for (size_t i = 0; r == 0 && i < s->n_segs; i++)
        if (!s->segs[i].finished)
            r = read_segment(s, &s->segs[i], &pc);
    if (r < 0) {
        state_log("%s: spool pass stopped: %s", s->cfg->spool_directory,
                  strerror(-r));
        if (r != -ENOMEM)
            trpt_state_save(s); /* memory is consistent: keep the progress */
        return r;
    }
    return trpt_state_save(s);
}

/* ---- reports ----------------------------------------------------------- */

typedef struct report_ctx {
    trpt_state *s;
    trpt_report_meta meta;
    FILE *preview;
    trpt_report_batch *batch; /* when writing */
    trpt_buf buf;
} report_ctx;

static int write_group(void *ctx, const trpt_agg_group *g)
{
    report_ctx *rc = ctx;
    int r;

    trpt_buf_reset(&rc->buf);
    if (rc->preview) {
        r = trpt_report_json(g, &rc->meta, 1, &rc->buf);
        if (r == 0 &&
            (fwrite(rc->buf.data, 1, rc->buf.len, rc->preview) != rc->buf.len ||
             fputc('\n', rc->preview) == EOF))
            r = -EIO;
        return r;
    }
    return trpt_report_batch_add(rc->batch, g, &rc->meta);
}

static int agg_has_day(const trpt_state *s, int64_t day)
{
    int64_t *days = NULL;
    size_t n = 0;
    int found = 0;

    if (trpt_agg_days(s->agg, &days, &n) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        found |= days[i] == day;
    free(days);
    return found;
}

/* Publishes a day's batch of reports and counts what was published. */
static int commit_reports(trpt_state *s, trpt_report_batch *b)
{
    size_t n = trpt_report_batch_pending(b);
    int r = trpt_report_batch_commit(b);

    s->stats.reports_written += n - trpt_report_batch_pending(b);
    return r;
}

/* Write one day's reports, or print them to preview. The sequence number
 * is the last reported one + 1: the first report of a day is seq 1, late
 * records make seq 2, 3, ... carrying only themselves (design.md). The
 * reports are written as one batch (report.h): all synced, then all
 * renamed, then the outbox synced once. */
static int emit_day(trpt_state *s, int64_t day, FILE *preview)
{
    report_ctx rc = {.s = s, .preview = preview};
    int r, cr;

    rc.meta.organization_name = s->cfg->organization_name;
    rc.meta.contact_info = s->cfg->contact_info;
    rc.meta.submitter_domain = s->cfg->submitter_domain;
    rc.meta.seq = reported_seq(s, day) + 1;
    trpt_buf_init(&rc.buf);
    if (!preview && s->cfg->outbox_directory) {
        r = ensure_dir(s->cfg->outbox_directory);
        /* We hold the aggregator lock: any temporary file is from a
         * writer that was killed. */
        if (r == 0)
            r = trpt_report_remove_stale(s->cfg->outbox_directory);
        if (r == 0)
            r = trpt_report_batch_open(&rc.batch, s->cfg->outbox_directory);
        if (r < 0)
            goto out;
    } else if (!preview) {
        r = -EINVAL;
        goto out;
    }
    r = trpt_agg_foreach_group(s->agg, day, write_group, &rc);
    if (preview)
        goto out;
    /* Even when a report could not be written (a full outbox), the ones
     * written before it are published: each is whole, and the day stays
     * unreported, so the next run writes all of them again (same names,
     * same content). */
    cr = commit_reports(s, rc.batch);
    if (r == 0)
        r = cr;
    if (r < 0)
        goto out;
    r = reported_set(s, day, rc.meta.seq);
    if (r == 0)
        r = trpt_agg_drop_day(s->agg, day);
out:
    if (r < 0 && !preview) {
        char ymd[11];

        trpt_format_day(day, ymd);
        state_log("cannot write reports for %s: %s", ymd, strerror(-r));
    }
    trpt_report_batch_free(rc.batch); /* removes what was not published */
    trpt_buf_free(&rc.buf);
    return r;
}

/* A segment may go once it is finished and read to its end, and nothing it
 * holds is still waiting to be reported: its newest day is reported and
 * no older day still has unreported counts. Until then it stays, so the
 * counts could be rebuilt from the spool. */
static int seg_removable(const trpt_state *s, const state_seg *g,
                         const int64_t *pending, size_t n_pending)
{
    if (!g->finished)
        return 0;
    if (g->max_day == NO_DAY)
        return 1;
    if (!day_is_reported(s, g->max_day))
        return 0;
    return n_pending == 0 || pending[0] > g->max_day;
}

static int remove_spent_segments(trpt_state *s)
{
    int64_t *pending = NULL;
    size_t n_pending = 0, kept = 0, removed = 0;
    int r = trpt_agg_days(s->agg, &pending, &n_pending);

    if (r < 0)
        return r;
    for (size_t i = 0; i < s->n_segs; i++) {
        state_seg *g = &s->segs[i];

        if (seg_removable(s, g, pending, n_pending)) {
            r = trpt_spool_remove(s->cfg->spool_directory, g->name);
            if (r == 0 || r == -ENOENT) {
                free(g->name);
                s->stats.segments_removed += r == 0;
                removed++;
                continue;
            }
            state_log("%s/%s: cannot remove: %s", s->cfg->spool_directory,
                      g->name, strerror(-r));
        }
        s->segs[kept++] = *g;
    }
    free(pending);
    s->n_segs = kept;
    return removed ? trpt_state_save(s) : 0;
}

/* A day is due once report_delay has passed after its end, (day + 1) *
 * 86400 s UTC (design.md, "Days and lateness"). Absurd days never are. */
static int day_is_due(int64_t day, int64_t now_us, int64_t delay_us)
{
    if (day < -1 || day >= INT64_MAX / US_PER_DAY - 1)
        return 0;
    return (day + 1) * US_PER_DAY <= now_us - delay_us;
}

/* Reports first, then the state save that marks them reported, then the
 * spool deletion. A crash after writing reports but before the save leaves
 * the day unreported with the same counts and sequence number: the next
 * run writes the same file names with the same content again (idempotent,
 * trpt_report_write replaces atomically). Segments are deleted only after
 * the save, so a crash never loses records that are not yet reported. */
int trpt_state_report_due(trpt_state *s, int64_t now_us)
{
    int64_t *days = NULL;
    size_t n = 0, written = 0;
    int64_t delay_us = (int64_t)s->cfg->report_delay * 1000000;
    int r = trpt_agg_days(s->agg, &days, &n);

    for (size_t i = 0; r == 0 && i < n; i++) {
        if (!day_is_due(days[i], now_us, delay_us))
            continue;
        r = emit_day(s, days[i], NULL);
        written++;
    }
    free(days);
    if (written) {
        int sr = trpt_state_save(s);

        if (r == 0)
            r = sr;
        if (sr < 0)
            return r; /* never delete spool that the state does not cover */
    }
    if (r < 0)
        return r;
    return remove_spent_segments(s);
}

int trpt_state_report_day(trpt_state *s, int64_t day, FILE *preview)
{
    int r = agg_has_day(s, day);

    if (r < 0)
        return r;
    if (r == 0)
        return -ENOENT;
    r = emit_day(s, day, preview);
    if (r < 0 || preview)
        return r;
    r = trpt_state_save(s);
    if (r < 0)
        return r;
    return remove_spent_segments(s);
}

trpt_agg *trpt_state_agg(trpt_state *s)
{
    return s->agg;
}

const trpt_state_stats *trpt_state_stats_get(const trpt_state *s)
{
    return &s->stats;
}

void trpt_state_free(trpt_state *s)
{
    if (!s)
        return;
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* releases the flock */
    trpt_agg_free(s->agg);
    segs_free(s->segs, s->n_segs);
    free(s->days);
    free(s->state_path);
    free(s->tmp_path);
    free(s);
}
