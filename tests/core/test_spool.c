/* test_spool.c - the local spool: framing, torn tails, corruption,
 * concurrency, roll-over, write failures and hostile directory contents. */
#include "harness.h"
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <zlib.h>

#define HEADER_LEN 8u
#define FRAME_HEAD 12u

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */

static const char *spool_dir(const char *sub)
{
    static char path[4][4200];
    static int next;
    char *p = path[next++ % 4];

    snprintf(p, sizeof path[0], "%s/%s", test_tmpdir(), sub);
    mkdir(p, 0750);
    return p;
}

static size_t make_record(char *buf, size_t cap, int w, int i, size_t pad)
{
    int n = snprintf(buf, cap, "{\"w\":%d,\"i\":%d,\"pad\":\"", w, i);
    size_t len = (size_t)n;

    for (size_t k = 0; k < pad && len + 3 < cap; k++)
        buf[len++] = (char)('a' + (i + (int)k) % 26);
    buf[len++] = '"';
    buf[len++] = '}';
    buf[len] = '\0';
    return len;
}

static int record_id(const char *p, size_t len, int *w, int *i)
{
    char tmp[64];
    size_t n = len < sizeof tmp - 1 ? len : sizeof tmp - 1;

    memcpy(tmp, p, n);
    tmp[n] = '\0';
    return sscanf(tmp, "{\"w\":%d,\"i\":%d", w, i) == 2;
}

static void le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* An independent encoder: what spool.h documents, byte for byte. */
static size_t encode_frame(unsigned char *out, const void *payload,
                           uint32_t len)
{
    static const unsigned char sync[4] = {0x31, 0x46, 0x52, 0x54};

    memcpy(out, sync, 4);
    le32(out + 4, len);
    le32(out + 8, (uint32_t)crc32(crc32(0L, out + 4, 4), payload, len));
    memcpy(out + FRAME_HEAD, payload, len);
    return FRAME_HEAD + len;
}

static int write_file(const char *dir, const char *name, const void *data,
                      size_t len)
{
    char path[4200];
    int fd;
    ssize_t n;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return -errno;
    n = len ? write(fd, data, len) : 0;
    close(fd);
    return n == (ssize_t)len ? 0 : -EIO;
}

static unsigned char *read_whole(const char *dir, const char *name, size_t *len)
{
    char path[4200];
    struct stat st;
    unsigned char *p;
    int fd;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    p = malloc((size_t)st.st_size + 1);
    *len = p ? (size_t)pread(fd, p, (size_t)st.st_size, 0) : 0;
    close(fd);
    return p;
}

static int append_raw(const char *dir, const char *name, const void *data,
                      size_t len)
{
    char path[4200];
    int fd;
    ssize_t n;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    n = write(fd, data, len);
    close(fd);
    return n == (ssize_t)len ? 0 : -EIO;
}

static off_t file_size(const char *dir, const char *name)
{
    char path[4200];
    struct stat st;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static size_t count_names(char **names)
{
    size_t n = 0;

    while (names && names[n])
        n++;
    return n;
}

/* The name of the one segment in dir, or "" if there is not exactly one. */
static const char *only_segment(const char *dir)
{
    static char name[256];
    char **names = NULL;

    name[0] = '\0';
    if (trpt_spool_list(dir, &names) == 0 && count_names(names) == 1)
        snprintf(name, sizeof name, "%s", names[0]);
    trpt_spool_list_free(names);
    return name;
}

/* Everything a reader returned from one or more segments. */
typedef struct readback {
    size_t n;
    char **p;
    size_t *len;
    trpt_spool_stats st;
    uint64_t off;
    int finished;
    int rc;
} readback;

static void readback_push(readback *rb, const char *p, size_t len)
{
    rb->p = realloc(rb->p, (rb->n + 1) * sizeof *rb->p);
    rb->len = realloc(rb->len, (rb->n + 1) * sizeof *rb->len);
    rb->p[rb->n] = malloc(len + 1);
    memcpy(rb->p[rb->n], p, len);
    rb->p[rb->n][len] = '\0';
    rb->len[rb->n++] = len;
}

/* Read a segment from off until the reader says "no more now". */
static void readback_segment(readback *rb, const char *dir, const char *name,
                             uint64_t off)
{
    trpt_spool_reader *r = NULL;
    const trpt_spool_stats *st;
    const char *p;
    size_t len;
    int rc;

    rc = trpt_spool_reader_open(&r, dir, name, off);
    if (rc < 0) {
        rb->rc = rc;
        return;
    }
    while ((rc = trpt_spool_reader_next(r, &p, &len)) == 1)
        readback_push(rb, p, len);
    if (rc < 0)
        rb->rc = rc;
    st = trpt_spool_reader_stats(r);
    rb->st.frames += st->frames;
    rb->st.torn_bytes += st->torn_bytes;
    rb->st.corrupt_bytes += st->corrupt_bytes;
    rb->st.corrupt_frames += st->corrupt_frames;
    rb->off = trpt_spool_reader_offset(r);
    rb->finished = trpt_spool_reader_finished(r);
    trpt_spool_reader_free(r);
}

static void readback_dir(readback *rb, const char *dir)
{
    char **names = NULL;

    rb->rc = trpt_spool_list(dir, &names);
    for (size_t i = 0; names && names[i]; i++)
        readback_segment(rb, dir, names[i], 0);
    trpt_spool_list_free(names);
}

static void readback_free(readback *rb)
{
    for (size_t i = 0; i < rb->n; i++)
        free(rb->p[i]);
    free(rb->p);
    free(rb->len);
    memset(rb, 0, sizeof *rb);
}

/* Write records 0..n-1 of writer w, `per_commit` per commit. */
static int write_records(const char *dir, int w, int n, int per_commit,
                         const trpt_spool_writer_config *cfg)
{
    trpt_spool_writer *wr = NULL;
    char rec[512];
    int rc = trpt_spool_writer_open(&wr, dir, cfg);

    for (int i = 0; rc == 0 && i < n; i++) {
        size_t len = make_record(rec, sizeof rec, w, i, (size_t)(i % 97));

        rc = trpt_spool_writer_append(wr, rec, len);
        if (rc == 0 && (i + 1) % per_commit == 0)
            rc = trpt_spool_writer_commit(wr);
    }
    if (wr) {
        int rc2 = trpt_spool_writer_close(wr);

        if (rc == 0)
            rc = rc2;
    }
    return rc;
}

/* Records of writer w must be exactly 0..n-1, in order. */
static int check_sequence(const readback *rb, int w, int n)
{
    int next = 0;

    for (size_t k = 0; k < rb->n; k++) {
        char rec[512];
        int ww, i;

        if (!record_id(rb->p[k], rb->len[k], &ww, &i) || ww != w)
            continue;
        if (i != next)
            return 0;
        if (make_record(rec, sizeof rec, w, i, (size_t)(i % 97)) !=
                rb->len[k] ||
            memcmp(rec, rb->p[k], rb->len[k]) != 0)
            return 0;
        next++;
    }
    return next == n;
}

static int hold_lock(const char *dir, const char *name)
{
    char path[4200];
    int fd;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

#define NAME_A "seg-0000000000000001-1-00000001.tsp"
#define NAME_B "seg-0000000000000002-1-00000001.tsp"

/* ---------------------------------------------------------------------- */
/* Format                                                                  */

TEST(segment_file_layout_matches_the_documented_format)
{
    const char *dir = spool_dir("s");
    trpt_spool_writer *w = NULL;
    unsigned char expect[64];
    unsigned char *got;
    size_t n = 0, len = 0;
    char path[4200];
    struct stat st;
    const char *name;
    int fd;

    umask(022);
    ASSERT(trpt_spool_writer_open(&w, dir, NULL) == 0);
    ASSERT(trpt_spool_writer_append(w, "hello", 5) == 0);
    ASSERT(trpt_spool_writer_append(w, "{}", 2) == 0);
    EXPECT_EQ(trpt_spool_writer_commit(w), 0);
    name = only_segment(dir);
    ASSERT(name[0]);
    /* seg-<16 hex>-<pid>-<8 hex>.tsp */
    {
        char want[64];
        unsigned long long usec;
        unsigned rnd;
        int pid;

        EXPECT(sscanf(name, "seg-%16llx-%d-%8x.tsp", &usec, &pid, &rnd) == 3);
        EXPECT_EQ(pid, getpid());
        snprintf(want, sizeof want, "seg-%016llx-%d-%08x.tsp", usec, pid, rnd);
        EXPECT_STREQ(name, want);
        EXPECT(usec > 1600000000ull * 1000000ull);
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ASSERT(stat(path, &st) == 0);
    EXPECT_EQ(st.st_mode & 0777, 0640);
    /* The writer holds the segment's lock while it lives. */
    fd = open(path, O_RDONLY | O_CLOEXEC);
    EXPECT(fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK);
    EXPECT_EQ(trpt_spool_writer_close(w), 0);
    EXPECT(flock(fd, LOCK_SH | LOCK_NB) == 0);
    close(fd);

    memcpy(expect, "TRPTSEG1", 8);
    n = 8;
    n += encode_frame(expect + n, "hello", 5);
    n += encode_frame(expect + n, "{}", 2);
    got = read_whole(dir, name, &len);
    ASSERT(got);
    EXPECT_EQ(len, n);
    EXPECT(len == n && memcmp(got, expect, n) == 0);
    EXPECT(memcmp(got + 8, "1FRT\x05\0\0\0", 8) == 0);
    free(got);
}

/* The reader's and writer's CRC (SIMD-accelerated for long frames) must
 * equal zlib's crc32() for every length and alignment. */
TEST(frame_crc_matches_zlib_for_every_length)
{
    const char *dir = spool_dir("s");
    enum { MAXLEN = 1100 };
    size_t cap = 8 + MAXLEN * (FRAME_HEAD + MAXLEN);
    unsigned char *want = malloc(cap), *got;
    unsigned char payload[MAXLEN + 8]; /* + room to vary alignment */
    trpt_spool_writer *w = NULL;
    readback rb = {0};
    size_t n = 8, len = 0;
    int bad = 0;

    ASSERT(want);
    for (size_t k = 0; k < sizeof payload; k++)
        payload[k] = (unsigned char)(k * 131 + (k >> 3));
    memcpy(want, "TRPTSEG1", 8);
    ASSERT(trpt_spool_writer_open(&w, dir, NULL) == 0);
    for (uint32_t l = 1; l <= MAXLEN; l++) {
        n += encode_frame(want + n, payload + (l % 7), l);
        EXPECT_EQ(
            trpt_spool_writer_append(w, (const char *)payload + (l % 7), l), 0);
    }
    EXPECT_EQ(trpt_spool_writer_close(w), 0);
    got = read_whole(dir, only_segment(dir), &len);
    ASSERT(got);
    EXPECT_EQ(len, n);
    EXPECT(len == n && memcmp(got, want, n) == 0);
    free(got);

    /* The reader accepts zlib-made frames of every length. */
    ASSERT(write_file(dir, NAME_A, want, n) == 0);
    readback_segment(&rb, dir, NAME_A, 0);
    EXPECT_EQ(rb.n, MAXLEN);
    for (size_t k = 0; k < rb.n; k++)
        bad += rb.len[k] != k + 1 ||
               memcmp(rb.p[k], payload + ((k + 1) % 7), k + 1) != 0;
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(rb.st.corrupt_frames, 0);
    readback_free(&rb);
    free(want);
}

TEST(round_trip_returns_every_payload_in_order)
{
    const char *dir = spool_dir("s");
    trpt_spool_writer *w = NULL;
    readback rb = {0};
    char *big = malloc(TRPT_SPOOL_MAX_FRAME);
    static const char nul_bytes[] = "a\0b\0\0c";
    char rec[512];

    ASSERT(big);
    memset(big, 'x', TRPT_SPOOL_MAX_FRAME);
    ASSERT(trpt_spool_writer_open(&w, dir, NULL) == 0);
    for (int i = 0; i < 1000; i++) {
        size_t len = make_record(rec, sizeof rec, 0, i, (size_t)(i % 97));
        EXPECT_EQ(trpt_spool_writer_append(w, rec, len), 0);
    }
    EXPECT_EQ(trpt_spool_writer_append(w, nul_bytes, sizeof nul_bytes), 0);
    EXPECT_EQ(trpt_spool_writer_append(w, big, TRPT_SPOOL_MAX_FRAME), 0);
    EXPECT_EQ(trpt_spool_writer_append(w, "1", 1), 0);
    EXPECT_EQ(trpt_spool_writer_close(w), 0);

    readback_dir(&rb, dir);
    EXPECT_EQ(rb.rc, 0);
    ASSERT(rb.n == 1003);
    EXPECT(check_sequence(&rb, 0, 1000));
    EXPECT(rb.len[1000] == sizeof nul_bytes &&
           memcmp(rb.p[1000], nul_bytes, sizeof nul_bytes) == 0);
    EXPECT(rb.len[1001] == TRPT_SPOOL_MAX_FRAME &&
           memcmp(rb.p[1001], big, TRPT_SPOOL_MAX_FRAME) == 0);
    EXPECT(rb.len[1002] == 1 && rb.p[1002][0] == '1');
    EXPECT_EQ(rb.st.frames, 1003);
    EXPECT_EQ(rb.st.torn_bytes, 0);
    EXPECT_EQ(rb.st.corrupt_frames, 0);
    EXPECT_EQ(rb.finished, 1);
    readback_free(&rb);
    free(big);
}

TEST(many_commits_are_all_read_back)
{
    const char *dir = spool_dir("s");
    trpt_spool_writer_config never = {.fsync = TRPT_FSYNC_NEVER};
    readback rb = {0};

    EXPECT_EQ(write_records(dir, 0, 5000, 1, &never), 0);
    EXPECT_EQ(write_records(dir, 1, 200, 3, NULL), 0); /* fsync always */
    readback_dir(&rb, dir);
    EXPECT_EQ(rb.rc, 0);
    EXPECT_EQ(rb.n, 5200);
    EXPECT(check_sequence(&rb, 0, 5000));
    EXPECT(check_sequence(&rb, 1, 200));
    readback_free(&rb);
}

/* Without fdatasync per commit the writer starts the writeback of every
 * 4 MiB itself; ~10 MiB in 1000-record commits cross that step twice,
 * and every record is still there, in order, after close. */
TEST(writer_without_fsync_keeps_every_record_across_writeback_steps)
{
    const char *dir = spool_dir("s");
    trpt_spool_writer_config never = {.fsync = TRPT_FSYNC_NEVER};
    readback rb = {0};
    size_t bytes = 0;

    EXPECT_EQ(write_records(dir, 0, 120000, 1000, &never), 0);
    readback_dir(&rb, dir);
    EXPECT_EQ(rb.rc, 0);
    EXPECT_EQ(rb.n, 120000);
    for (size_t k = 0; k < rb.n; k++)
        bytes += rb.len[k] + FRAME_HEAD;
    EXPECT(bytes > (8u << 20));
    EXPECT(check_sequence(&rb, 0, 120000));
    EXPECT_EQ(rb.st.torn_bytes, 0);
    readback_free(&rb);
}

TEST(append_rejects_empty_oversized_and_null_records)
{
    const char *dir = spool_dir("s");
    trpt_spool_writer *w = NULL;
    char *big = calloc(1, TRPT_SPOOL_MAX_FRAME + 1);

    ASSERT(big);
    ASSERT(trpt_spool_writer_open(&w, dir, NULL) == 0);
    EXPECT_EQ(trpt_spool_writer_append(w, "x", 0), -EINVAL);
    EXPECT_EQ(trpt_spool_writer_append(w, NULL, 5), -EINVAL);
    EXPECT_EQ(trpt_spool_writer_append(w, big, TRPT_SPOOL_MAX_FRAME + 1),
              -EMSGSIZE);
    EXPECT_EQ(trpt_spool_writer_append(w, big, (size_t)-1), -EMSGSIZE);
    EXPECT_EQ(trpt_spool_writer_append(NULL, "x", 1), -EINVAL);
    EXPECT_EQ(trpt_spool_writer_commit(NULL), -EINVAL);
    EXPECT_EQ(trpt_spool_writer_commit(w), 0); /* nothing pending */
    EXPECT_EQ(trpt_spool_writer_close(w), 0);
    EXPECT_EQ(trpt_spool_writer_close(NULL), 0);
    /* Nothing was committed, so no segment is left behind. */
    EXPECT_STREQ(only_segment(dir), "");
    free(big);
}

TEST(writer_open_rejects_bad_arguments)
{
    trpt_spool_writer *w = (trpt_spool_writer *)1;
    trpt_spool_writer_config bad = {.fsync = (trpt_fsync_policy)7};
    char missing[4200];

    snprintf(missing, sizeof missing, "%s/missing", test_tmpdir());
    EXPECT_EQ(trpt_spool_writer_open(&w, missing, NULL), -ENOENT);
    EXPECT(w == NULL);
    EXPECT_EQ(trpt_spool_writer_open(&w, NULL, NULL), -EINVAL);
    EXPECT_EQ(trpt_spool_writer_open(&w, "", NULL), -EINVAL);
    EXPECT_EQ(trpt_spool_writer_open(&w, spool_dir("s"), &bad), -EINVAL);
    EXPECT_EQ(trpt_spool_writer_open(NULL, spool_dir("s"), NULL), -EINVAL);
}

/* ---------------------------------------------------------------------- */
/* Checkpoints and live segments                                           */

TEST(reopen_at_checkpoint_returns_exactly_the_rest)
{
    const char *dir = spool_dir("s");
    trpt_spool_reader *r = NULL;
    readback rb = {0};
    const char *name, *p;
    uint64_t checkpoint;
    size_t len;
    int i;

    EXPECT_EQ(write_records(dir, 0, 100, 7, NULL), 0);
    name = only_segment(dir);
    ASSERT(trpt_spool_reader_open(&r, dir, name, 0) == 0);
    for (i = 0; i < 37; i++)
        ASSERT(trpt_spool_reader_next(r, &p, &len) == 1);
    checkpoint = trpt_spool_reader_offset(r);
    EXPECT_EQ(trpt_spool_reader_finished(r), 0);
    trpt_spool_reader_free(r);

    readback_segment(&rb, dir, name, checkpoint);
    EXPECT_EQ(rb.rc, 0);
    ASSERT(rb.n == 63);
    for (size_t k = 0; k < rb.n; k++) {
        int w, id;

        EXPECT(record_id(rb.p[k], rb.len[k], &w, &id) && id == 37 + (int)k);
    }
    EXPECT_EQ(rb.off, file_size(dir, name));
    EXPECT_EQ(rb.finished, 1);
    readback_free(&rb);

    /* A checkpoint at the very end yields nothing and is finished. */
    readback_segment(&rb, dir, name, (uint64_t)file_size(dir, name));
    EXPECT_EQ(rb.n, 0);
    EXPECT_EQ(rb.finished, 1);
    EXPECT_EQ(rb.st.torn_bytes, 0);
    readback_free(&rb);
}

TEST(reader_follows_a_live_writer_and_finishes_after_close)
{
    const char *dir = spool_dir("s");
    trpt_spool_writer *w = NULL;
    trpt_spool_reader *r = NULL;
    const char *p;
    size_t len;

    ASSERT(trpt_spool_writer_open(&w, dir, NULL) == 0);
    ASSERT(trpt_spool_writer_append(w, "one", 3) == 0);
    ASSERT(trpt_spool_writer_commit(w) == 0);
    ASSERT(trpt_spool_reader_open(&r, dir, only_segment(dir), 0) == 0);
    EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 1);
    EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 0);
    EXPECT_EQ(trpt_spool_reader_finished(r), 0);
    /* Uncommitted appends are invisible. */
    ASSERT(trpt_spool_writer_append(w, "two", 3) == 0);
    EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 0);
    ASSERT(trpt_spool_writer_commit(w) == 0);
    EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 1);
    EXPECT(len == 3 && memcmp(p, "two", 3) == 0);
    EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 0);
    EXPECT_EQ(trpt_spool_reader_finished(r), 0);
    EXPECT_EQ(trpt_spool_writer_close(w), 0);
    EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 0);
    EXPECT_EQ(trpt_spool_reader_finished(r), 1);
    EXPECT_EQ(trpt_spool_reader_stats(r)->frames, 2);
    EXPECT_EQ(trpt_spool_reader_stats(r)->torn_bytes, 0);
    trpt_spool_reader_free(r);
}

TEST(active_writer_partial_frame_is_not_torn)
{
    const char *dir = spool_dir("s");
    trpt_spool_writer *w = NULL;
    trpt_spool_reader *r = NULL;
    unsigned char frame[128];
    size_t flen = encode_frame(frame, "{\"late\":1}", 10);
    const char *name, *p;
    uint64_t before;
    size_t len;

    ASSERT(trpt_spool_writer_open(&w, dir, NULL) == 0);
    ASSERT(trpt_spool_writer_append(w, "a", 1) == 0);
    ASSERT(trpt_spool_writer_append(w, "b", 1) == 0);
    ASSERT(trpt_spool_writer_commit(w) == 0);
    name = only_segment(dir);
    /* The frame being written: only its first 7 bytes are there yet. */
    ASSERT(append_raw(dir, name, frame, 7) == 0);
    ASSERT(trpt_spool_reader_open(&r, dir, name, 0) == 0);
    EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 1);
    EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 1);
    before = trpt_spool_reader_offset(r);
    EXPECT_EQ(before, HEADER_LEN + 2 * (FRAME_HEAD + 1));
    for (int k = 0; k < 3; k++)
        EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 0);
    EXPECT_EQ(trpt_spool_reader_offset(r), before);
    EXPECT_EQ(trpt_spool_reader_finished(r), 0);
    EXPECT_EQ(trpt_spool_reader_stats(r)->torn_bytes, 0);
    EXPECT_EQ(trpt_spool_reader_stats(r)->corrupt_bytes, 0);
    /* Header complete, payload still partial. */
    ASSERT(append_raw(dir, name, frame + 7, 10) == 0);
    EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 0);
    ASSERT(append_raw(dir, name, frame + 17, flen - 17) == 0);
    EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 1);
    EXPECT(len == 10 && memcmp(p, "{\"late\":1}", 10) == 0);
    /* Now the writer dies with another partial frame: that one is torn. */
    ASSERT(append_raw(dir, name, frame, 5) == 0);
    EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 0);
    EXPECT_EQ(trpt_spool_reader_finished(r), 0);
    EXPECT_EQ(trpt_spool_writer_close(w), 0);
    EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 0);
    EXPECT_EQ(trpt_spool_reader_finished(r), 1);
    EXPECT_EQ(trpt_spool_reader_stats(r)->torn_bytes, 5);
    EXPECT_EQ(trpt_spool_reader_stats(r)->frames, 3);
    trpt_spool_reader_free(r);
}

TEST(reader_rewinds_when_a_live_segment_is_cut_back)
{
    const char *dir = spool_dir("s");
    trpt_spool_reader *r = NULL;
    unsigned char seg[256];
    size_t n = 8, end_b;
    const char *p;
    size_t len;
    char path[4200];
    int lock;

    memcpy(seg, "TRPTSEG1", 8);
    n += encode_frame(seg + n, "A", 1);
    n += encode_frame(seg + n, "B", 1);
    end_b = n;
    n += encode_frame(seg + n, "CCCCCCCCCC", 10);
    ASSERT(write_file(dir, NAME_A, seg, n) == 0);
    lock = hold_lock(dir, NAME_A); /* we play the live writer */
    ASSERT(lock >= 0);
    ASSERT(trpt_spool_reader_open(&r, dir, NAME_A, 0) == 0);
    for (int k = 0; k < 3; k++)
        EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 1);
    EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 0);
    /* The writer's commit of C failed after all: cut back, then D. */
    snprintf(path, sizeof path, "%s/%s", dir, NAME_A);
    ASSERT(truncate(path, (off_t)end_b) == 0);
    EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 0);
    EXPECT_EQ(trpt_spool_reader_offset(r), end_b);
    n = encode_frame(seg, "D", 1);
    ASSERT(append_raw(dir, NAME_A, seg, n) == 0);
    EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 1);
    EXPECT(len == 1 && p[0] == 'D');
    EXPECT_EQ(trpt_spool_reader_stats(r)->corrupt_bytes, 0);
    close(lock);
    EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 0);
    EXPECT_EQ(trpt_spool_reader_finished(r), 1);
    trpt_spool_reader_free(r);
}

/* ---------------------------------------------------------------------- */
/* Crashes and corruption                                                  */

TEST(torn_tail_at_every_cut_is_skipped_and_counted)
{
    const char *dir = spool_dir("s");
    unsigned char *whole;
    size_t size = 0, last_start;
    const char *name;
    char path[4200];
    int bad = 0;

    EXPECT_EQ(write_records(dir, 0, 5, 5, NULL), 0);
    name = only_segment(dir);
    whole = read_whole(dir, name, &size);
    ASSERT(whole);
    {
        char rec[512];
        size_t last_len = make_record(rec, sizeof rec, 0, 4, 4 % 97);

        last_start = size - FRAME_HEAD - last_len;
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    for (size_t cut = last_start; cut < size; cut++) {
        readback rb = {0};

        ASSERT(write_file(dir, name, whole, size) == 0);
        ASSERT(truncate(path, (off_t)cut) == 0);
        readback_segment(&rb, dir, name, 0);
        if (rb.rc != 0 || rb.n != 4 || !check_sequence(&rb, 0, 4) ||
            rb.st.torn_bytes != cut - last_start || rb.st.corrupt_frames != 0 ||
            !rb.finished || rb.off != last_start)
            bad++;
        readback_free(&rb);
    }
    EXPECT_EQ(bad, 0);
    free(whole);
}

TEST(crashed_writer_partial_frame_is_torn_not_misread)
{
    const char *dir = spool_dir("s");
    readback rb = {0};
    int status = 0;
    pid_t pid = fork();

    ASSERT(pid >= 0);
    if (pid == 0) {
        trpt_spool_writer *w = NULL;
        unsigned char frame[256];
        char rec[200];
        size_t len = make_record(rec, sizeof rec, 0, 3, 60);

        if (trpt_spool_writer_open(&w, dir, NULL) != 0)
            _exit(2);
        for (int i = 0; i < 3; i++) {
            char r2[200];
            size_t l2 = make_record(r2, sizeof r2, 0, i, (size_t)i);

            if (trpt_spool_writer_append(w, r2, l2) != 0)
                _exit(3);
        }
        if (trpt_spool_writer_commit(w) != 0)
            _exit(4);
        encode_frame(frame, rec, (uint32_t)len);
        if (append_raw(dir, only_segment(dir), frame, 20) != 0)
            _exit(5);
        _exit(0); /* crash: no close, the kernel drops the lock */
    }
    ASSERT(waitpid(pid, &status, 0) == pid);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    readback_dir(&rb, dir);
    EXPECT_EQ(rb.rc, 0);
    EXPECT_EQ(rb.n, 3);
    EXPECT_EQ(rb.st.torn_bytes, 20);
    EXPECT_EQ(rb.st.corrupt_frames, 0);
    EXPECT_EQ(rb.finished, 1);
    readback_free(&rb);
}

/* Flip every byte of a middle frame in turn (header and payload): only
 * that frame is lost, all others come back intact. */
TEST(corrupt_middle_frame_is_skipped_and_later_frames_read)
{
    const char *dir = spool_dir("s");
    unsigned char *whole, *copy;
    size_t size = 0, start = HEADER_LEN, flen = 0;
    const char *name;
    char rec[512];
    int bad = 0;

    EXPECT_EQ(write_records(dir, 0, 9, 9, NULL), 0);
    name = only_segment(dir);
    whole = read_whole(dir, name, &size);
    ASSERT(whole);
    copy = malloc(size);
    for (int i = 0; i <= 4; i++) {
        flen = FRAME_HEAD + make_record(rec, sizeof rec, 0, i, (size_t)i);
        if (i < 4)
            start += flen;
    }
    for (size_t pos = start; pos < start + flen; pos++) {
        for (int mask = 0x01; mask <= 0x80; mask <<= 7) {
            readback rb = {0};
            int ids_ok = 1;

            memcpy(copy, whole, size);
            copy[pos] ^= (unsigned char)mask;
            ASSERT(write_file(dir, name, copy, size) == 0);
            readback_segment(&rb, dir, name, 0);
            for (size_t k = 0; k < rb.n; k++) {
                int w, id;

                ids_ok &= record_id(rb.p[k], rb.len[k], &w, &id) &&
                          id == (int)k + (k >= 4);
                ids_ok &= make_record(rec, sizeof rec, 0, id, (size_t)id) ==
                              rb.len[k] &&
                          memcmp(rec, rb.p[k], rb.len[k]) == 0;
            }
            if (rb.rc || rb.n != 8 || !ids_ok || rb.st.corrupt_frames != 1 ||
                rb.st.corrupt_bytes != flen || rb.st.torn_bytes != 0 ||
                !rb.finished) {
                fprintf(stderr, "  pos %zu mask %#x: n=%zu cb=%" PRIu64 "\n",
                        pos - start, mask, rb.n, rb.st.corrupt_bytes);
                bad++;
            }
            readback_free(&rb);
        }
    }
    EXPECT_EQ(bad, 0);
    free(copy);
    free(whole);
}

TEST(garbage_between_frames_is_skipped_and_counted)
{
    const char *dir = spool_dir("s");
    unsigned char *seg = malloc(1u << 16);
    unsigned char junk[3000];
    size_t n = 8;
    readback rb = {0};

    ASSERT(seg);
    memcpy(seg, "TRPTSEG1", 8);
    n += encode_frame(seg + n, "first", 5);
    /* Junk with false sync words whose frames do not validate, one with
     * an absurd length and one cut short by the real frame after it. */
    for (size_t k = 0; k < sizeof junk; k++)
        junk[k] = (unsigned char)(k * 7 + 3);
    memcpy(junk + 100, "1FRT\xff\xff\xff\xff", 8);
    memcpy(junk + 200, "1FRT\x05\0\0\0\0\0\0\0hello", 17);
    memcpy(junk + sizeof junk - 8, "1FRT\x40\0\0\0", 8);
    memcpy(seg + n, junk, sizeof junk);
    n += sizeof junk;
    n += encode_frame(seg + n, "second", 6);
    ASSERT(write_file(dir, NAME_A, seg, n) == 0);
    readback_segment(&rb, dir, NAME_A, 0);
    ASSERT(rb.n == 2);
    EXPECT_STREQ(rb.p[0], "first");
    EXPECT_STREQ(rb.p[1], "second");
    EXPECT_EQ(rb.st.corrupt_bytes, sizeof junk);
    EXPECT_EQ(rb.st.corrupt_frames, 1);
    EXPECT_EQ(rb.st.torn_bytes, 0);
    EXPECT_EQ(rb.off, n);
    readback_free(&rb);

    /* The same junk as the tail of a dead writer's segment is torn. */
    ASSERT(write_file(dir, NAME_A, seg, n - FRAME_HEAD - 6) == 0);
    readback_segment(&rb, dir, NAME_A, 0);
    EXPECT_EQ(rb.n, 1);
    EXPECT_EQ(rb.st.torn_bytes, sizeof junk);
    EXPECT_EQ(rb.st.corrupt_frames, 0);
    EXPECT_EQ(rb.finished, 1);
    readback_free(&rb);
    free(seg);
}

TEST(corrupt_frame_in_live_segment_waits_then_resyncs)
{
    const char *dir = spool_dir("s");
    trpt_spool_reader *r = NULL;
    unsigned char seg[256];
    size_t n = 8;
    const char *p;
    size_t len;
    int lock;

    memcpy(seg, "TRPTSEG1", 8);
    n += encode_frame(seg + n, "ok", 2);
    n += encode_frame(seg + n, "bad", 3);
    seg[n - 1] ^= 0x20;
    ASSERT(write_file(dir, NAME_A, seg, n) == 0);
    lock = hold_lock(dir, NAME_A);
    ASSERT(lock >= 0);
    ASSERT(trpt_spool_reader_open(&r, dir, NAME_A, 0) == 0);
    EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 1);
    EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 0);
    EXPECT_EQ(trpt_spool_reader_stats(r)->corrupt_frames, 0);
    n = encode_frame(seg, "next", 4);
    ASSERT(append_raw(dir, NAME_A, seg, n) == 0);
    EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 1);
    EXPECT(len == 4 && memcmp(p, "next", 4) == 0);
    EXPECT_EQ(trpt_spool_reader_stats(r)->corrupt_frames, 1);
    EXPECT_EQ(trpt_spool_reader_stats(r)->corrupt_bytes, FRAME_HEAD + 3);
    close(lock);
    trpt_spool_reader_free(r);
}

/* ---------------------------------------------------------------------- */
/* Concurrency and roll-over                                               */

#define WRITERS     4
#define PER_WRITER  10000
#define MAX_READERS 256

typedef struct live_segment {
    char name[128];
    trpt_spool_reader *r;
    int done;
} live_segment;

static live_segment *find_or_add(live_segment *segs, int *nsegs,
                                 const char *name)
{
    for (int k = 0; k < *nsegs; k++)
        if (strcmp(segs[k].name, name) == 0)
            return &segs[k];
    if (*nsegs >= MAX_READERS)
        return NULL;
    snprintf(segs[*nsegs].name, sizeof segs[0].name, "%s", name);
    return &segs[(*nsegs)++];
}

/* One polling pass over the spool: returns how many segments are open. */
static int poll_spool(const char *dir, live_segment *segs, int *nsegs,
                      unsigned char seen[WRITERS][PER_WRITER], int *errors)
{
    char **names = NULL;
    int open_now = 0;

    if (trpt_spool_list(dir, &names) < 0) {
        (*errors)++;
        return 0;
    }
    for (size_t k = 0; names[k]; k++) {
        live_segment *s = find_or_add(segs, nsegs, names[k]);
        const char *p;
        size_t len;
        int rc, w, i;

        if (!s) {
            (*errors)++;
            continue;
        }
        if (s->done)
            continue;
        if (!s->r && trpt_spool_reader_open(&s->r, dir, s->name, 0) < 0) {
            (*errors)++;
            s->done = 1;
            continue;
        }
        while ((rc = trpt_spool_reader_next(s->r, &p, &len)) == 1) {
            if (!record_id(p, len, &w, &i) || w < 0 || w >= WRITERS || i < 0 ||
                i >= PER_WRITER || seen[w][i]++)
                (*errors)++;
        }
        if (rc < 0)
            (*errors)++;
        if (trpt_spool_reader_finished(s->r)) {
            const trpt_spool_stats *st = trpt_spool_reader_stats(s->r);

            if (st->torn_bytes || st->corrupt_bytes)
                (*errors)++;
            trpt_spool_reader_free(s->r);
            s->r = NULL;
            s->done = 1;
        } else {
            open_now++;
        }
    }
    trpt_spool_list_free(names);
    return open_now;
}

/* Four processes write at once (with roll-overs) while this one reads
 * their live segments; every record arrives exactly once. */
TEST(concurrent_writers_each_record_read_exactly_once)
{
    const char *dir = spool_dir("s");
    static unsigned char seen[WRITERS][PER_WRITER];
    static live_segment segs[MAX_READERS];
    pid_t pids[WRITERS];
    int nsegs = 0, errors = 0, missing = 0, alive = WRITERS;
    int go[2];

    memset(seen, 0, sizeof seen);
    memset(segs, 0, sizeof segs);
    ASSERT(pipe(go) == 0);
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        ASSERT(pids[w] >= 0);
        if (pids[w] == 0) {
            trpt_spool_writer_config cfg = {.fsync = TRPT_FSYNC_NEVER,
                                            .max_segment_bytes = 96 << 10};
            trpt_spool_writer *wr = NULL;
            unsigned seed = (unsigned)w + 1;
            char rec[512], c;
            int rc;

            close(go[1]);
            if (read(go[0], &c, 1) != 0) /* wait for the start */
                _exit(9);
            rc = trpt_spool_writer_open(&wr, dir, &cfg);
            for (int i = 0; rc == 0 && i < PER_WRITER; i++) {
                size_t len = make_record(rec, sizeof rec, w, i,
                                         (size_t)(rand_r(&seed) % 300));

                rc = trpt_spool_writer_append(wr, rec, len);
                if (rc == 0 && rand_r(&seed) % 8 == 0)
                    rc = trpt_spool_writer_commit(wr);
            }
            if (trpt_spool_writer_close(wr) < 0 || rc < 0)
                _exit(1);
            _exit(0);
        }
    }
    close(go[0]);
    close(go[1]);
    while (alive > 0) {
        int status;
        pid_t done = waitpid(-1, &status, WNOHANG);

        if (done > 0) {
            alive--;
            EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        poll_spool(dir, segs, &nsegs, seen, &errors);
    }
    while (poll_spool(dir, segs, &nsegs, seen, &errors) > 0)
        ;
    for (int w = 0; w < WRITERS; w++)
        for (int i = 0; i < PER_WRITER; i++)
            missing += !seen[w][i];
    EXPECT_EQ(errors, 0);
    EXPECT_EQ(missing, 0);
    EXPECT(nsegs > WRITERS); /* roll-over happened */
    for (int k = 0; k < nsegs; k++)
        trpt_spool_reader_free(segs[k].r);
}

TEST(segments_roll_over_at_max_bytes_and_read_in_order)
{
    const char *dir = spool_dir("s");
    trpt_spool_writer_config cfg = {.max_segment_bytes = 4096};
    trpt_spool_writer *w = NULL;
    readback rb = {0};
    char **names = NULL;
    char rec[512];
    size_t nseg;

    EXPECT_EQ(write_records(dir, 0, 200, 1, &cfg), 0);
    ASSERT(trpt_spool_list(dir, &names) == 0);
    nseg = count_names(names);
    EXPECT(nseg >= 5);
    for (size_t k = 0; k < nseg; k++)
        EXPECT(file_size(dir, names[k]) <= 4096);
    trpt_spool_list_free(names);
    readback_dir(&rb, dir);
    EXPECT(check_sequence(&rb, 0, 200));
    EXPECT_EQ(rb.st.torn_bytes, 0);
    readback_free(&rb);

    /* A batch bigger than a segment is still written whole, in one. */
    ASSERT(trpt_spool_writer_open(&w, dir, &cfg) == 0);
    for (int i = 0; i < 100; i++) {
        size_t len = make_record(rec, sizeof rec, 1, i, (size_t)(i % 97));
        EXPECT_EQ(trpt_spool_writer_append(w, rec, len), 0);
    }
    EXPECT_EQ(trpt_spool_writer_close(w), 0);
    ASSERT(trpt_spool_list(dir, &names) == 0);
    EXPECT_EQ(count_names(names), nseg + 1);
    EXPECT(file_size(dir, names[nseg]) > 4096);
    trpt_spool_list_free(names);
}

/* ---------------------------------------------------------------------- */
/* Write failures                                                          */

static int efbig_child(const char *dir)
{
    trpt_spool_writer *w = NULL;
    struct rlimit lim;
    char rec[512];
    const char *name;
    off_t committed;

    signal(SIGXFSZ, SIG_IGN);
    if (trpt_spool_writer_open(&w, dir, NULL) != 0)
        return 10;
    for (int i = 0; i < 3; i++)
        if (trpt_spool_writer_append(
                w, rec, make_record(rec, sizeof rec, 0, i, 50)) != 0)
            return 11;
    if (trpt_spool_writer_commit(w) != 0)
        return 12;
    name = only_segment(dir);
    committed = file_size(dir, name);
    lim.rlim_cur = lim.rlim_max = (rlim_t)committed + 300;
    if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
        return 13;
    /* ~1 KiB batch: the write stops at the limit, partway. */
    for (int i = 3; i < 8; i++)
        if (trpt_spool_writer_append(
                w, rec, make_record(rec, sizeof rec, 0, i, 200)) != 0)
            return 14;
    if (trpt_spool_writer_commit(w) != -EFBIG)
        return 15;
    if (file_size(dir, name) != committed)
        return 16;
    /* The writer is still usable for what fits. */
    if (trpt_spool_writer_append(w, rec,
                                 make_record(rec, sizeof rec, 0, 3, 50)) != 0 ||
        trpt_spool_writer_commit(w) != 0)
        return 17;
    if (trpt_spool_writer_close(w) != 0)
        return 18;
    return 0;
}

TEST(failed_commit_at_file_size_limit_leaves_only_committed_records)
{
    const char *dir = spool_dir("s");
    readback rb = {0};
    int status = 0;
    pid_t pid = fork();

    ASSERT(pid >= 0);
    if (pid == 0)
        _exit(efbig_child(dir));
    ASSERT(waitpid(pid, &status, 0) == pid);
    EXPECT(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    readback_dir(&rb, dir);
    EXPECT_EQ(rb.rc, 0);
    ASSERT(rb.n == 4);
    for (size_t k = 0; k < 4; k++) {
        char rec[512];
        size_t len = make_record(rec, sizeof rec, 0, (int)k, 50);

        EXPECT(rb.len[k] == len && memcmp(rb.p[k], rec, len) == 0);
    }
    EXPECT_EQ(rb.st.torn_bytes, 0);
    EXPECT_EQ(rb.st.corrupt_bytes, 0);
    readback_free(&rb);
}

/* ---------------------------------------------------------------------- */
/* Hostile directory contents                                              */

TEST(symlinks_are_never_followed)
{
    const char *real = spool_dir("real");
    const char *dir = spool_dir("s");
    trpt_spool_writer *w = NULL;
    trpt_spool_reader *r = NULL;
    char target[4200], link[4200], dirlink[4200];
    char **names = NULL;
    const char *name;

    EXPECT_EQ(write_records(real, 0, 3, 3, NULL), 0);
    name = only_segment(real);
    ASSERT(name[0]);
    snprintf(target, sizeof target, "%s/%s", real, name);
    snprintf(link, sizeof link, "%s/%s", dir, name);
    ASSERT(symlink(target, link) == 0);
    ASSERT(trpt_spool_list(dir, &names) == 0);
    EXPECT_EQ(count_names(names), 0);
    trpt_spool_list_free(names);
    EXPECT_EQ(trpt_spool_reader_open(&r, dir, name, 0), -ELOOP);
    EXPECT(r == NULL);
    /* remove() takes the link away, never its target. */
    EXPECT_EQ(trpt_spool_remove(dir, name), 0);
    EXPECT(access(target, F_OK) == 0);

    /* The spool directory itself as a symlink is refused too. */
    snprintf(dirlink, sizeof dirlink, "%s/linkdir", test_tmpdir());
    ASSERT(symlink(real, dirlink) == 0);
    EXPECT(trpt_spool_writer_open(&w, dirlink, NULL) < 0);
    EXPECT(w == NULL);
    EXPECT(trpt_spool_list(dirlink, &names) < 0);
    EXPECT(names == NULL);
    EXPECT(trpt_spool_reader_open(&r, dirlink, name, 0) < 0);
    EXPECT(trpt_spool_remove(dirlink, name) < 0);
    EXPECT(access(target, F_OK) == 0);
}

TEST(garbage_files_in_spool_dir_are_ignored)
{
    const char *dir = spool_dir("s");
    char **names = NULL;
    char path[4200];
    const char *real;
    static const char *junk[] = {
        "README",
        ".seg-0000000000000001-1-00000001.tsp", /* a writer's temp name */
        "seg-0000000000000001-1-00000001.tsp.bak",
        "seg-000000000000001-1-00000001.tsp",  /* 15 hex digits */
        "seg-00000000000000G1-1-00000001.tsp", /* not hex */
        "seg-0000000000000001-1-0000000A.tsp", /* upper case */
        "seg-0000000000000001--00000001.tsp",  /* no pid */
        "seg-0000000000000001-12345678901-00000001.tsp",
        "seg-0000000000000001-1-00000001.tsp\n",
    };

    EXPECT_EQ(write_records(dir, 0, 2, 2, NULL), 0);
    real = only_segment(dir);
    ASSERT(real[0]);
    for (size_t k = 0; k < sizeof junk / sizeof junk[0]; k++)
        ASSERT(write_file(dir, junk[k], "TRPTSEG1", 8) == 0);
    snprintf(path, sizeof path, "%s/%s", dir, NAME_A);
    ASSERT(mkdir(path, 0700) == 0); /* a directory under a segment name */
    snprintf(path, sizeof path, "%s/%s", dir, NAME_B);
    ASSERT(mkfifo(path, 0600) == 0); /* and a FIFO */
    ASSERT(trpt_spool_list(dir, &names) == 0);
    ASSERT(count_names(names) == 1);
    EXPECT_STREQ(names[0], real);
    trpt_spool_list_free(names);
}

TEST(list_sorts_by_creation_time_then_rest_of_name)
{
    const char *dir = spool_dir("s");
    static const char *order[] = {
        "seg-0000000000000001-99-ffffffff.tsp",
        "seg-00000000000000a0-12-00000000.tsp",
        "seg-00000000000000a0-3-00000000.tsp",
        "seg-00000000000000a0-3-00000001.tsp",
        "seg-0000000000000100-1-00000000.tsp",
        "seg-ffffffffffffffff-1-00000000.tsp",
    };
    static const int create[] = {5, 2, 0, 4, 3, 1};
    char **names = NULL;

    for (int k = 0; k < 6; k++)
        ASSERT(write_file(dir, order[create[k]], "TRPTSEG1", 8) == 0);
    ASSERT(trpt_spool_list(dir, &names) == 0);
    ASSERT(count_names(names) == 6);
    for (int k = 0; k < 6; k++)
        EXPECT_STREQ(names[k], order[k]);
    trpt_spool_list_free(names);

    ASSERT(trpt_spool_list(spool_dir("empty"), &names) == 0);
    EXPECT(names && names[0] == NULL);
    trpt_spool_list_free(names);
    trpt_spool_list_free(NULL);
}

TEST(wrong_header_is_refused_with_an_error)
{
    const char *dir = spool_dir("s");
    trpt_spool_reader *r = (trpt_spool_reader *)1;
    static const struct {
        const char *data;
        size_t len;
    } bad[] = {
        {"", 0},
        {"TRPTSEG", 7},
        {"TRPTSEG2\x31\x46\x52\x54", 12},
        {"trptseg1", 8},
        {"\0\0\0\0\0\0\0\0", 8},
        {"1FRT\x01\0\0\0", 8},
    };
    char path[4200];

    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ASSERT(write_file(dir, NAME_A, bad[k].data, bad[k].len) == 0);
        EXPECT_EQ(trpt_spool_reader_open(&r, dir, NAME_A, 0), -EBADMSG);
        EXPECT(r == NULL);
        EXPECT_EQ(trpt_spool_reader_open(&r, dir, NAME_A, 100), -EBADMSG);
    }
    /* A FIFO under a segment name is refused, not waited on. */
    snprintf(path, sizeof path, "%s/%s", dir, NAME_B);
    ASSERT(mkfifo(path, 0600) == 0);
    EXPECT_EQ(trpt_spool_reader_open(&r, dir, NAME_B, 0), -EINVAL);
    EXPECT_EQ(trpt_spool_reader_open(&r, dir,
                                     "seg-0000000000000003-1-"
                                     "00000001.tsp",
                                     0),
              -ENOENT);
}

TEST(bad_names_and_offsets_are_rejected)
{
    const char *dir = spool_dir("s");
    trpt_spool_reader *r = NULL;
    static const char *names[] = {
        "",
        "../" NAME_A,
        "x/" NAME_A,
        "seg-0000000000000001-1-00000001.tsp/",
        "seg-0000000000000001-1-0000001/.tsp",
        "..",
    };

    ASSERT(write_file(dir, NAME_A, "TRPTSEG1", 8) == 0);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        EXPECT_EQ(trpt_spool_reader_open(&r, dir, names[k], 0), -EINVAL);
        EXPECT_EQ(trpt_spool_remove(dir, names[k]), -EINVAL);
    }
    EXPECT_EQ(trpt_spool_reader_open(&r, dir, NULL, 0), -EINVAL);
    EXPECT_EQ(trpt_spool_remove(dir, NULL), -EINVAL);
    for (uint64_t off = 1; off < HEADER_LEN; off++)
        EXPECT_EQ(trpt_spool_reader_open(&r, dir, NAME_A, off), -EINVAL);
    EXPECT_EQ(trpt_spool_reader_open(NULL, dir, NAME_A, 0), -EINVAL);
    /* An offset past the end is not an error: nothing there (yet). */
    ASSERT(trpt_spool_reader_open(&r, dir, NAME_A, UINT64_C(1) << 40) == 0);
    {
        const char *p;
        size_t len;

        EXPECT_EQ(trpt_spool_reader_next(r, &p, &len), 0);
        EXPECT_EQ(trpt_spool_reader_finished(r), 1);
        EXPECT_EQ(trpt_spool_reader_next(NULL, &p, &len), -EINVAL);
    }
    trpt_spool_reader_free(r);
    trpt_spool_reader_free(NULL);
    EXPECT_EQ(trpt_spool_reader_offset(NULL), 0);
    EXPECT_EQ(trpt_spool_reader_finished(NULL), 0);
}

TEST(remove_deletes_the_segment)
{
    const char *dir = spool_dir("s");
    char name[256];

    EXPECT_EQ(write_records(dir, 0, 2, 1, NULL), 0);
    snprintf(name, sizeof name, "%s", only_segment(dir));
    ASSERT(name[0]);
    EXPECT_EQ(trpt_spool_remove(dir, name), 0);
    EXPECT_STREQ(only_segment(dir), "");
    EXPECT_EQ(trpt_spool_remove(dir, name), -ENOENT);
}

/* ---------------------------------------------------------------------- */
/* Speed                                                                   */

/* CPU time, so a busy machine does not distort the figure much. */
static double now_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reports frames/s of ~350-byte payloads from the page cache (target
 * >= 5 M/s in an optimised build). TRPT_SPOOL_BENCH=N sets the count. */
TEST(reader_throughput_is_measured)
{
    const char *dir = spool_dir("s");
    trpt_spool_writer_config cfg = {.fsync = TRPT_FSYNC_NEVER,
                                    .max_segment_bytes = 1ull << 40};
    trpt_spool_writer *w = NULL;
    trpt_spool_reader *r = NULL;
    const char *env = getenv("TRPT_SPOOL_BENCH");
    long n = env ? strtol(env, NULL, 10) : 200000;
    char rec[512];
    const char *p;
    size_t len, bytes = 0;
    long got = 0;
    double t0, t1, t2;

    if (n <= 0 || n > 100000000)
        n = 200000;
    ASSERT(trpt_spool_writer_open(&w, dir, &cfg) == 0);
    t0 = now_sec();
    for (long i = 0; i < n; i++) {
        len = make_record(rec, sizeof rec, 0, (int)i, 320);
        ASSERT(trpt_spool_writer_append(w, rec, len) == 0);
        if (i % 1000 == 999)
            ASSERT(trpt_spool_writer_commit(w) == 0);
    }
    ASSERT(trpt_spool_writer_close(w) == 0);
    t1 = now_sec();
    ASSERT(trpt_spool_reader_open(&r, dir, only_segment(dir), 0) == 0);
    while (trpt_spool_reader_next(r, &p, &len) == 1) {
        bytes += len;
        got++;
    }
    t2 = now_sec();
    EXPECT_EQ(got, n);
    EXPECT_EQ(trpt_spool_reader_finished(r), 1);
    fprintf(stderr,
            "  spool: %ld frames of ~%zu B: write %.2f M/s, read %.2f M/s "
            "(%.0f MB/s) per CPU second\n",
            n, bytes / (size_t)(got ? got : 1), n / (t1 - t0) / 1e6,
            got / (t2 - t1) / 1e6, bytes / (t2 - t1) / 1e6);
    trpt_spool_reader_free(r);
}
