/*
 * journal_state.h - the restart point of `tlsrpt journal`, one small text
 * file replaced atomically (write a temporary file, fsync, rename, fsync
 * the directory), so a kill leaves the old or the new point, never a mix.
 *
 * It is written only after the spool commit of every record emitted so
 * far returned 0 (sink.h), and holds:
 *   cursor   where to resume: "s=<seqnum_id>;i=<seqnum hex>", the entry
 *            of the oldest session still open in the parser (or the last
 *            entry fed); resuming re-feeds that entry
 *   fed      the seqnum of the last entry fed: every record of an entry
 *            before it is in the spool
 *   hw       the last event id committed (offset and sub) of that source
 *   gaps     how often the reader found its cursor vacuumed
 *   native   hosts known to log Postfix TLSRPT: lines (repeated)
 * The event id source is "jr-<seqnum_id>": seqnum_id and seqnum come from
 * the journal's own cursor, so they name the same entry after a restart.
 *
 * jr_state_load()   read; -ENOENT when there is none, -EBADMSG when it is
 *                   damaged (the caller refuses to guess)
 * jr_state_save()   replace atomically
 * jr_state_lock()   take the exclusive lock beside the file (one reader
 *                   per state); returns the lock fd
 * jr_state_clear()  free what load allocated
 */
#ifndef TLSRPT_JOURNAL_STATE_H
#define TLSRPT_JOURNAL_STATE_H

#include <stddef.h>
#include <stdint.h>

#define JR_ID_LEN      32  /* seqnum_id: 128 bits in hex */
#define JR_MAX_NATIVES 256 /* the parser keeps no more */

typedef struct jr_state {
    int valid;                     /* a cursor was loaded or set */
    char seqnum_id[JR_ID_LEN + 1]; /* lower-case hex */
    uint64_t restart;              /* seqnum to resume at (re-fed) */
    uint64_t fed;                  /* seqnum of the last entry fed */
    int have_hw;
    uint64_t hw_offset;
    unsigned hw_sub;
    uint64_t gaps;
    char *natives[JR_MAX_NATIVES];
    size_t nnatives;
} jr_state;

int jr_state_load(const char *path, jr_state *st);
int jr_state_save(const char *path, const jr_state *st);
int jr_state_lock(const char *path);
void jr_state_clear(jr_state *st);

/* "s=<id>;i=<hex>" for seeking and testing (sd_journal_seek_cursor takes a
 * cursor with only these fields). buf >= JR_CURSOR_MAX. */
#define JR_CURSOR_MAX 64
void jr_state_cursor(const jr_state *st, char *buf);

/* The seqnum_id and seqnum of a journal cursor ("s=...;i=...;..."):
 * 0 or -EINVAL. */
int jr_cursor_parse(const char *cursor, char id[JR_ID_LEN + 1],
                    uint64_t *seqnum);

#endif
