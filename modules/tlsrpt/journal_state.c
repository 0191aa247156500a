/* journal_state.c - the restart point of `tlsrpt journal` (journal_state.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "fileutil.h"
#include "journal_state.h"

#define STATE_MAX_BYTES (64 * 1024) /* 256 hosts of 255 bytes fit */
#define STATE_MAGIC     "tlsrpt-journal-state 1"

void jr_state_clear(jr_state *st)
{
    for (size_t i = 0; i < st->nnatives; i++)
        free(st->natives[i]);
    memset(st, 0, sizeof *st);
}

static int is_hex_id(const char *s, size_t n)
{
    if (n != JR_ID_LEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* Unsigned decimal or hex (base), the whole of [s, s+n), no sign, no
 * overflow. */
static int parse_u64(const char *s, size_t n, int base, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0 || n > 20)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned d;
        char c = s[i];

        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            return -EINVAL;
        if (v > (UINT64_MAX - d) / (unsigned)base)
            return -ERANGE;
        v = v * (unsigned)base + d;
    }
    *out = v;
    return 0;
}

int jr_cursor_parse(const char *cursor, char id[JR_ID_LEN + 1],
                    uint64_t *seqnum)
{
    int have_s = 0, have_i = 0;

    for (const char *p = cursor; p && *p;) {
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);

        if (n > 2 && p[0] == 's' && p[1] == '=') {
            if (!is_hex_id(p + 2, n - 2))
                return -EINVAL;
            memcpy(id, p + 2, JR_ID_LEN);
            id[JR_ID_LEN] = '\0';
            have_s = 1;
        } else if (n > 2 && p[0] == 'i' && p[1] == '=') {
            if (parse_u64(p + 2, n - 2, 16, seqnum) < 0)
                return -EINVAL;
            have_i = 1;
        }
        p = end ? end + 1 : NULL;
    }
    return have_s && have_i ? 0 : -EINVAL;
}

void jr_state_cursor(const jr_state *st, char *buf)
{
    snprintf(buf, JR_CURSOR_MAX, "s=%s;i=%" PRIx64, st->seqnum_id, st->restart);
}

/* ---- load --------------------------------------------------------------- */

/* A host as the parser keeps it: 1..255 bytes, printable, no spaces. */
static int host_ok(const char *s, size_t n)
{
    if (n == 0 || n > 255)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
            return 0;
    return 1;
}

static int parse_line(jr_state *st, const char *key, size_t klen,
                      const char *val, size_t vlen)
{
    uint64_t v;
    const char *dot;

#define KEY(k) (klen == sizeof(k) - 1 && memcmp(key, k, klen) == 0)
    if (KEY("cursor")) {
        char tmp[JR_CURSOR_MAX];

        if (vlen >= sizeof tmp)
            return -EBADMSG;
        memcpy(tmp, val, vlen);
        tmp[vlen] = '\0';
        if (jr_cursor_parse(tmp, st->seqnum_id, &st->restart) < 0)
            return -EBADMSG;
        st->valid = 1;
    } else if (KEY("fed")) {
        if (parse_u64(val, vlen, 10, &st->fed) < 0)
            return -EBADMSG;
    } else if (KEY("hw")) {
        dot = memchr(val, '.', vlen);
        if (!dot || parse_u64(val, (size_t)(dot - val), 10, &st->hw_offset) ||
            parse_u64(dot + 1, vlen - (size_t)(dot + 1 - val), 10, &v) ||
            v > UINT_MAX)
            return -EBADMSG;
        st->hw_sub = (unsigned)v;
        st->have_hw = 1;
    } else if (KEY("gaps")) {
        if (parse_u64(val, vlen, 10, &st->gaps) < 0)
            return -EBADMSG;
    } else if (KEY("native")) {
        if (!host_ok(val, vlen) || st->nnatives == JR_MAX_NATIVES)
            return -EBADMSG;
        if (!(st->natives[st->nnatives] = strndup(val, vlen)))
            return -ENOMEM;
        st->nnatives++;
    } else {
        return -EBADMSG; /* a newer format or damage: do not guess */
    }
#undef KEY
    return 0;
}

static int parse_state(jr_state *st, char *text, size_t len)
{
    char *p = text, *end = text + len;
    int first = 1, r;

    if (memchr(text, '\0', len))
        return -EBADMSG;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *sp;

        if (!nl)
            return -EBADMSG; /* every line ends in '\n': not truncated */
        *nl = '\0';
        if (first) {
            if (strcmp(p, STATE_MAGIC) != 0)
                return -EBADMSG;
            first = 0;
        } else if (!(sp = strchr(p, ' '))) {
            return -EBADMSG;
        } else if ((r = parse_line(st, p, (size_t)(sp - p), sp + 1,
                                   (size_t)(nl - sp - 1))) < 0) {
            return r;
        }
        p = nl + 1;
    }
    if (first || !st->valid || (st->have_hw && st->hw_offset > st->fed) ||
        st->restart > st->fed)
        return -EBADMSG;
    return 0;
}

int jr_state_load(const char *path, jr_state *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char *buf;
    ssize_t n;
    int r;

    memset(st, 0, sizeof *st);
    if (fd < 0)
        return -errno;
    buf = malloc(STATE_MAX_BYTES + 1);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    n = read(fd, buf, STATE_MAX_BYTES + 1);
    r = n < 0 ? -errno : 0;
    close(fd);
    if (r == 0 && (n == 0 || n > STATE_MAX_BYTES))
        r = -EBADMSG;
    if (r == 0)
        r = parse_state(st, buf, (size_t)n);
    free(buf);
    if (r < 0)
        jr_state_clear(st);
    return r;
}

/* ---- save --------------------------------------------------------------- */

static int format_state(const jr_state *st, char *buf, size_t cap)
{
    char cursor[JR_CURSOR_MAX];
    size_t n;
    int k;

    jr_state_cursor(st, cursor);
    k = snprintf(buf, cap, "%s\ncursor %s\nfed %" PRIu64 "\ngaps %" PRIu64 "\n",
                 STATE_MAGIC, cursor, st->fed, st->gaps);
    if (k < 0 || (size_t)k >= cap)
        return -ENOSPC;
    n = (size_t)k;
    if (st->have_hw) {
        k = snprintf(buf + n, cap - n, "hw %" PRIu64 ".%u\n", st->hw_offset,
                     st->hw_sub);
        if (k < 0 || (size_t)k >= cap - n)
            return -ENOSPC;
        n += (size_t)k;
    }
    for (size_t i = 0; i < st->nnatives; i++) {
        if (!host_ok(st->natives[i], strlen(st->natives[i])))
            continue; /* cannot be written back unambiguously */
        k = snprintf(buf + n, cap - n, "native %s\n", st->natives[i]);
        if (k < 0 || (size_t)k >= cap - n)
            return -ENOSPC;
        n += (size_t)k;
    }
    return (int)n;
}

int jr_state_save(const char *path, const jr_state *st)
{
    char *buf = malloc(STATE_MAX_BYTES);
    int len, r;

    if (!buf)
        return -ENOMEM;
    if ((len = format_state(st, buf, STATE_MAX_BYTES)) < 0)
        r = len;
    else
        r = trpt_write_file_atomic(path, buf, (size_t)len, 0640);
    free(buf);
    return r;
}

int jr_state_lock(const char *path)
{
    char lock[PATH_MAX];
    int fd;

    if (snprintf(lock, sizeof lock, "%s.lock", path) >= (int)sizeof lock)
        return -ENAMETOOLONG;
    fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int r = -errno;

        close(fd);
        return r;
    }
    return fd;
}
