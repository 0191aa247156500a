/* ingest.c - `tlsrpt ingest`: mail log files (plain or gzip) -> spool.
 *
 * Each input is read in chunks and split into lines here, with a hard bound
 * on line length (longer lines are counted and skipped, never buffered), and
 * fed to a trpt_parser with the byte offset of the line in the uncompressed
 * stream. The event id source is "file-<FNV-1a 64 of the first line>", so a
 * rotated and gzipped log keeps the ids it had as a plain file and the
 * aggregator skips what it has seen (design.md, event ids). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "cpu.h"
#include "logline.h"
#include "parser.h"
#include "record.h"
#include "sink.h"
#include "timeutil.h"
#include "tlsrpt.h"

/* zlib reads straight into our buffer (no copy) when a request is at
 * least twice its own buffer, for plain and gzip input alike. */
#define READ_CHUNK      (1024 * 1024)
#define GZ_BUFFER       (READ_CHUNK / 4)
#define COMMIT_BYTES    (1024 * 1024) /* encoded JSON per spool commit */
#define PROGRESS_MIN_US 500000        /* quiet for inputs that take < 0.5 s */
#define PROGRESS_GAP_US 250000        /* at most four updates a second */

typedef struct ingest_opts {
    trpt_mta_format format;
    int year; /* 0 = from the file's mtime */
    const char *host;
} ingest_opts;

/* Where records go: the record sink, shared by every input. */
typedef struct ingest_sink {
    trpt_sink *sink;
    const char *spool_dir;
    int spool_error; /* negative errno once the spool failed */
} ingest_sink;

typedef struct ingest_totals {
    unsigned files, bad_files;
    uint64_t lines, too_long_lines, bytes;
    trpt_parser_stats parse;
} ingest_totals;

/* One input being read. */
typedef struct input {
    const char *name; /* for messages; "-" is stdin */
    gzFile gz;
    off_t size; /* compressed size for progress, 0 = unknown */
    int64_t ref_time_us;
    trpt_parser *parser;
    char *line;       /* carry-over of a line split across chunks */
    size_t line_len;  /* bytes in line (<= TRPT_LOGLINE_MAX + 1) */
    int overlong;     /* current line exceeded the bound: skip to '\n' */
    uint64_t line_at; /* stream offset of the current line */
    uint64_t offset;  /* stream offset of the next unread byte */
    uint64_t lines;
    uint64_t too_long;
    int64_t started_us, shown_us;
} input;

/* --- spool sink ---------------------------------------------------------- */

static int sink_commit(ingest_sink *s)
{
    int r;

    if (s->spool_error)
        return s->spool_error;
    if ((r = trpt_sink_commit(s->sink)) < 0)
        s->spool_error = r;
    return r;
}

/* The parser's emit callback: append (--host is the sink's default host),
 * and commit every COMMIT_BYTES. */
static int sink_emit(void *ctx, const trpt_record *rec)
{
    ingest_sink *s = ctx;
    int r;

    if (s->spool_error)
        return s->spool_error;
    if ((r = trpt_sink_emit(s->sink, rec)) < 0) {
        s->spool_error = r;
        return r;
    }
    if (trpt_sink_pending_bytes(s->sink) >= COMMIT_BYTES)
        return sink_commit(s);
    return 0;
}

/* --- progress on a terminal ---------------------------------------------- */

static void progress_show(input *in, int final)
{
    int64_t now = trpt_now_us();
    double secs = (double)(now - in->started_us) / 1e6;
    int pct = -1;

    if (in->started_us == 0)
        return;
    if (!final && (now - in->started_us < PROGRESS_MIN_US ||
                   now - in->shown_us < PROGRESS_GAP_US))
        return;
    if (final) {
        if (in->shown_us)
            fputs("\r\033[K", stderr);
        return;
    }
    in->shown_us = now;
    if (in->size > 0) {
        off_t pos = gzoffset(in->gz);

        if (pos >= 0)
            pct = (int)(pos * 100 / in->size);
    }
    fprintf(stderr, "\r\033[K%s: %" PRIu64 " lines, %.0f lines/s", in->name,
            in->lines, secs > 0 ? (double)in->lines / secs : 0.0);
    if (pct >= 0)
        fprintf(stderr, ", %d%%", pct > 100 ? 100 : pct);
}

/* --- lines --------------------------------------------------------------- */

/* FNV-1a 64 (public domain algorithm) of the first line: the source id. */
static uint64_t fnv1a64(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int start_parser(input *in, const ingest_opts *o, const trpt_config *c,
                        const char *const *senders, ingest_sink *s,
                        const char *first, size_t len)
{
    char source[32];
    trpt_parser_config pc = {
        .format = o->format,
        .source_id = source,
        .ref_time_us = in->ref_time_us,
        .max_sessions = c->max_sessions,
        .session_timeout_s = c->session_timeout,
        .exclude_senders = senders,
        .tlsrpt_mode = c->postfix_tlsrpt,
    };

    snprintf(source, sizeof source, "file-%016" PRIx64, fnv1a64(first, len));
    return trpt_parser_new(&in->parser, &pc, sink_emit, s);
}

typedef struct feed_env {
    const ingest_opts *opts;
    const trpt_config *cfg;
    const char *const *senders;
    ingest_sink *sink;
} feed_env;

/* One complete line (without '\n'); a trailing '\r' is dropped. `ascii`:
 * the line is known to be ASCII without NUL bytes (find_newline). */
static int line_done(input *in, const feed_env *env, const char *p, size_t len,
                     int ascii)
{
    int r;

    in->lines++;
    if (in->overlong) {
        in->too_long++;
        in->overlong = 0;
        /* A source id still needs the first line, even an overlong one. */
        if (!in->parser &&
            (r = start_parser(in, env->opts, env->cfg, env->senders, env->sink,
                              p, len)) < 0)
            return r;
        return 0;
    }
    /* The source id hashes the raw line: a CRLF copy of a log is a
     * different byte stream, with different offsets. */
    if (!in->parser && (r = start_parser(in, env->opts, env->cfg, env->senders,
                                         env->sink, p, len)) < 0)
        return r;
    if (len && p[len - 1] == '\r')
        len--;
    if (ascii)
        return trpt_parser_feed_ascii(in->parser, p, len, in->line_at);
    return trpt_parser_feed(in->parser, p, len, in->line_at);
}

/* Bytes that rule out the parser's ASCII fast path: NUL and non-ASCII. */
static inline int odd_byte(unsigned char c)
{
    return c == 0 || c >= 0x80;
}

/* The first '\n' in [p, end), or NULL; *ascii is 1 when every byte before
 * it (or before end) is ASCII other than NUL. One pass over the bytes does
 * both, so the parser need not check the line again. The tail (and
 * machines without AVX2) take the byte loop. */
static const char *find_newline_bytes(const char *p, const char *end,
                                      unsigned odd, int *ascii)
{
    for (; p < end; p++) {
        if (*p == '\n') {
            *ascii = !odd;
            return p;
        }
        odd |= (unsigned)odd_byte((unsigned char)*p);
    }
    *ascii = !odd;
    return NULL;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* 32 bytes a step: the bytes without a newline only OR into an
 * accumulator; the block with the newline is looked at closely. */
__attribute__((target("avx2"))) static const char *
find_newline_avx2(const char *p, const char *end, int *ascii)
{
    const __m256i nl = _mm256_set1_epi8('\n'), zero = _mm256_setzero_si256();
    __m256i acc = zero;

    for (; end - p >= 32; p += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
        unsigned at = (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, nl));
        __m256i odd = _mm256_or_si256(v, _mm256_cmpeq_epi8(v, zero));

        if (at) {
            unsigned k = (unsigned)__builtin_ctz(at);
            unsigned bad = (unsigned)_mm256_movemask_epi8(odd) &
                           (unsigned)((1ull << k) - 1); /* before it only */

            *ascii = !bad && !_mm256_movemask_epi8(acc);
            return p + k;
        }
        acc = _mm256_or_si256(acc, odd);
    }
    return find_newline_bytes(p, end, (unsigned)_mm256_movemask_epi8(acc),
                              ascii);
}

#endif

static const char *find_newline(const char *p, const char *end, int *ascii)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (trpt_cpu_has_avx2())
        return find_newline_avx2(p, end, ascii);
#endif
    return find_newline_bytes(p, end, 0, ascii);
}

/* Adds a partial line to the carry-over buffer, never beyond the bound. */
static void carry(input *in, const char *p, size_t n)
{
    size_t room = TRPT_LOGLINE_MAX + 1 - in->line_len;

    if (in->overlong)
        return;
    if (n >= room) { /* reaching MAX + 1 bytes makes it too long */
        memcpy(in->line + in->line_len, p, room);
        in->line_len += room;
        in->overlong = 1;
        return;
    }
    memcpy(in->line + in->line_len, p, n);
    in->line_len += n;
}

/* Splits a chunk into lines. Whole lines inside the chunk are fed in place;
 * only a line crossing a chunk boundary is copied. */
static int split_chunk(input *in, const feed_env *env, const char *p, size_t n)
{
    const char *end = p + n;
    int r;

    while (p < end) {
        int ascii;
        const char *nl = find_newline(p, end, &ascii);
        size_t seg = nl ? (size_t)(nl - p) : (size_t)(end - p);

        if (!nl) {
            carry(in, p, seg);
            in->offset += seg;
            return 0;
        }
        if (in->line_len == 0 && !in->overlong) {
            if (seg > TRPT_LOGLINE_MAX) {
                in->overlong = 1;
                r = line_done(in, env, p, TRPT_LOGLINE_MAX + 1, 0);
            } else {
                r = line_done(in, env, p, seg, ascii);
            }
        } else {
            carry(in, p, seg);
            r = line_done(in, env, in->line, in->line_len, 0);
        }
        in->line_len = 0;
        in->offset += seg + 1;
        in->line_at = in->offset;
        if (r < 0)
            return r;
        p = nl + 1;
        if ((in->lines & 0x3fff) == 0)
            progress_show(in, 0);
    }
    return 0;
}

/* --- one input ------------------------------------------------------------ */

static int64_t end_of_year_us(int year)
{
    return (trpt_days_from_civil(year, 12, 31) * 86400 + 86399) * 1000000LL;
}

/* Opens a file (or stdin for "-"); syslog lines have no year, so the
 * reference time is the file's mtime (rotated logs end near it), for stdin
 * now; --year overrides both. */
static int input_open(input *in, const char *name, const ingest_opts *o)
{
    struct stat st;
    int fd = strcmp(name, "-") == 0 ? dup(STDIN_FILENO)
                                    : open(name, O_RDONLY | O_CLOEXEC);

    memset(in, 0, sizeof *in);
    in->name = strcmp(name, "-") == 0 ? "(stdin)" : name;
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
        int r = S_ISDIR(st.st_mode) ? -EISDIR : -errno;

        close(fd);
        return r;
    }
    in->size = S_ISREG(st.st_mode) ? st.st_size : 0;
    in->ref_time_us = strcmp(name, "-") == 0 || !S_ISREG(st.st_mode)
                          ? trpt_now_us()
                          : (int64_t)st.st_mtime * 1000000LL;
    if (o->year)
        in->ref_time_us = end_of_year_us(o->year);
    in->line = malloc(TRPT_LOGLINE_MAX + 1);
    in->gz = in->line ? gzdopen(fd, "rb") : NULL;
    if (!in->gz) {
        close(fd);
        free(in->line);
        in->line = NULL;
        return -ENOMEM;
    }
    gzbuffer(in->gz, GZ_BUFFER);
    return 0;
}

static void input_close(input *in)
{
    if (in->gz)
        gzclose(in->gz);
    trpt_parser_free(in->parser);
    free(in->line);
    memset(in, 0, sizeof *in);
}

/* The last line may lack its '\n'; it is a line all the same. */
static int finish_stream(input *in, const feed_env *env)
{
    int r = 0;

    if (in->line_len || in->overlong) {
        r = line_done(in, env, in->line, in->line_len, 0);
        in->line_len = 0;
    }
    if (r == 0 && in->parser)
        r = trpt_parser_flush(in->parser, in->offset);
    return r;
}

static void add_stats(ingest_totals *t, const input *in)
{
    const trpt_parser_stats *ps;

    t->lines += in->lines;
    t->too_long_lines += in->too_long;
    t->bytes += in->offset;
    if (!in->parser)
        return;
    ps = trpt_parser_stats_get(in->parser);
    t->parse.records += ps->records;
    t->parse.excluded += ps->excluded;
    t->parse.evicted += ps->evicted;
    t->parse.timed_out += ps->timed_out;
    t->parse.superseded += ps->superseded;
    t->parse.unfinished += ps->unfinished;
    t->parse.lines_used += ps->lines_used;
    for (int i = 0; i < TRPT_PERR_COUNT; i++)
        t->parse.errors[i] += ps->errors[i];
}

/* gzerror() prefixes the reason with "<fd:N>: ", which says nothing. */
static const char *gz_reason(const char *msg)
{
    const char *colon = msg ? strstr(msg, ": ") : NULL;

    if (!msg)
        return "unknown error";
    return msg[0] == '<' && colon ? colon + 2 : msg;
}

/* Reads one input to its end. Returns 0, 1 for a damaged input (the good
 * lines before the damage are kept), or a negative errno for a spool or
 * memory failure that must stop the whole run. */
static int ingest_one(const char *name, const feed_env *env, ingest_totals *tot,
                      char *chunk)
{
    input in;
    int r, n, zerr = Z_OK, damaged = 0;

    if ((r = input_open(&in, name, env->opts)) < 0) {
        tlsrpt_err("%s: %s", name, strerror(-r));
        if (r == -ENOMEM)
            return r;
        tot->files++;
        tot->bad_files++;
        return 1;
    }
    if (isatty(STDERR_FILENO))
        in.started_us = trpt_now_us();
    r = 0;
    while ((n = gzread(in.gz, chunk, READ_CHUNK)) > 0)
        if ((r = split_chunk(&in, env, chunk, (size_t)n)) < 0)
            break;
    progress_show(&in, 1);
    /* zlib reports a truncated gzip stream as end of input with
     * Z_BUF_ERROR set, not as a -1 from gzread(). */
    const char *msg = gzerror(in.gz, &zerr);
    if (r == 0 && (n < 0 || zerr != Z_OK)) {

        tlsrpt_err("%s: %s after %" PRIu64 " bytes (%s); the %" PRIu64
                   " lines before it are kept",
                   in.name,
                   zerr == Z_ERRNO ? "read error" : "damaged or truncated gzip",
                   in.offset,
                   zerr == Z_ERRNO ? strerror(errno) : gz_reason(msg),
                   in.lines);
        damaged = 1;
        in.line_len = 0; /* a line cut by the damage is not a line */
        in.overlong = 0;
    }
    if (r == 0)
        r = finish_stream(&in, env);
    if (r == 0)
        r = sink_commit(env->sink);
    add_stats(tot, &in);
    input_close(&in);
    tot->files++;
    tot->bad_files += damaged;
    return r < 0 ? r : damaged;
}

/* --- summary and options ------------------------------------------------- */

static void print_summary(const ingest_totals *t, const trpt_sink_stats *st,
                          const char *spool_dir)
{
    uint64_t errors[TRPT_PERR_COUNT];
    int any = 0;

    /* Lines refused here and lines the parser refused, in one list. */
    memcpy(errors, t->parse.errors, sizeof errors);
    errors[TRPT_PERR_TOO_LONG] += t->too_long_lines;
    fprintf(stderr,
            "tlsrpt ingest: %u file(s), %" PRIu64 " lines, %" PRIu64
            " bytes, %" PRIu64 " records written to %s\n",
            t->files, t->lines, t->bytes, st->committed, spool_dir);
    for (int i = 0; i < TRPT_PERR_COUNT; i++) {
        if (!errors[i])
            continue;
        fprintf(stderr, "%s%s %" PRIu64, any ? ", " : "  skipped lines: ",
                trpt_parse_error_name((trpt_parse_error)i), errors[i]);
        any = 1;
    }
    if (any)
        fputc('\n', stderr);
    if (t->parse.excluded || t->parse.evicted || t->parse.timed_out)
        fprintf(stderr,
                "  sessions: %" PRIu64 " excluded (exclude_sender), %" PRIu64
                " finished early (max_sessions), %" PRIu64
                " timed out (session_timeout)\n",
                t->parse.excluded, t->parse.evicted, t->parse.timed_out);
    if (t->parse.superseded || t->parse.unfinished)
        fprintf(stderr,
                "  sessions: %" PRIu64 " classic sessions not counted "
                "(postfix_tlsrpt), %" PRIu64
                " unfinished at end of input (no domain yet)\n",
                t->parse.superseded, t->parse.unfinished);
    if (t->bad_files)
        fprintf(stderr, "  %u input(s) could not be read completely\n",
                t->bad_files);
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: tlsrpt ingest [--format auto|postfix|exim] "
               "[--year YYYY] [--host NAME] FILE...|-\n"
               "Parse mail logs (plain or gzip) into the spool.\n"
               "  -f, --format FMT  log format (default auto)\n"
               "  -y, --year YYYY   year of syslog lines without one "
               "(default: from the file's mtime)\n"
               "  -H, --host NAME   reporting host for logs without a host "
               "field (Exim mainlog)\n");
}

static int parse_format(const char *s, trpt_mta_format *out)
{
    if (strcmp(s, "auto") == 0)
        *out = TRPT_FORMAT_AUTO;
    else if (strcmp(s, "postfix") == 0)
        *out = TRPT_FORMAT_POSTFIX;
    else if (strcmp(s, "exim") == 0)
        *out = TRPT_FORMAT_EXIM;
    else
        return -EINVAL;
    return 0;
}

/* Returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, ingest_opts *o)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"year", required_argument, NULL, 'y'},
        {"host", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char *end;
    long y;
    int c;

    while ((c = getopt_long(argc, argv, "f:y:H:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (parse_format(optarg, &o->format) < 0)
                return tlsrpt_usage_error("ingest", "unknown format: %s",
                                          optarg);
            break;
        case 'y':
            errno = 0;
            y = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || y < 1970 || y > 9999)
                return tlsrpt_usage_error("ingest", "bad year: %s", optarg);
            o->year = (int)y;
            break;
        case 'H':
            if (!tlsrpt_valid_host(optarg))
                return tlsrpt_usage_error("ingest", "bad host name: %s",
                                          optarg);
            o->host = optarg;
            break;
        case 'h':
            usage(stdout);
            return TLSRPT_EXIT_OK;
        default:
            return tlsrpt_usage_error("ingest", "bad option");
        }
    }
    if (optind >= argc)
        return tlsrpt_usage_error("ingest", "no input files (use - for stdin)");
    return -1;
}

/* Durability: ingest acknowledges nothing to anyone until it exits, and
 * the writer fsyncs each segment when it lets it go (at a segment roll
 * and at close, before the exit status). So spool_fsync = always is met by
 * those fsyncs; an fdatasync per 1 MiB commit would only make the run wait
 * for the disk again and again. Commits still write whole batches (after
 * reserving the space), so ENOSPC leaves nothing half-written; a crash
 * mid-run loses the unsynced tail, which the next ingest of the same file
 * writes again (the aggregator skips the records it already has by event
 * id). */
static int open_sink(const tlsrpt_ctx *ctx, ingest_sink *s, const char *host)
{
    trpt_sink_config sc = {
        .type = TRPT_SINK_SPOOL,
        .spool_directory = ctx->cfg->spool_directory,
        .fsync = TRPT_FSYNC_NEVER,
        .default_host = host,
    };
    int r;

    s->spool_dir = ctx->cfg->spool_directory;
    if ((r = tlsrpt_ensure_dir(s->spool_dir, "spool")) != 0)
        return r;
    if ((r = trpt_sink_open(&s->sink, &sc)) < 0) {
        tlsrpt_err("cannot open spool %s: %s", s->spool_dir, strerror(-r));
        return TLSRPT_EXIT_SYSTEM;
    }
    return 0;
}

/* After a spool error nothing more is committed: what is pending is
 * dropped, the committed records stay. */
static int close_sink(ingest_sink *s, trpt_sink_stats *final)
{
    int r;

    if (s->spool_error)
        trpt_sink_discard(s->sink);
    *final = *trpt_sink_stats_get(s->sink);
    r = trpt_sink_close(s->sink);
    s->sink = NULL;
    if (r < 0 && !s->spool_error)
        s->spool_error = r;
    return s->spool_error;
}

int cmd_ingest(tlsrpt_ctx *ctx, int argc, char **argv)
{
    ingest_opts o = {0};
    ingest_sink sink = {0};
    ingest_totals tot = {0};
    trpt_sink_stats final;
    /* trpt_strv keeps its array NULL-terminated: the parser's form. */
    const char *const *senders =
        (const char *const *)ctx->cfg->exclude_senders.v;
    char *chunk;
    int rc, r = 0, bad = 0;

    if ((rc = parse_args(argc, argv, &o)) >= 0)
        return rc;
    chunk = malloc(READ_CHUNK);
    if (!chunk) {
        tlsrpt_err("out of memory");
        return TLSRPT_EXIT_SYSTEM;
    }
    if ((rc = open_sink(ctx, &sink, o.host)) != 0) {
        free(chunk);
        return rc;
    }
    feed_env env = {&o, ctx->cfg, senders, &sink};
    for (int i = optind; i < argc && r >= 0; i++) {
        tlsrpt_info(ctx, "reading %s", argv[i]);
        r = ingest_one(argv[i], &env, &tot, chunk);
        bad |= r > 0;
    }
    if (close_sink(&sink, &final) < 0 && r >= 0)
        r = sink.spool_error;
    print_summary(&tot, &final, sink.spool_dir);
    free(chunk);
    if (r < 0) {
        if (sink.spool_error)
            tlsrpt_err("spool %s: %s; records committed before the error are "
                       "kept, nothing is half-written; fix it and ingest "
                       "again (records already spooled are skipped by "
                       "event id)",
                       sink.spool_dir, strerror(-sink.spool_error));
        else
            tlsrpt_err("stopped: %s", strerror(-r));
        return TLSRPT_EXIT_SYSTEM;
    }
    return bad ? TLSRPT_EXIT_INPUT : TLSRPT_EXIT_OK;
}
