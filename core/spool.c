/* spool.c - append-only segment files with framed, CRC-checked records; see
 * spool.h for the layout and the contract. */
#include "spool.h"

#include "buf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define SEG_MAGIC       "TRPTSEG1"
#define SEG_HEADER_LEN  8u
#define FRAME_SYNC      0x54524631u /* "1FRT" on disk: little-endian "TRF1" */
#define FRAME_HEAD_LEN  12u         /* sync | len | crc */
#define DEFAULT_SEG_MAX (64ull << 20)
#define SEG_NAME_MAX    64
/* The read buffer starts at 256 KiB (one pread(2) per ~700 typical frames)
 * and grows only as far as the largest frame needs. */
#define READ_BUF_START (256u << 10)
#define READ_BUF_MAX   (TRPT_SPOOL_MAX_FRAME + FRAME_HEAD_LEN)

/* ---------------------------------------------------------------------- */
/* Shared helpers                                                          */

static void put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* CRC-32 exactly as zlib's crc32() computes it. zlib 1.2.13 manages
 * ~0.6 GB/s here, well short of the reader's target (5 M frames/s of ~350
 * bytes is ~1.8 GB/s), so on x86-64 with PCLMULQDQ long frames are folded
 * 16 bytes at a time with carry-less multiplication: X*x^128 + next, kept
 * below 128 bits via the constants x*(x^191 mod P) and x*(x^127 mod P) in
 * bit-reflected form; the 128-bit remainder is folded to 64 bits the same
 * way and zlib finishes those 8 bytes. Tests cross-check the result with
 * zlib for every length. */
static uint32_t crc32_plain(const unsigned char *len_le, const void *payload,
                            uint32_t len)
{
    uLong crc = crc32(0L, len_le, 4);

    return (uint32_t)crc32(crc, payload, len);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define CLMUL_MIN_LEN 60
#define CRC_K192      0x65673b4600000000ull /* x * (x^191 mod P) */
#define CRC_K128      0x9ba54c6f00000000ull /* x * (x^127 mod P) */
#define CRC_K96       0xccaa009e00000000ull /* x * (x^95 mod P) */
#define CRC_K64       0xb8bc676500000000ull /* x * (x^63 mod P) */
#define CRC_K576      0x653d982200000000ull /* x * (x^575 mod P) */
#define CRC_K512      0xcad38e8f00000000ull /* x * (x^511 mod P) */

__attribute__((target("pclmul,sse2"))) static inline __m128i
crc_fold16(__m128i x, __m128i k, __m128i next)
{
    __m128i lo = _mm_clmulepi64_si128(x, k, 0x00);
    __m128i hi = _mm_clmulepi64_si128(x, k, 0x11);

    return _mm_xor_si128(_mm_xor_si128(lo, hi), next);
}

/* The 128-bit remainder X = A1*x^96 + A0*x^64 + B: fold A1 and A0 into B
 * (each product stays below x^64), then let zlib reduce the 8 bytes. */
__attribute__((target("pclmul,sse2"))) static uint32_t crc_finish(__m128i x)
{
    const __m128i k = _mm_set_epi64x((long long)CRC_K64, (long long)CRC_K96);
    uint64_t lo = (uint64_t)_mm_cvtsi128_si64(x);
    uint64_t hi = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(x, x));
    __m128i a = _mm_set_epi64x((long long)(lo & 0xffffffff00000000ull),
                               (long long)(lo << 32));
    __m128i c = _mm_xor_si128(_mm_clmulepi64_si128(a, k, 0x00),
                              _mm_clmulepi64_si128(a, k, 0x11));
    uint64_t v = hi ^ (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(c, c));
    unsigned char bytes[8];

    for (int i = 0; i < 8; i++)
        bytes[i] = (unsigned char)(v >> (8 * i));
    /* crc32(~0, ...) runs zlib from a zero register */
    return (uint32_t)crc32(0xffffffffUL, bytes, sizeof bytes);
}

/* CRC of len_le || payload. Leading zero bytes do not change a CRC whose
 * register starts at zero, so the message is front-padded to whole 16-byte
 * blocks and the initial register (~0) is folded into its first 4 bytes.
 * Four independent lanes (64-byte stride, x^576/x^512) hide the multiply
 * latency, then merge into one. Needs len >= 28. */
__attribute__((target("pclmul,sse2"))) static uint32_t
crc32_clmul(const unsigned char *len_le, const unsigned char *p, size_t len)
{
    const __m128i k1 = _mm_set_epi64x((long long)CRC_K128, (long long)CRC_K192);
    const __m128i k4 = _mm_set_epi64x((long long)CRC_K512, (long long)CRC_K576);
    unsigned char head[32] = {0};
    size_t pad = (16 - (len + 4) % 16) % 16;
    size_t n = (pad + 4 + len) / 16; /* blocks; 0 and 1 are in head */
    const unsigned char *body = p + 28 - pad;
    size_t i = 1;
    __m128i x;

    for (int j = 0; j < 4; j++)
        head[pad + j] = (unsigned char)~len_le[j];
    memcpy(head + pad + 4, p, 28 - pad);
    x = _mm_loadu_si128((const __m128i *)head);
    if (n >= 8) {
        __m128i l1 = _mm_loadu_si128((const __m128i *)(head + 16));
        __m128i l2 = _mm_loadu_si128((const __m128i *)body);
        __m128i l3 = _mm_loadu_si128((const __m128i *)(body + 16));

        for (i = 4; i + 4 <= n; i += 4) {
            const __m128i *q = (const __m128i *)(body + 16 * (i - 2));

            x = crc_fold16(x, k4, _mm_loadu_si128(q));
            l1 = crc_fold16(l1, k4, _mm_loadu_si128(q + 1));
            l2 = crc_fold16(l2, k4, _mm_loadu_si128(q + 2));
            l3 = crc_fold16(l3, k4, _mm_loadu_si128(q + 3));
        }
        x = crc_fold16(crc_fold16(crc_fold16(x, k1, l1), k1, l2), k1, l3);
    }
    for (; i < n; i++) {
        const unsigned char *q = i < 2 ? head + 16 : body + 16 * (i - 2);

        x = crc_fold16(x, k1, _mm_loadu_si128((const __m128i *)q));
    }
    return crc_finish(x);
}

static int cpu_has_clmul(void)
{
    static int have = -1; /* a benign race: every thread computes the same */

    if (have < 0)
        have =
            __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse2");
    return have;
}
#endif

/* The CRC covers the length field too, so a corrupt length cannot pair
 * with a payload that happens to match. */
static uint32_t frame_crc(const unsigned char *len_le, const void *payload,
                          uint32_t len)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (len >= CLMUL_MIN_LEN && cpu_has_clmul())
        return crc32_clmul(len_le, payload, len);
#endif
    return crc32_plain(len_le, payload, len);
}

static int is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* seg-<16 hex usec>-<pid>-<8 hex random>.tsp, nothing else: the name is
 * also what keeps callers from escaping the spool dir ("../x", "a/b"). */
static int is_segment_name(const char *name)
{
    const char *p = name;
    size_t digits = 0;

    if (!name || strlen(name) > SEG_NAME_MAX || strncmp(p, "seg-", 4) != 0)
        return 0;
    p += 4;
    if (!is_lower_hex(p, 16) || p[16] != '-')
        return 0;
    p += 17;
    while (p[digits] >= '0' && p[digits] <= '9')
        digits++;
    if (digits == 0 || digits > 10 || p[digits] != '-')
        return 0;
    p += digits + 1;
    if (!is_lower_hex(p, 8))
        return 0;
    return strcmp(p + 8, ".tsp") == 0;
}

/* The spool dir itself is not followed if it is a symlink either. */
static int open_spool_dir(const char *dir)
{
    int fd;

    if (!dir || !*dir)
        return -EINVAL;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

static int write_all_at(int fd, const void *data, size_t len, uint64_t off)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static int sync_fd(int fd, int data_only)
{
    int rc;

    do
        rc = data_only ? fdatasync(fd) : fsync(fd);
    while (rc < 0 && errno == EINTR);
    /* Directories on some filesystems refuse fsync; nothing to make
     * durable there, so that is not a failure. */
    if (rc < 0 && errno != EINVAL && errno != EROFS)
        return -errno;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Writer                                                                  */

struct trpt_spool_writer {
    int dirfd;
    int fd; /* current segment, flock(LOCK_EX) held; -1 if none */
    char name[SEG_NAME_MAX + 1];
    uint64_t committed; /* segment size after the last good commit */
    uint64_t kicked;    /* writeback started up to here (fsync never) */
    int need_roll;      /* segment tail unknown after a failed truncate */
    trpt_spool_writer_config cfg;
    trpt_buf pending; /* encoded frames not yet written */
};

static uint32_t random_u32(void)
{
    uint32_t v;
    struct timespec ts;

    if (getrandom(&v, sizeof v, GRND_NONBLOCK) == (ssize_t)sizeof v)
        return v;
    /* Uniqueness comes from time+pid already; this only spreads names. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() * 2654435761u;
}

static void make_segment_name(char *out, size_t n)
{
    struct timespec ts;
    uint64_t usec;

    clock_gettime(CLOCK_REALTIME, &ts);
    usec = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    snprintf(out, n, "seg-%016llx-%ld-%08x.tsp", (unsigned long long)usec,
             (long)getpid(), random_u32());
}

static int rename_noreplace(int dirfd, const char *from, const char *to)
{
    if (renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -errno;
    /* Filesystem without RENAME_NOREPLACE: names carry time, pid and 32
     * random bits, so a plain rename cannot realistically clobber. */
    return renameat(dirfd, from, dirfd, to) == 0 ? 0 : -errno;
}

/* Build the segment under a dot-name (ignored by readers), lock it and
 * write the header, then rename it into view: a reader never sees a
 * segment that is unlocked or lacks its header while its writer lives. */
static int create_segment_file(int dirfd, char *name, size_t name_len)
{
    char tmp[SEG_NAME_MAX + 2];
    int fd;
    int rc;

    make_segment_name(name, name_len);
    snprintf(tmp, sizeof tmp, ".%s", name);
    fd = openat(dirfd, tmp,
                O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX) < 0) {
        rc = -errno;
        goto fail;
    }
    rc = write_all_at(fd, SEG_MAGIC, SEG_HEADER_LEN, 0);
    if (rc == 0)
        rc = sync_fd(fd, 1);
    if (rc == 0)
        rc = rename_noreplace(dirfd, tmp, name);
    if (rc < 0)
        goto fail;
    rc = sync_fd(dirfd, 0);
    if (rc < 0) {
        unlinkat(dirfd, name, 0);
        close(fd);
        return rc;
    }
    return fd;
fail:
    unlinkat(dirfd, tmp, 0);
    close(fd);
    return rc;
}

static int create_segment(int dirfd, char *name, size_t name_len)
{
    int rc = -EEXIST;

    for (int attempt = 0; attempt < 8 && rc == -EEXIST; attempt++)
        rc = create_segment_file(dirfd, name, name_len);
    return rc;
}

/* Make the closed segment durable, then let readers see it as finished. */
static int release_segment(trpt_spool_writer *w)
{
    int rc;

    if (w->fd < 0)
        return 0;
    rc = sync_fd(w->fd, 0);
    flock(w->fd, LOCK_UN);
    close(w->fd);
    w->fd = -1;
    return rc;
}

/* A new segment is made before the old one is let go, so a failure leaves
 * the writer on its old, still valid segment. */
static int roll_segment(trpt_spool_writer *w)
{
    char name[SEG_NAME_MAX + 1];
    int fd = create_segment(w->dirfd, name, sizeof name);
    int rc;

    if (fd < 0)
        return fd;
    rc = release_segment(w);
    w->fd = fd;
    memcpy(w->name, name, sizeof name);
    w->committed = SEG_HEADER_LEN;
    w->kicked = SEG_HEADER_LEN;
    w->need_roll = 0;
    return rc;
}

int trpt_spool_writer_open(trpt_spool_writer **out, const char *dir,
                           const trpt_spool_writer_config *cfg)
{
    trpt_spool_writer *w;
    int rc;

    if (!out)
        return -EINVAL;
    *out = NULL;
    w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->fd = -1;
    trpt_buf_init(&w->pending);
    if (cfg)
        w->cfg = *cfg;
    if (w->cfg.max_segment_bytes == 0)
        w->cfg.max_segment_bytes = DEFAULT_SEG_MAX;
    if (w->cfg.fsync != TRPT_FSYNC_ALWAYS && w->cfg.fsync != TRPT_FSYNC_NEVER) {
        free(w);
        return -EINVAL;
    }
    w->dirfd = open_spool_dir(dir);
    if (w->dirfd < 0) {
        rc = w->dirfd;
        free(w);
        return rc;
    }
    rc = roll_segment(w);
    if (rc < 0) {
        close(w->dirfd);
        free(w);
        return rc;
    }
    *out = w;
    return 0;
}

int trpt_spool_writer_append(trpt_spool_writer *w, const char *payload,
                             size_t len)
{
    unsigned char head[FRAME_HEAD_LEN];
    int rc;

    if (!w || (!payload && len))
        return -EINVAL;
    if (len == 0)
        return -EINVAL;
    if (len > TRPT_SPOOL_MAX_FRAME)
        return -EMSGSIZE;
    put_le32(head, FRAME_SYNC);
    put_le32(head + 4, (uint32_t)len);
    put_le32(head + 8, frame_crc(head + 4, payload, (uint32_t)len));
    rc = trpt_buf_reserve(&w->pending, sizeof head + len);
    if (rc < 0)
        return rc;
    trpt_buf_append(&w->pending, head, sizeof head);
    trpt_buf_append(&w->pending, payload, len);
    return 0;
}

/* Reserve the blocks first so ENOSPC/EDQUOT surface before a single byte
 * is visible to a concurrent reader. Best effort: filesystems without
 * fallocate fall through to write-then-truncate. */
static int reserve_space(int fd, uint64_t off, size_t len)
{
    if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
        return 0;
    if (errno == ENOSPC || errno == EDQUOT || errno == EFBIG)
        return -errno;
    return 0;
}

/* Without fdatasync per commit, dirty pages pile up until the fsync of
 * release_segment(), which then waits for all of them at once. Starting
 * their writeback every WRITEBACK_STEP bytes (without waiting) lets the
 * disk work while the writer goes on, so that final fsync finds little
 * left to do. Best effort: a failure here only means a longer fsync. */
#define WRITEBACK_STEP (4u << 20)

static void start_writeback(trpt_spool_writer *w, uint64_t end)
{
    if (end < w->kicked || end - w->kicked < WRITEBACK_STEP)
        return;
    (void)sync_file_range(w->fd, (off_t)w->kicked, (off_t)(end - w->kicked),
                          SYNC_FILE_RANGE_WRITE);
    w->kicked = end;
}

static int write_batch(trpt_spool_writer *w)
{
    int rc = reserve_space(w->fd, w->committed, w->pending.len);

    if (rc == 0)
        rc = write_all_at(w->fd, w->pending.data, w->pending.len, w->committed);
    if (rc == 0 && w->cfg.fsync == TRPT_FSYNC_ALWAYS)
        rc = sync_fd(w->fd, 1);
    else if (rc == 0)
        start_writeback(w, w->committed + w->pending.len);
    return rc;
}

/* Nothing half-written: cut the segment back to the last good commit. If
 * even that fails the tail is unknown, so the next commit starts a fresh
 * segment and readers see this tail as torn once we let it go. */
static void undo_batch(trpt_spool_writer *w)
{
    int rc;

    do
        rc = ftruncate(w->fd, (off_t)w->committed);
    while (rc < 0 && errno == EINTR);
    if (rc < 0)
        w->need_roll = 1;
}

int trpt_spool_writer_commit(trpt_spool_writer *w)
{
    int rc = 0;

    if (!w)
        return -EINVAL;
    if (w->pending.len == 0)
        return 0;
    if (w->need_roll || w->fd < 0 ||
        (w->committed > SEG_HEADER_LEN &&
         w->committed + w->pending.len > w->cfg.max_segment_bytes))
        rc = roll_segment(w);
    if (rc == 0) {
        rc = write_batch(w);
        if (rc < 0)
            undo_batch(w);
        else
            w->committed += w->pending.len;
    }
    trpt_buf_reset(&w->pending);
    return rc;
}

void trpt_spool_writer_discard(trpt_spool_writer *w)
{
    if (w)
        trpt_buf_reset(&w->pending);
}

/* An empty segment is kept: rolling it would only leave an empty file. */
int trpt_spool_writer_reopen(trpt_spool_writer *w)
{
    if (!w)
        return -EINVAL;
    if (w->committed > SEG_HEADER_LEN)
        w->need_roll = 1;
    return 0;
}

/* A writer that never committed leaves no empty segment behind. */
static void remove_if_empty(trpt_spool_writer *w)
{
    if (w->fd >= 0 && w->committed == SEG_HEADER_LEN && !w->need_roll &&
        unlinkat(w->dirfd, w->name, 0) == 0)
        sync_fd(w->dirfd, 0);
}

int trpt_spool_writer_close(trpt_spool_writer *w)
{
    int rc;
    int rc2;

    if (!w)
        return 0;
    rc = trpt_spool_writer_commit(w);
    remove_if_empty(w);
    rc2 = release_segment(w);
    if (rc == 0)
        rc = rc2;
    close(w->dirfd);
    trpt_buf_free(&w->pending);
    free(w);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Listing and removal                                                     */

static int is_regular_entry(int dirfd, const struct dirent *de)
{
    struct stat st;

    if (de->d_type == DT_REG)
        return 1;
    if (de->d_type != DT_UNKNOWN)
        return 0;
    if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    return S_ISREG(st.st_mode);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push_name(char ***names, size_t *n, size_t *cap, const char *name)
{
    char *copy;

    if (*n + 1 >= *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        char **p = realloc(*names, ncap * sizeof *p);

        if (!p)
            return -ENOMEM;
        *names = p;
        *cap = ncap;
    }
    copy = strdup(name);
    if (!copy)
        return -ENOMEM;
    (*names)[(*n)++] = copy;
    (*names)[*n] = NULL;
    return 0;
}

static int collect_names(DIR *d, char ***names)
{
    size_t n = 0, cap = 1;
    struct dirent *de;
    int rc;

    *names = calloc(1, sizeof **names); /* an empty dir: just the NULL */
    if (!*names)
        return -ENOMEM;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (!is_segment_name(de->d_name) || !is_regular_entry(dirfd(d), de))
            continue;
        rc = push_name(names, &n, &cap, de->d_name);
        if (rc < 0)
            return rc;
        errno = 0;
    }
    if (errno != 0)
        return -errno;
    /* Fixed-width hex time first, so name order is creation order. */
    qsort(*names, n, sizeof **names, cmp_names);
    return 0;
}

int trpt_spool_list(const char *dir, char ***names)
{
    DIR *d;
    int fd;
    int rc;

    if (!names)
        return -EINVAL;
    *names = NULL;
    fd = open_spool_dir(dir);
    if (fd < 0)
        return fd;
    d = fdopendir(fd);
    if (!d) {
        rc = -errno;
        close(fd);
        return rc;
    }
    rc = collect_names(d, names);
    closedir(d);
    if (rc < 0) {
        trpt_spool_list_free(*names);
        *names = NULL;
    }
    return rc;
}

void trpt_spool_list_free(char **names)
{
    if (!names)
        return;
    for (char **p = names; *p; p++)
        free(*p);
    free(names);
}

int trpt_spool_remove(const char *dir, const char *name)
{
    int fd;
    int rc = 0;

    if (!is_segment_name(name))
        return -EINVAL;
    fd = open_spool_dir(dir);
    if (fd < 0)
        return fd;
    if (unlinkat(fd, name, 0) < 0)
        rc = -errno;
    else
        rc = sync_fd(fd, 0);
    close(fd);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Reader                                                                  */

struct trpt_spool_reader {
    int fd;
    uint64_t offset; /* after the last returned frame: the checkpoint */
    unsigned char *buf;
    uint64_t buf_off; /* file offset of buf[0] */
    size_t buf_len;
    size_t buf_cap;
    uint64_t file_end; /* once the writer is gone and EOF seen, else max */
    int writer_gone;
    int finished;
    trpt_spool_stats stats;
};

enum frame_check {
    FRAME_VALID,
    FRAME_INVALID,
    FRAME_SHORT, /* the file ends inside it (so far) */
};

/* Judge the bytes at p; *need is how many bytes a verdict requires. */
static enum frame_check check_frame(const unsigned char *p, size_t avail,
                                    size_t *need, uint32_t *len_out)
{
    uint32_t len;

    *need = FRAME_HEAD_LEN;
    if (avail < 4)
        return FRAME_SHORT;
    if (get_le32(p) != FRAME_SYNC)
        return FRAME_INVALID;
    if (avail < FRAME_HEAD_LEN)
        return FRAME_SHORT;
    len = get_le32(p + 4);
    if (len == 0 || len > TRPT_SPOOL_MAX_FRAME)
        return FRAME_INVALID;
    *need = FRAME_HEAD_LEN + len;
    if (avail < *need)
        return FRAME_SHORT;
    if (frame_crc(p + 4, p + FRAME_HEAD_LEN, len) != get_le32(p + 8))
        return FRAME_INVALID;
    *len_out = len;
    return FRAME_VALID;
}

static int grow_buffer(trpt_spool_reader *r, size_t need)
{
    size_t cap = r->buf_cap * 2 > need ? r->buf_cap * 2 : need;
    unsigned char *p;

    if (cap > READ_BUF_MAX)
        cap = READ_BUF_MAX;
    p = realloc(r->buf, cap);
    if (!p)
        return -ENOMEM;
    r->buf = p;
    r->buf_cap = cap;
    return 0;
}

/* Make [off, off+need) resident if the file has it; returns how many bytes
 * from off are resident (less than need only at end of file). */
static ssize_t fill(trpt_spool_reader *r, uint64_t off, size_t need)
{
    size_t avail;

    if (off < r->buf_off || off > r->buf_off + r->buf_len) {
        r->buf_off = off;
        r->buf_len = 0;
    } else if (off + need > r->buf_off + r->buf_len) {
        size_t drop = (size_t)(off - r->buf_off);

        memmove(r->buf, r->buf + drop, r->buf_len - drop);
        r->buf_off = off;
        r->buf_len -= drop;
    }
    if (need > r->buf_cap) {
        int rc = grow_buffer(r, need);

        if (rc < 0)
            return rc;
    }
    avail = (size_t)(r->buf_off + r->buf_len - off);
    /* A dead writer's file is final: no pread per probe at its end. */
    while (avail < need && r->buf_len < r->buf_cap &&
           r->buf_off + r->buf_len < r->file_end) {
        ssize_t n = pread(r->fd, r->buf + r->buf_len, r->buf_cap - r->buf_len,
                          (off_t)(r->buf_off + r->buf_len));

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0) {
            if (r->writer_gone)
                r->file_end = r->buf_off + r->buf_len;
            break;
        }
        r->buf_len += (size_t)n;
        avail += (size_t)n;
    }
    return (ssize_t)avail;
}

static size_t resident_from(const trpt_spool_reader *r, uint64_t off)
{
    if (off < r->buf_off || off > r->buf_off + r->buf_len)
        return 0;
    return (size_t)(r->buf_off + r->buf_len - off);
}

/* Judge the frame at off, reading more of the file when needed. */
static int frame_at(trpt_spool_reader *r, uint64_t off, uint32_t *len)
{
    size_t need = FRAME_HEAD_LEN;
    size_t avail = resident_from(r, off);
    enum frame_check c = FRAME_SHORT;
    ssize_t got;

    if (avail > 0)
        c = check_frame(r->buf + (off - r->buf_off), avail, &need, len);
    while (c == FRAME_SHORT) {
        got = fill(r, off, need);
        if (got < 0)
            return (int)got;
        if ((size_t)got < need)
            return FRAME_SHORT;
        c = check_frame(r->buf + (off - r->buf_off), (size_t)got, &need, len);
    }
    return c;
}

/* Find the next offset at or after `from` where a whole valid frame sits.
 * Returns 1 (found, *at set), 0 (none up to the end of the file) or
 * -errno. While the writer lives, a candidate cut off by the end of file
 * may be the frame being written, so the search stops there (0). Payloads
 * are JSON, which never holds a raw NUL, so a fake frame (its length field
 * has NUL bytes) cannot hide in one. */
static int find_valid_frame(trpt_spool_reader *r, uint64_t from, uint64_t *at)
{
    static const unsigned char sync[4] = {0x31, 0x46, 0x52, 0x54};
    uint64_t s = from;
    uint32_t len;

    for (;;) {
        size_t avail = resident_from(r, s);
        const unsigned char *base = avail ? r->buf + (s - r->buf_off) : r->buf;
        const unsigned char *hit = memmem(base, avail, sync, sizeof sync);
        size_t keep = avail < 3 ? avail : 3; /* a sync word may straddle */
        ssize_t got;
        int c;

        if (hit) {
            s += (uint64_t)(hit - base);
            c = frame_at(r, s, &len);
            if (c < 0)
                return c;
            if (c == FRAME_VALID) {
                *at = s;
                return 1;
            }
            if (c == FRAME_SHORT && !r->writer_gone)
                return 0;
            s++;
            continue;
        }
        s += avail - keep;
        got = fill(r, s, r->buf_cap);
        if (got < 0)
            return (int)got;
        if ((size_t)got <= keep)
            return 0; /* end of file */
    }
}

/* flock(LOCK_SH|LOCK_NB) on our own open file description conflicts with
 * the writer's LOCK_EX exactly while the writer lives. */
static int probe_writer_gone(trpt_spool_reader *r)
{
    if (flock(r->fd, LOCK_SH | LOCK_NB) == 0) {
        r->writer_gone = 1;
        return 0;
    }
    if (errno == EWOULDBLOCK || errno == EINTR)
        return 0;
    return -errno;
}

/* A live writer cuts its segment back after a failed commit; frames we
 * passed beyond that point are gone and the next ones start there. */
static int rewind_if_shrunk(trpt_spool_reader *r, uint64_t *size)
{
    struct stat st;

    if (fstat(r->fd, &st) < 0)
        return -errno;
    *size = (uint64_t)st.st_size;
    if (*size < r->offset)
        r->offset = *size < SEG_HEADER_LEN ? SEG_HEADER_LEN : *size;
    return 0;
}

static void forget_buffer(trpt_spool_reader *r)
{
    r->buf_len = 0;
    r->buf_off = r->offset;
}

/* Nothing more valid right now. Returns 1 to try again (the writer just
 * went away: the file is final now), 0 when done for now, or -errno. */
static int reached_end(trpt_spool_reader *r)
{
    uint64_t size;
    int rc;

    if (!r->writer_gone) {
        rc = probe_writer_gone(r);
        if (rc < 0)
            return rc;
        rc = rewind_if_shrunk(r, &size);
        if (rc < 0)
            return rc;
        /* Re-read from the checkpoint next time: buffered bytes past the
         * last commit may yet be truncated and rewritten. */
        forget_buffer(r);
        return r->writer_gone;
    }
    rc = rewind_if_shrunk(r, &size);
    if (rc < 0)
        return rc;
    if (size > r->offset)
        r->stats.torn_bytes += size - r->offset;
    r->finished = 1;
    return 0;
}

static int skip_corruption(trpt_spool_reader *r)
{
    uint64_t at = 0;
    int rc = find_valid_frame(r, r->offset + 1, &at);

    if (rc <= 0)
        return rc;
    r->stats.corrupt_bytes += at - r->offset;
    r->stats.corrupt_frames++;
    r->offset = at;
    return 1;
}

int trpt_spool_reader_next(trpt_spool_reader *r, const char **payload,
                           size_t *len)
{
    if (!r || !payload || !len)
        return -EINVAL;
    while (!r->finished) {
        uint32_t flen;
        int c = frame_at(r, r->offset, &flen);
        int rc;

        if (c < 0)
            return c;
        if (c == FRAME_VALID) {
            *payload = (const char *)r->buf + (r->offset - r->buf_off) +
                       FRAME_HEAD_LEN;
            *len = flen;
            r->offset += FRAME_HEAD_LEN + flen;
            r->stats.frames++;
            return 1;
        }
        /* A short frame of a dead writer may be a corrupt length with
         * valid frames after it; only the writer's own tail waits. */
        rc = 0;
        if (c == FRAME_INVALID || r->writer_gone)
            rc = skip_corruption(r);
        if (rc < 0)
            return rc;
        if (rc > 0)
            continue;
        rc = reached_end(r);
        if (rc <= 0)
            return rc;
    }
    return 0;
}

static int check_header(int fd)
{
    char head[SEG_HEADER_LEN];
    ssize_t n;

    do
        n = pread(fd, head, sizeof head, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if ((size_t)n != sizeof head || memcmp(head, SEG_MAGIC, sizeof head) != 0)
        return -EBADMSG;
    return 0;
}

/* O_NONBLOCK so a FIFO planted under a segment name cannot hang us. */
static int open_segment(const char *dir, const char *name)
{
    struct stat st;
    int dfd = open_spool_dir(dir);
    int fd;

    if (dfd < 0)
        return dfd;
    fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    close(dfd);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    return fd;
}

int trpt_spool_reader_open(trpt_spool_reader **out, const char *dir,
                           const char *name, uint64_t offset)
{
    trpt_spool_reader *r;
    int fd;
    int rc;

    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!is_segment_name(name) || (offset > 0 && offset < SEG_HEADER_LEN))
        return -EINVAL;
    fd = open_segment(dir, name);
    if (fd < 0)
        return fd;
    rc = check_header(fd);
    r = rc == 0 ? calloc(1, sizeof *r) : NULL;
    if (r)
        r->buf = malloc(READ_BUF_START);
    if (!r || !r->buf) {
        free(r);
        close(fd);
        return rc < 0 ? rc : -ENOMEM;
    }
    r->fd = fd;
    r->offset = offset ? offset : SEG_HEADER_LEN;
    r->buf_off = r->offset;
    r->buf_cap = READ_BUF_START;
    r->file_end = UINT64_MAX;
    *out = r;
    return 0;
}

uint64_t trpt_spool_reader_offset(const trpt_spool_reader *r)
{
    return r ? r->offset : 0;
}

int trpt_spool_reader_finished(const trpt_spool_reader *r)
{
    return r ? r->finished : 0;
}

const trpt_spool_stats *trpt_spool_reader_stats(const trpt_spool_reader *r)
{
    return r ? &r->stats : NULL;
}

void trpt_spool_reader_free(trpt_spool_reader *r)
{
    if (!r)
        return;
    close(r->fd);
    free(r->buf);
    free(r);
}
