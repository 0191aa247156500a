/* journal.c - `tlsrpt journal`: MTA entries of the systemd journal -> spool
 * (docs/tlsrpt-journal.1).
 *
 * Entries are read with sd-journal, filtered by journal matches (Postfix's
 * and Exim's SYSLOG_IDENTIFIERs by default), and handed to the parser as
 * pre-framed messages (MESSAGE, _HOSTNAME, SYSLOG_IDENTIFIER, _PID,
 * __REALTIME_TIMESTAMP): no syslog prefix is parsed again.
 *
 * Event ids: source "jr-<seqnum_id>", offset = the entry's seqnum, both from
 * the entry's cursor; they name the same entry after a restart, and grow in
 * emission order because the parser emits at the entry being fed. A new
 * seqnum_id (a reset journal, another machine's files) is a new source: the
 * parser is flushed and a new one started.
 *
 * Crash safety (journal_state.h): after each spool commit the reader saves
 * the entry of the oldest session still open in the parser, the last entry
 * fed and the last event id committed. A restart seeks to that entry and
 * re-feeds from it with a fresh parser, dropping records the spool already
 * has, so sessions open at the crash are rebuilt from their first line and
 * counted once (parser.h, restart support). If that entry has been vacuumed
 * the reader says so, counts a gap and resumes from the oldest entry left;
 * it never jumps to the tail.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "journal_state.h"
#include "logline.h"
#include "parser.h"
#include "sink.h"
#include "timeutil.h"
#include "tlsrpt.h"

#define DEFAULT_COMMIT_MS   1000
#define MAX_PENDING_RECORDS 10000 /* commit earlier than the interval */
#define HOST_MAX            253   /* a DNS name */
#define IDENT_MAX           255   /* the parser's program key bound */
#define STATE_NAME          "journal.state"
#define MAX_LIST            64 /* --file, --match, --unit each */

/* SYSLOG_IDENTIFIER values read by default. Journal matches are exact:
 * Postfix's services whose lines the parser uses (smtp, tlsproxy; qmgr for
 * exclude_sender; lmtp is logged but carries no TLS to report), and Exim
 * under Debian's and upstream's names. Other instances (postfix-out/smtp)
 * take --match. */
static const char *const default_idents[] = {
    "postfix/smtp", "postfix/tlsproxy", "postfix/qmgr", "exim", "exim4",
};

typedef struct jr_opts {
    int follow;
    int have_since;
    int64_t since_us;
    const char *cursor;
    const char *directory;
    const char *files[MAX_LIST + 1];
    size_t nfiles;
    const char *matches[MAX_LIST];
    size_t nmatches;
    const char *units[MAX_LIST];
    size_t nunits;
    const char *state_path;
    unsigned commit_ms;
} jr_opts;

/* Entries counted and skipped, by reason. */
typedef struct jr_counts {
    uint64_t entries;   /* matching entries read */
    uint64_t fed;       /* handed to the parser */
    uint64_t missing;   /* no MESSAGE, SYSLOG_IDENTIFIER, _HOSTNAME or pid */
    uint64_t binary;    /* NUL, newline or invalid UTF-8 in a field */
    uint64_t too_large; /* a field over its bound */
    uint64_t bad_pid;   /* _PID that is no number */
    uint64_t replayed;  /* records dropped: already in the spool */
    uint64_t sources;   /* seqnum_ids seen */
} jr_counts;

typedef struct reader {
    tlsrpt_ctx *ctx;
    const jr_opts *o;
    char *state_path;
    sd_journal *j;
    trpt_sink *sink;
    trpt_parser *parser;
    int sigfd;
    int stop;
    /* the current source */
    char seqnum_id[JR_ID_LEN + 1];
    char source[JR_ID_LEN + 4];
    int have_fed;
    uint64_t last_seqnum;
    /* last event id emitted / committed in the current source */
    int have_emitted, have_committed;
    uint64_t emitted_offset, committed_offset;
    unsigned emitted_sub, committed_sub;
    /* records of the restored source up to here are in the spool */
    jr_state restored;
    int filter;
    /* what the state file says now */
    jr_state saved;
    int dirty; /* fed since the last save */
    int64_t last_commit_us;
    uint64_t watchdog_us;
    int64_t last_ping_us;
    jr_counts n;
} reader;

/* ---- entries ------------------------------------------------------------ */

/* UTF-8 without NUL (RFC 3629: no overlongs, surrogates or values above
 * U+10FFFF). ASCII runs take the short path. */
static int text_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i];

        if (c < 0x80) {
            if (c == 0)
                return 0;
            i++;
            continue;
        }
        size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
        if (len == 0 || c > 0xf4 || i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
        if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] > 0x9f) ||
            (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] > 0x8f))
            return 0;
        i += len;
    }
    return 1;
}

/* The fields of one entry the parser needs; pointers into sd-journal's
 * buffers, valid until the next entry. */
typedef struct entry_fields {
    const char *msg, *host, *ident, *pid, *spid;
    size_t msg_len, host_len, ident_len, pid_len, spid_len;
} entry_fields;

static void take_field(const char *d, size_t l, const char *name, size_t nlen,
                       const char **val, size_t *vlen)
{
    if (l > nlen && memcmp(d, name, nlen) == 0) {
        *val = d + nlen;
        *vlen = l - nlen;
    }
}

#define FIELD(d, l, name, v, vl) take_field(d, l, name, sizeof name - 1, v, vl)

/* One pass over the entry's fields (cheaper than one search per field). */
static int read_fields(sd_journal *j, entry_fields *f)
{
    const void *data;
    size_t l;
    int r;

    memset(f, 0, sizeof *f);
    sd_journal_restart_data(j);
    while ((r = sd_journal_enumerate_available_data(j, &data, &l)) > 0) {
        const char *d = data;

        switch (d[0]) {
        case 'M':
            FIELD(d, l, "MESSAGE=", &f->msg, &f->msg_len);
            break;
        case 'S':
            FIELD(d, l, "SYSLOG_IDENTIFIER=", &f->ident, &f->ident_len);
            FIELD(d, l, "SYSLOG_PID=", &f->spid, &f->spid_len);
            break;
        case '_':
            FIELD(d, l, "_HOSTNAME=", &f->host, &f->host_len);
            FIELD(d, l, "_PID=", &f->pid, &f->pid_len);
            break;
        default:
            break;
        }
    }
    return r;
}

/* A pid: 1..INT_MAX in decimal; -1 if it is not one. */
static long parse_pid(const char *s, size_t n)
{
    long v = 0;

    if (n == 0 || n > 10)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v >= 1 && v <= INT_MAX ? v : -1;
}

/* Why an entry cannot be fed, counted in n; 0 if it can. */
static int entry_refused(jr_counts *n, const entry_fields *f, long *pid)
{
    /* _PID is journald's own; SYSLOG_PID what the sender claimed */
    const char *p = f->pid ? f->pid : f->spid;
    size_t pn = f->pid ? f->pid_len : f->spid_len;

    if (!f->msg || !f->ident || !f->host || !p) {
        n->missing++;
        return 1;
    }
    if (f->msg_len > TRPT_LOGLINE_MAX || f->host_len > HOST_MAX ||
        f->ident_len > IDENT_MAX) {
        n->too_large++;
        return 1;
    }
    if (!text_ok((const unsigned char *)f->msg, f->msg_len) ||
        !text_ok((const unsigned char *)f->host, f->host_len) ||
        !text_ok((const unsigned char *)f->ident, f->ident_len) ||
        memchr(f->msg, '\n', f->msg_len) ||
        memchr(f->host, '\n', f->host_len) ||
        memchr(f->ident, '\n', f->ident_len)) {
        n->binary++;
        return 1;
    }
    if ((*pid = parse_pid(p, pn)) < 0) {
        n->bad_pid++;
        return 1;
    }
    return 0;
}

/* ---- records ------------------------------------------------------------ */

/* The offset and sub of one of our own event ids (source checked by the
 * parser). */
static int id_position(const char *id, uint64_t *offset, unsigned *sub)
{
    const char *src;
    size_t srclen;

    return trpt_event_id_parse(id, &src, &srclen, offset, sub);
}

/* Already in the spool: an entry before the last one fed before the
 * restart, or at most the last id committed then. */
static int already_spooled(const reader *rd, uint64_t off, unsigned sub)
{
    const jr_state *s = &rd->restored;

    if (off < s->fed)
        return 1;
    return s->have_hw &&
           (off < s->hw_offset || (off == s->hw_offset && sub <= s->hw_sub));
}

/* The parser's emit callback. */
static int emit_record(void *ctx, const trpt_record *rec)
{
    reader *rd = ctx;
    uint64_t off;
    unsigned sub;
    int r;

    if ((r = id_position(rec->event_id, &off, &sub)) < 0)
        return r;
    if (rd->filter && already_spooled(rd, off, sub)) {
        rd->n.replayed++;
        return 0;
    }
    if ((r = trpt_sink_emit(rd->sink, rec)) < 0)
        return r;
    rd->have_emitted = 1;
    rd->emitted_offset = off;
    rd->emitted_sub = sub;
    return 0;
}

/* ---- the restart point -------------------------------------------------- */

/* Commits the spool, then saves where to resume: the oldest open session's
 * entry, or the last entry fed. Nothing is saved before the commit
 * succeeded (sink.h: only then may the upstream be acknowledged). */
static int commit_and_save(reader *rd)
{
    jr_state *s = &rd->saved;
    uint64_t restart;
    int r;

    if ((r = trpt_sink_commit(rd->sink)) < 0) {
        tlsrpt_err("journal: spool commit failed: %s; the journal position "
                   "is not advanced",
                   strerror(-r));
        return r;
    }
    rd->last_commit_us = trpt_now_us();
    if (rd->have_emitted) {
        rd->have_committed = 1;
        rd->committed_offset = rd->emitted_offset;
        rd->committed_sub = rd->emitted_sub;
    }
    if (!rd->have_fed || !rd->dirty)
        return 0;
    if (!rd->parser || !trpt_parser_oldest_open(rd->parser, &restart))
        restart = rd->last_seqnum;
    s->valid = 1;
    memcpy(s->seqnum_id, rd->seqnum_id, sizeof s->seqnum_id);
    s->restart = restart;
    /* while re-feeding after a restart, the entries up to the restored
     * "fed" are still all in the spool */
    s->fed = rd->filter && rd->restored.fed > rd->last_seqnum ? rd->restored.fed
                                                              : rd->last_seqnum;
    s->have_hw = rd->have_committed;
    s->hw_offset = rd->committed_offset;
    s->hw_sub = rd->committed_sub;
    for (size_t i = 0; i < s->nnatives; i++)
        free(s->natives[i]);
    s->nnatives = 0;
    for (const char *h; rd->parser && s->nnatives < JR_MAX_NATIVES &&
                        (h = trpt_parser_native_host(rd->parser, s->nnatives));)
        if (!(s->natives[s->nnatives++] = strdup(h)))
            return -ENOMEM;
    if ((r = jr_state_save(rd->state_path, s)) < 0) {
        tlsrpt_err("journal: cannot save %s: %s", rd->state_path, strerror(-r));
        return r;
    }
    rd->dirty = 0;
    return 0;
}

/* ---- sources ------------------------------------------------------------ */

static int start_parser(reader *rd, const char *seqnum_id)
{
    trpt_parser_config pc = {
        .format = TRPT_FORMAT_AUTO,
        .source_id = rd->source,
        .ref_time_us = 0, /* times come from the journal, not from text */
        .max_sessions = rd->ctx->cfg->max_sessions,
        .session_timeout_s = rd->ctx->cfg->session_timeout,
        /* trpt_strv keeps its array NULL-terminated: the parser's form. */
        .exclude_senders = (const char *const *)rd->ctx->cfg->exclude_senders.v,
        .tlsrpt_mode = rd->ctx->cfg->postfix_tlsrpt,
    };
    int same =
        rd->restored.valid && strcmp(rd->restored.seqnum_id, seqnum_id) == 0;
    int r;

    memcpy(rd->seqnum_id, seqnum_id, JR_ID_LEN + 1);
    snprintf(rd->source, sizeof rd->source, "jr-%s", seqnum_id);
    if ((r = trpt_parser_new(&rd->parser, &pc, emit_record, rd)) < 0)
        return r;
    rd->n.sources++;
    rd->have_fed = 0;
    rd->have_emitted = rd->have_committed = 0;
    rd->filter = same;
    if (!same)
        return 0;
    /* the restored source: its ids continue, its hosts stay native */
    rd->have_emitted = rd->have_committed = rd->restored.have_hw;
    rd->emitted_offset = rd->committed_offset = rd->restored.hw_offset;
    rd->emitted_sub = rd->committed_sub = rd->restored.hw_sub;
    for (size_t i = 0; i < rd->restored.nnatives && r == 0; i++)
        r = trpt_parser_add_native_host(rd->parser, rd->restored.natives[i]);
    return r;
}

/* End of a source (or of the input): sessions that can be finished are;
 * the rest cannot be given a domain any more. */
static int finish_source(reader *rd)
{
    int r = 0;

    if (!rd->parser)
        return 0;
    if (rd->have_fed)
        r = trpt_parser_flush(rd->parser, rd->last_seqnum);
    if (r == 0)
        r = commit_and_save(rd);
    return r;
}

static void add_parse_stats(reader *rd, trpt_parser_stats *tot)
{
    const trpt_parser_stats *ps;

    if (!rd->parser)
        return;
    ps = trpt_parser_stats_get(rd->parser);
    tot->records += ps->records;
    tot->evicted += ps->evicted;
    tot->timed_out += ps->timed_out;
    tot->unfinished += ps->unfinished;
    for (int i = 0; i < TRPT_PERR_COUNT; i++)
        tot->errors[i] += ps->errors[i];
}

static int switch_source(reader *rd, const char *seqnum_id,
                         trpt_parser_stats *tot)
{
    int r;

    if (rd->parser) {
        tlsrpt_info(rd->ctx, "journal: new seqnum_id %s (was %s)", seqnum_id,
                    rd->seqnum_id);
        if ((r = finish_source(rd)) < 0)
            return r;
        add_parse_stats(rd, tot);
        trpt_parser_free(rd->parser);
        rd->parser = NULL;
    }
    return start_parser(rd, seqnum_id);
}

/* ---- one entry ---------------------------------------------------------- */

static int feed_entry(reader *rd, trpt_parser_stats *tot)
{
    char id[JR_ID_LEN + 1], host[HOST_MAX + 1], ident[IDENT_MAX + 1];
    char *cursor = NULL;
    uint64_t seqnum, realtime;
    entry_fields f;
    jr_counts replayed = {0}, *count = &rd->n;
    long pid;
    int r;

    rd->n.entries++;
    if ((r = sd_journal_get_cursor(rd->j, &cursor)) < 0)
        return r;
    r = jr_cursor_parse(cursor, id, &seqnum);
    free(cursor);
    if (r < 0)
        return r;
    if ((!rd->parser || strcmp(id, rd->seqnum_id) != 0) &&
        (r = switch_source(rd, id, tot)) < 0)
        return r;
    if (rd->have_fed && seqnum <= rd->last_seqnum)
        return 0; /* the same entry twice (copies in several files) */
    rd->have_fed = 1;
    rd->last_seqnum = seqnum;
    rd->dirty = 1;
    /* an entry read again after a restart was counted the first time */
    if (rd->filter && seqnum <= rd->restored.fed)
        count = &replayed;
    if ((r = sd_journal_get_realtime_usec(rd->j, &realtime)) < 0 ||
        (r = read_fields(rd->j, &f)) < 0) {
        count->binary++; /* a damaged or undecodable entry */
        return 0;
    }
    if (entry_refused(count, &f, &pid))
        return 0;
    memcpy(host, f.host, f.host_len);
    host[f.host_len] = '\0';
    memcpy(ident, f.ident, f.ident_len);
    ident[f.ident_len] = '\0';
    rd->n.fed++;
    if (realtime > INT64_MAX)
        realtime = INT64_MAX;
    return trpt_parser_feed_msg(rd->parser, (int64_t)realtime, host, ident, pid,
                                f.msg, f.msg_len, seqnum);
}

/* ---- positioning -------------------------------------------------------- */

/* 1 when positioned on an entry, 0 at the end, negative errno. */
static int seek_head(reader *rd)
{
    int r = sd_journal_seek_head(rd->j);

    return r < 0 ? r : sd_journal_next(rd->j);
}

/* The entry of the saved cursor is gone. If the oldest entry left is newer
 * (vacuumed, rotated away), resume there with a counted gap; never from
 * the tail. If older entries of that journal remain, the entry itself was
 * dropped (damage): resume at the first one after it. */
static int resume_after_loss(reader *rd, const char *cursor)
{
    char id[JR_ID_LEN + 1];
    char *head = NULL;
    uint64_t seq = 0;
    int r = seek_head(rd), newer;

    if (r <= 0)
        return r;
    if ((r = sd_journal_get_cursor(rd->j, &head)) < 0)
        return r;
    r = jr_cursor_parse(head, id, &seq);
    free(head);
    if (r < 0)
        return r;
    newer =
        strcmp(id, rd->restored.seqnum_id) != 0 || seq > rd->restored.restart;
    if (newer) {
        rd->saved.gaps++;
        tlsrpt_err("journal: warning: the saved position (%s) is no longer "
                   "in the journal (vacuumed or rotated away); resuming from "
                   "the oldest entry left (seqnum %" PRIu64
                   "); entries in between were lost (gap %" PRIu64 ")",
                   cursor, seq, rd->saved.gaps);
        return 1;
    }
    tlsrpt_err("journal: warning: the entry of the saved position (%s) is "
               "missing; resuming after it",
               cursor);
    if ((r = sd_journal_seek_cursor(rd->j, cursor)) < 0)
        return r;
    return sd_journal_next(rd->j);
}

/* The saved restart point: its entry is re-fed (1 = positioned on it). */
static int seek_saved(reader *rd)
{
    char cursor[JR_CURSOR_MAX];
    int r;

    jr_state_cursor(&rd->restored, cursor);
    if ((r = sd_journal_seek_cursor(rd->j, cursor)) < 0)
        return r;
    if ((r = sd_journal_next(rd->j)) < 0)
        return r;
    if (r > 0 && sd_journal_test_cursor(rd->j, cursor) > 0)
        return 1;
    return resume_after_loss(rd, cursor);
}

/* --cursor: start after that entry, like journalctl --after-cursor. */
static int seek_user_cursor(reader *rd, const char *cursor)
{
    int r = sd_journal_seek_cursor(rd->j, cursor);

    if (r < 0) {
        tlsrpt_err("journal: bad cursor: %s", cursor);
        return r;
    }
    if ((r = sd_journal_next(rd->j)) <= 0)
        return r;
    if (sd_journal_test_cursor(rd->j, cursor) > 0)
        return sd_journal_next(rd->j);
    tlsrpt_err("journal: warning: the entry of --cursor is not in the "
               "journal; starting at the first entry after it");
    return 1;
}

static int position(reader *rd)
{
    int r;

    if (rd->o->cursor)
        return seek_user_cursor(rd, rd->o->cursor);
    if (rd->o->have_since) {
        r = sd_journal_seek_realtime_usec(rd->j, (uint64_t)rd->o->since_us);
        return r < 0 ? r : sd_journal_next(rd->j);
    }
    if (rd->restored.valid)
        return seek_saved(rd);
    return seek_head(rd); /* first run: the whole journal */
}

/* ---- opening ------------------------------------------------------------ */

static int add_matches(reader *rd)
{
    const jr_opts *o = rd->o;
    char buf[300];
    int r = 0;

    if (o->nmatches) {
        for (size_t i = 0; i < o->nmatches && r == 0; i++)
            r = sd_journal_add_match(rd->j, o->matches[i], 0);
    } else {
        for (size_t i = 0; i < sizeof default_idents / sizeof *default_idents;
             i++) {
            snprintf(buf, sizeof buf, "SYSLOG_IDENTIFIER=%s",
                     default_idents[i]);
            if ((r = sd_journal_add_match(rd->j, buf, 0)) < 0)
                break;
        }
    }
    if (r == 0 && o->nunits)
        r = sd_journal_add_disjunction(rd->j);
    for (size_t i = 0; i < o->nunits && r == 0; i++) {
        if (snprintf(buf, sizeof buf, "_SYSTEMD_UNIT=%s", o->units[i]) >=
            (int)sizeof buf)
            return -ENAMETOOLONG;
        r = sd_journal_add_match(rd->j, buf, 0);
    }
    return r;
}

static int open_journal(reader *rd)
{
    const jr_opts *o = rd->o;
    int r;

    if (o->nfiles)
        r = sd_journal_open_files(&rd->j, (const char **)o->files, 0);
    else if (o->directory)
        r = sd_journal_open_directory(&rd->j, o->directory, 0);
    else
        r = sd_journal_open(&rd->j, SD_JOURNAL_LOCAL_ONLY);
    if (r < 0) {
        tlsrpt_err("journal: cannot open the journal%s%s: %s",
                   o->directory ? " in " : "", o->directory ? o->directory : "",
                   strerror(-r));
        return r;
    }
    /* Longer messages are refused anyway: do not decompress them whole. */
    sd_journal_set_data_threshold(rd->j,
                                  sizeof "MESSAGE=" - 1 + TRPT_LOGLINE_MAX + 1);
    if ((r = add_matches(rd)) < 0)
        tlsrpt_err("journal: bad match: %s", strerror(-r));
    return r;
}

/* ---- signals, systemd --------------------------------------------------- */

static int setup_signals(reader *rd)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -errno;
    rd->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    return rd->sigfd < 0 ? -errno : 0;
}

/* SIGTERM/SIGINT: stop after this entry (commit, save, exit 0); SIGHUP:
 * start a new spool segment (log rotation tools). */
static void check_signals(reader *rd)
{
    struct signalfd_siginfo si;

    while (read(rd->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGHUP)
            (void)trpt_sink_reopen(rd->sink);
        else
            rd->stop = 1;
    }
}

static void notify_status(reader *rd, int64_t now)
{
    if (rd->watchdog_us && now - rd->last_ping_us >= (int64_t)rd->watchdog_us) {
        sd_notifyf(0,
                   "WATCHDOG=1\nSTATUS=%" PRIu64 " entries, %" PRIu64
                   " records committed, %" PRIu64 " gaps",
                   rd->n.entries, trpt_sink_stats_get(rd->sink)->committed,
                   rd->saved.gaps);
        rd->last_ping_us = now;
    }
}

/* Waits for journal changes, a signal, the watchdog or the commit timer. */
static int wait_for_entries(reader *rd)
{
    struct pollfd pfd[2];
    int fd = sd_journal_get_fd(rd->j), events = sd_journal_get_events(rd->j);
    uint64_t t = UINT64_MAX;
    int timeout_ms = 1000, r;

    if (fd < 0)
        return fd;
    if (sd_journal_get_timeout(rd->j, &t) >= 0 && t != UINT64_MAX) {
        struct timespec ts;
        uint64_t now;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
        t = t > now ? (t - now + 999) / 1000 : 0;
        if (t < (uint64_t)timeout_ms)
            timeout_ms = (int)t;
    }
    if (rd->watchdog_us && rd->watchdog_us / 1000 < (uint64_t)timeout_ms)
        timeout_ms = (int)(rd->watchdog_us / 1000);
    pfd[0] = (struct pollfd){.fd = fd, .events = (short)events};
    pfd[1] = (struct pollfd){.fd = rd->sigfd, .events = POLLIN};
    r = poll(pfd, 2, timeout_ms);
    if (r < 0 && errno != EINTR)
        return -errno;
    r = sd_journal_process(rd->j);
    return r < 0 ? r : 0;
}

/* ---- the loop ----------------------------------------------------------- */

static int due_commit(reader *rd, int64_t now)
{
    return trpt_sink_pending(rd->sink) >= MAX_PENDING_RECORDS ||
           now - rd->last_commit_us >= (int64_t)rd->o->commit_ms * 1000;
}

static int run(reader *rd, trpt_parser_stats *tot)
{
    int have = position(rd), r = 0;
    unsigned polls = 0;

    if (have < 0) {
        tlsrpt_err("journal: cannot position the journal: %s", strerror(-have));
        return have;
    }
    sd_notify(0, "READY=1");
    rd->last_commit_us = rd->last_ping_us = trpt_now_us();
    while (!rd->stop) {
        int64_t now;

        if (have && (r = feed_entry(rd, tot)) < 0)
            break;
        /* a system call per entry would be a visible share of the time */
        if ((++polls & 63) == 0 || !have || rd->o->commit_ms == 0) {
            check_signals(rd);
            now = trpt_now_us();
            notify_status(rd, now);
            if (due_commit(rd, now) && (r = commit_and_save(rd)) < 0)
                break;
        }
        if (rd->stop || (have = sd_journal_next(rd->j)) > 0)
            continue;
        if (have < 0) {
            r = have;
            break;
        }
        if (!rd->o->follow)
            break;
        if ((r = commit_and_save(rd)) < 0 || (r = wait_for_entries(rd)) < 0)
            break;
    }
    if (r < 0)
        return r;
    /* Files given on the command line are all there is: finish what can
     * be finished. The live journal goes on: open sessions stay open for
     * the next run, which re-feeds them from the saved position. */
    if (!rd->stop && !rd->o->follow && (rd->o->nfiles || rd->o->directory))
        return finish_source(rd);
    return commit_and_save(rd);
}

/* ---- options ------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(
        f,
        "Usage: tlsrpt journal [--follow] [--since TIME | --cursor CURSOR]\n"
        "                      [--directory DIR | --file FILE...]\n"
        "                      [--match FIELD=VALUE]... [--unit UNIT]...\n"
        "                      [--state FILE] [--commit-interval MS]\n"
        "Read Postfix and Exim entries of the systemd journal into the "
        "spool.\n"
        "  -f, --follow           keep waiting for new entries\n"
        "  -S, --since TIME       start at this RFC 3339 time\n"
        "      --cursor CURSOR    start after this journal cursor\n"
        "  -D, --directory DIR    journal files in DIR (backfill)\n"
        "      --file FILE        this journal file (repeatable)\n"
        "  -m, --match F=V        journal match (repeatable; default "
        "SYSLOG_IDENTIFIER\n"
        "                         of postfix/smtp, postfix/tlsproxy, "
        "postfix/qmgr, exim, exim4)\n"
        "  -u, --unit UNIT        also entries of this systemd unit\n"
        "      --state FILE       restart point (default "
        "STATE_DIRECTORY/" STATE_NAME ")\n"
        "      --commit-interval MS  spool commit and state save "
        "interval (default %d)\n",
        DEFAULT_COMMIT_MS);
}

/* FIELD=VALUE with a journal field name: A-Z, 0-9, '_', not leading
 * digit. */
static int match_ok(const char *s)
{
    const char *eq = strchr(s, '=');

    if (!eq || eq == s || eq - s > 64 || (*s >= '0' && *s <= '9'))
        return 0;
    for (const char *p = s; p < eq; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return 0;
    return strlen(eq + 1) <= 255;
}

static int push(const char **v, size_t *n, const char *s)
{
    if (*n >= MAX_LIST)
        return -E2BIG;
    v[(*n)++] = s;
    return 0;
}

enum { OPT_CURSOR = 256, OPT_FILE, OPT_STATE, OPT_COMMIT };

static int parse_number_ms(const char *s, unsigned *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > 3600000)
        return -EINVAL;
    *out = (unsigned)v;
    return 0;
}

/* -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, jr_opts *o)
{
    static const struct option opts[] = {
        {"follow", no_argument, NULL, 'f'},
        {"since", required_argument, NULL, 'S'},
        {"cursor", required_argument, NULL, OPT_CURSOR},
        {"directory", required_argument, NULL, 'D'},
        {"file", required_argument, NULL, OPT_FILE},
        {"match", required_argument, NULL, 'm'},
        {"unit", required_argument, NULL, 'u'},
        {"state", required_argument, NULL, OPT_STATE},
        {"commit-interval", required_argument, NULL, OPT_COMMIT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    o->commit_ms = DEFAULT_COMMIT_MS;
    while ((c = getopt_long(argc, argv, "fS:D:m:u:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            o->follow = 1;
            break;
        case 'S':
            if (tlsrpt_parse_time_arg("journal", optarg, &o->since_us) < 0)
                return TLSRPT_EXIT_USAGE;
            if (o->since_us < 0)
                return tlsrpt_usage_error("journal", "--since before 1970");
            o->have_since = 1;
            break;
        case OPT_CURSOR:
            if (!*optarg || strlen(optarg) > 512)
                return tlsrpt_usage_error("journal", "bad cursor");
            o->cursor = optarg;
            break;
        case 'D':
            o->directory = optarg;
            break;
        case OPT_FILE:
            if (push(o->files, &o->nfiles, optarg) < 0)
                return tlsrpt_usage_error("journal", "too many --file");
            break;
        case 'm':
            if (!match_ok(optarg) || push(o->matches, &o->nmatches, optarg) < 0)
                return tlsrpt_usage_error("journal", "bad --match: %s", optarg);
            break;
        case 'u':
            if (!*optarg || strlen(optarg) > 255 ||
                push(o->units, &o->nunits, optarg) < 0)
                return tlsrpt_usage_error("journal", "bad --unit: %s", optarg);
            break;
        case OPT_STATE:
            if (!*optarg)
                return tlsrpt_usage_error("journal", "--state needs a file");
            o->state_path = optarg;
            break;
        case OPT_COMMIT:
            if (parse_number_ms(optarg, &o->commit_ms) < 0)
                return tlsrpt_usage_error(
                    "journal", "bad --commit-interval (0-3600000 ms): %s",
                    optarg);
            break;
        case 'h':
            usage(stdout);
            return TLSRPT_EXIT_OK;
        default:
            return tlsrpt_usage_error("journal", "bad option");
        }
    }
    if (optind < argc)
        return tlsrpt_usage_error("journal", "unexpected argument: %s",
                                  argv[optind]);
    if (o->cursor && o->have_since)
        return tlsrpt_usage_error("journal", "--cursor or --since, not both");
    if (o->directory && o->nfiles)
        return tlsrpt_usage_error("journal", "--directory or --file, not both");
    return -1;
}

/* ---- setup and teardown ------------------------------------------------- */

static int load_state(reader *rd)
{
    int r = jr_state_load(rd->state_path, &rd->restored);

    if (r == -ENOENT)
        return 0;
    if (r < 0) {
        tlsrpt_err("journal: %s: %s; not guessing a position: move it "
                   "away to start from the oldest entry (records already "
                   "spooled are then counted again only if the aggregator "
                   "has not seen them)",
                   rd->state_path,
                   r == -EBADMSG ? "damaged state file" : strerror(-r));
        return r;
    }
    rd->saved.gaps = rd->restored.gaps;
    return 0;
}

static int open_sink(reader *rd)
{
    const trpt_config *c = rd->ctx->cfg;
    trpt_sink_config sc = {
        .type = TRPT_SINK_SPOOL,
        .spool_directory = c->spool_directory,
        .fsync = c->spool_fsync,
    };
    int r;

    if ((r = trpt_sink_open(&rd->sink, &sc)) < 0)
        tlsrpt_err("journal: cannot open spool %s: %s", c->spool_directory,
                   strerror(-r));
    return r;
}

static int setup(reader *rd, int *lockfd)
{
    const trpt_config *c = rd->ctx->cfg;
    int r;

    if (rd->o->state_path)
        rd->state_path = strdup(rd->o->state_path);
    else if (asprintf(&rd->state_path, "%s/%s", c->state_directory,
                      STATE_NAME) < 0)
        rd->state_path = NULL;
    if (!rd->state_path)
        return -ENOMEM;
    if (tlsrpt_ensure_dir(c->spool_directory, "spool") != 0 ||
        (!rd->o->state_path &&
         tlsrpt_ensure_dir(c->state_directory, "state") != 0))
        return -EIO;
    if ((*lockfd = jr_state_lock(rd->state_path)) < 0) {
        if (*lockfd == -EWOULDBLOCK)
            tlsrpt_err("journal: %s is in use by another reader",
                       rd->state_path);
        else
            tlsrpt_err("journal: cannot lock %s.lock: %s", rd->state_path,
                       strerror(-*lockfd));
        return *lockfd;
    }
    if ((r = load_state(rd)) < 0 || (r = open_sink(rd)) < 0 ||
        (r = open_journal(rd)) < 0)
        return r;
    if ((r = setup_signals(rd)) < 0)
        return r;
    if (sd_watchdog_enabled(0, &rd->watchdog_us) <= 0)
        rd->watchdog_us = 0;
    rd->watchdog_us /= 2; /* ping twice per period */
    return 0;
}

static void print_summary(const reader *rd, const trpt_parser_stats *ps)
{
    const trpt_sink_stats *ss = trpt_sink_stats_get(rd->sink);

    fprintf(stderr,
            "tlsrpt journal: %" PRIu64 " entries, %" PRIu64 " fed, %" PRIu64
            " records written to %s\n",
            rd->n.entries, rd->n.fed, ss ? ss->committed : 0,
            rd->ctx->cfg->spool_directory);
    if (rd->n.missing || rd->n.binary || rd->n.too_large || rd->n.bad_pid)
        fprintf(stderr,
                "  skipped entries: missing-field %" PRIu64 ", binary %" PRIu64
                ", too-large %" PRIu64 ", bad-pid %" PRIu64 "\n",
                rd->n.missing, rd->n.binary, rd->n.too_large, rd->n.bad_pid);
    if (rd->n.replayed)
        fprintf(stderr,
                "  resumed: %" PRIu64 " records already in the spool "
                "not written again\n",
                rd->n.replayed);
    if (rd->saved.gaps)
        fprintf(stderr, "  gaps: %" PRIu64 " (saved position vacuumed)\n",
                rd->saved.gaps);
    for (int i = 0; i < TRPT_PERR_COUNT; i++)
        if (ps->errors[i])
            fprintf(stderr, "  parser: %s %" PRIu64 "\n",
                    trpt_parse_error_name((trpt_parse_error)i), ps->errors[i]);
}

static void teardown(reader *rd, int lockfd)
{
    trpt_parser_free(rd->parser);
    if (rd->sink && trpt_sink_close(rd->sink) < 0)
        tlsrpt_err("journal: closing the spool failed");
    if (rd->j)
        sd_journal_close(rd->j);
    if (rd->sigfd >= 0)
        close(rd->sigfd);
    if (lockfd >= 0)
        close(lockfd);
    jr_state_clear(&rd->restored);
    jr_state_clear(&rd->saved);
    free(rd->state_path);
}

int cmd_journal(tlsrpt_ctx *ctx, int argc, char **argv)
{
    jr_opts o = {0};
    reader rd = {.ctx = ctx, .o = &o, .sigfd = -1};
    trpt_parser_stats tot = {0};
    uint64_t gaps_before;
    int rc, r, lockfd = -1;

    if ((rc = parse_args(argc, argv, &o)) >= 0)
        return rc;
    r = setup(&rd, &lockfd);
    gaps_before = rd.saved.gaps;
    if (r == 0)
        r = run(&rd, &tot);
    add_parse_stats(&rd, &tot);
    sd_notify(0, "STOPPING=1");
    if (rd.sink)
        print_summary(&rd, &tot);
    if (r < 0)
        rc = TLSRPT_EXIT_SYSTEM;
    else if (rd.stop)
        rc = TLSRPT_EXIT_OK; /* SIGTERM: a normal stop */
    else if (rd.n.missing || rd.n.binary || rd.n.too_large || rd.n.bad_pid ||
             rd.saved.gaps > gaps_before)
        rc = TLSRPT_EXIT_INPUT;
    else
        rc = TLSRPT_EXIT_OK;
    teardown(&rd, lockfd);
    return rc;
}
