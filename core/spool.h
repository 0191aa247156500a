/*
 * spool.h - the local spool: a directory of append-only segment files with
 * framed, checksummed records.
 *
 * Layout: DIR/seg-<16 hex usec>-<pid>-<8 hex random>.tsp. Each writer owns
 * its own segment (held with flock(LOCK_EX) while open), so any number of
 * writers (rsyslog workers, journal reader, ingest) can run at once with no
 * interleaving. A segment starts with the 8-byte magic "TRPTSEG1"; then
 * frames:  u32 sync 0x54524631 ("TRF1" LE) | u32 len | u32 crc32(len||payload)
 *          | payload (len bytes, one record's JSON, no newline).
 * A frame is valid only if sync, length bound and CRC agree. A segment whose
 * writer still holds its lock may end in a partial frame (being written);
 * in an unlocked segment a partial or corrupt tail is torn (crash) and is
 * skipped and counted, never misread. Corruption in the middle is skipped by
 * scanning to the next valid sync word, and counted.
 *
 * Writer:
 * trpt_spool_writer_open()    create a new segment in dir
 * trpt_spool_writer_append()  add one encoded record to the pending batch
 * trpt_spool_writer_commit()  write the pending batch with one write(2) and,
 *                             per fsync policy, fdatasync; on failure the
 *                             segment is truncated back to the last commit
 *                             (nothing half-written) and -errno returned
 * trpt_spool_writer_discard() drop the pending batch
 * trpt_spool_writer_reopen()  move to a new segment at the next commit
 *                             (SIGHUP); the current one is released then
 * trpt_spool_writer_close()   commit, release, free (NULL ok)
 * Segments roll over at max_segment_bytes.
 *
 * Reader (the aggregator):
 * trpt_spool_list()           sorted segment names in dir
 * trpt_spool_reader_open()    open one segment at a byte offset
 * trpt_spool_reader_next()    next valid payload: 1 = got one, 0 = no more
 *                             now (writer alive, maybe more later, or end),
 *                             negative errno on I/O error
 * trpt_spool_reader_offset()  byte offset after the last returned frame
 * trpt_spool_reader_finished() 1 if the segment's writer is gone and
 *                             everything valid has been returned
 */
#ifndef TRPT_SPOOL_H
#define TRPT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define TRPT_SPOOL_MAX_FRAME (1u << 20) /* 1 MiB per record, hard bound */

typedef enum trpt_fsync_policy {
    TRPT_FSYNC_ALWAYS = 0, /* fdatasync every commit (default) */
    TRPT_FSYNC_NEVER,      /* leave it to the kernel */
} trpt_fsync_policy;

typedef struct trpt_spool_writer trpt_spool_writer;

typedef struct trpt_spool_writer_config {
    trpt_fsync_policy fsync;
    uint64_t max_segment_bytes; /* default 64 MiB */
} trpt_spool_writer_config;

int trpt_spool_writer_open(trpt_spool_writer **out, const char *dir,
                           const trpt_spool_writer_config *cfg);
int trpt_spool_writer_append(trpt_spool_writer *w, const char *payload,
                             size_t len);
int trpt_spool_writer_commit(trpt_spool_writer *w);
void trpt_spool_writer_discard(trpt_spool_writer *w);
int trpt_spool_writer_reopen(trpt_spool_writer *w);
int trpt_spool_writer_close(trpt_spool_writer *w);

typedef struct trpt_spool_stats {
    uint64_t frames;         /* valid frames returned */
    uint64_t torn_bytes;     /* bytes of torn tails skipped */
    uint64_t corrupt_bytes;  /* bytes skipped while resynchronising */
    uint64_t corrupt_frames; /* resync events */
} trpt_spool_stats;

typedef struct trpt_spool_reader trpt_spool_reader;

/* *names is a NULL-terminated malloc'd array of malloc'd names (basename),
 * sorted by creation time; free with trpt_spool_list_free(). */
int trpt_spool_list(const char *dir, char ***names);
void trpt_spool_list_free(char **names);

int trpt_spool_reader_open(trpt_spool_reader **out, const char *dir,
                           const char *name, uint64_t offset);
int trpt_spool_reader_next(trpt_spool_reader *r, const char **payload,
                           size_t *len);
uint64_t trpt_spool_reader_offset(const trpt_spool_reader *r);
int trpt_spool_reader_finished(const trpt_spool_reader *r);
const trpt_spool_stats *trpt_spool_reader_stats(const trpt_spool_reader *r);
void trpt_spool_reader_free(trpt_spool_reader *r);

/* Remove a segment (after its records are reported). */
int trpt_spool_remove(const char *dir, const char *name);

#endif
