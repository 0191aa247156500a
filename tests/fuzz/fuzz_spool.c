/* fuzz_spool.c - the spool reader on arbitrary segment bodies: never
 * crash, never return a payload whose frame CRC does not hold. */
#include "spool.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <zlib.h>

#define SEG_NAME "seg-0000000000000001-1-00000001.tsp"

static char spool_dir[64];
static char seg_path[160];

static void remove_dir(void)
{
    unlink(seg_path);
    rmdir(spool_dir);
}

static void make_dir_once(void)
{
    if (spool_dir[0])
        return;
    snprintf(spool_dir, sizeof spool_dir, "/tmp/fuzz-spool-XXXXXX");
    if (!mkdtemp(spool_dir))
        abort();
    snprintf(seg_path, sizeof seg_path, "%s/%s", spool_dir, SEG_NAME);
    atexit(remove_dir);
}

static void write_segment(const uint8_t *data, size_t size)
{
    int fd = open(seg_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0 || write(fd, "TRPTSEG1", 8) != 8 ||
        (size && write(fd, data, size) != (ssize_t)size))
        abort();
    close(fd);
}

/* The frame header sits right before the payload in the segment; the CRC
 * is recomputed here with zlib, independently of the reader. */
static void check_payload(const uint8_t *data, size_t size, uint64_t end,
                          const char *p, size_t len)
{
    uint64_t start = end - len - 12 - 8; /* offset within data */
    unsigned char lenle[4];
    uint32_t crc, stored;

    if (len == 0 || len > TRPT_SPOOL_MAX_FRAME || end < len + 20 ||
        start + 12 + len > size)
        abort();
    if (memcmp(data + start, "1FRT", 4) != 0 ||
        memcmp(data + start + 12, p, len) != 0)
        abort();
    memcpy(lenle, data + start + 4, 4);
    if ((uint32_t)(lenle[0] | lenle[1] << 8 | lenle[2] << 16 |
                   (uint32_t)lenle[3] << 24) != len)
        abort();
    crc = (uint32_t)crc32(crc32(0L, lenle, 4), (const Bytef *)p, (uInt)len);
    stored = (uint32_t)data[start + 8] | (uint32_t)data[start + 9] << 8 |
             (uint32_t)data[start + 10] << 16 |
             (uint32_t)data[start + 11] << 24;
    if (crc != stored)
        abort();
}

/* Read what is there now; returns the bytes of returned frames. */
static uint64_t drain(trpt_spool_reader *r, const uint8_t *data, size_t size)
{
    const char *p;
    size_t len;
    uint64_t frames = 0;
    int rc;

    while ((rc = trpt_spool_reader_next(r, &p, &len)) == 1) {
        check_payload(data, size, trpt_spool_reader_offset(r), p, len);
        frames += 12 + len;
    }
    if (rc != 0)
        abort();
    return frames;
}

/* First byte: 1 = a live writer holds the lock while we read first. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trpt_spool_reader *r = NULL;
    const trpt_spool_stats *st;
    uint64_t accounted = 0;
    int live = size > 0 && (data[0] & 1);
    int lock = -1;

    if (size > 0) {
        data++;
        size--;
    }
    make_dir_once();
    write_segment(data, size);
    if (trpt_spool_reader_open(&r, spool_dir, SEG_NAME, 0) != 0)
        abort();
    if (live) {
        lock = open(seg_path, O_RDONLY | O_CLOEXEC);
        if (lock < 0 || flock(lock, LOCK_EX) < 0)
            abort();
        accounted += drain(r, data, size);
        st = trpt_spool_reader_stats(r);
        /* A live segment's tail is never judged torn. */
        if (trpt_spool_reader_finished(r) || st->torn_bytes)
            abort();
        close(lock);
    }
    accounted += drain(r, data, size);
    /* The writer is gone: every byte is a returned frame, skipped
     * corruption or the torn tail. */
    st = trpt_spool_reader_stats(r);
    accounted += st->corrupt_bytes + st->torn_bytes;
    if (!trpt_spool_reader_finished(r) || accounted != size)
        abort();
    trpt_spool_reader_free(r);
    return 0;
}
