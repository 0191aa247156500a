/* params.c - omtlsrpt's action() parameters; see params.h. Names follow
 * rsyslog's camelCase (omfile "dirCreateMode", omkafka "errorFile");
 * rsyslog matches them case-insensitively and checks their types. */
#include "params.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

#define PATH_MAX_LEN   3072 /* as tlsrpt.conf's directories */
#define SENDER_MAX     320  /* RFC 5321 path limit, with room */
#define SEGMENT_MIN    (1ull << 20)
#define SEGMENT_MAX    (1ull << 40)
#define MAX_EXCLUSIONS 1000
#define TEMPLATE_MAX   512

enum {
    P_TEMPLATE,
    P_SPOOL_DIR,
    P_FSYNC,
    P_SEGMENT,
    P_FORMAT,
    P_TLSRPT,
    P_MAX_SESSIONS,
    P_TIMEOUT,
    P_EXCLUDE,
    P_SINK,
    P_STATS,
    P_CONFIG,
    P_ORDERED,
    P_ORDER_TIMEOUT,
    P_COUNT
};

static struct cnfparamdescr descr[P_COUNT] = {
    [P_TEMPLATE] = {"template", eCmdHdlrGetWord, 0},
    [P_SPOOL_DIR] = {"spoolDirectory", eCmdHdlrString, 0},
    [P_FSYNC] = {"spoolFsync", eCmdHdlrGetWord, 0},
    [P_SEGMENT] = {"spoolMaxSegmentSize", eCmdHdlrSize, 0},
    [P_FORMAT] = {"mtaFormat", eCmdHdlrGetWord, 0},
    [P_TLSRPT] = {"postfixTlsrpt", eCmdHdlrGetWord, 0},
    [P_MAX_SESSIONS] = {"maxSessions", eCmdHdlrPositiveInt, 0},
    [P_TIMEOUT] = {"sessionTimeout", eCmdHdlrPositiveInt, 0},
    [P_EXCLUDE] = {"excludeSender", eCmdHdlrArray, 0},
    [P_SINK] = {"sink", eCmdHdlrGetWord, 0},
    [P_STATS] = {"statsFile", eCmdHdlrString, 0},
    [P_CONFIG] = {"configFile", eCmdHdlrString, 0},
    [P_ORDERED] = {"orderBySequence", eCmdHdlrBinary, 0},
    [P_ORDER_TIMEOUT] = {"orderTimeout", eCmdHdlrPositiveInt, 0},
};

struct cnfparamblk otr_params_blk = {CNFPARAMBLK_VERSION, P_COUNT, descr};

static int word_index(const char *s, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(s, words[i]) == 0)
            return (int)i;
    return -1;
}

int otr_parse_format(const char *s, trpt_mta_format *out)
{
    static const char *const w[] = {"auto", "postfix", "exim"};
    static const trpt_mta_format v[] = {TRPT_FORMAT_AUTO, TRPT_FORMAT_POSTFIX,
                                        TRPT_FORMAT_EXIM};
    int i = word_index(s, w, 3);

    if (i < 0)
        return -EINVAL;
    *out = v[i];
    return 0;
}

/* The words of tlsrpt.conf's postfix_tlsrpt (docs/tlsrpt.conf.5). */
int otr_parse_tlsrpt_mode(const char *s, trpt_tlsrpt_mode *out)
{
    static const char *const w[] = {"auto", "yes", "no", "datagrams"};
    static const trpt_tlsrpt_mode v[] = {TRPT_TLSRPT_AUTO, TRPT_TLSRPT_ONLY,
                                         TRPT_TLSRPT_CLASSIC,
                                         TRPT_TLSRPT_DATAGRAMS};
    int i = word_index(s, w, 4);

    if (i < 0)
        return -EINVAL;
    *out = v[i];
    return 0;
}

int otr_parse_fsync(const char *s, trpt_fsync_policy *out)
{
    static const char *const w[] = {"always", "never"};
    static const trpt_fsync_policy v[] = {TRPT_FSYNC_ALWAYS, TRPT_FSYNC_NEVER};
    int i = word_index(s, w, 2);

    if (i < 0)
        return -EINVAL;
    *out = v[i];
    return 0;
}

/* Only the spool today; "kafka" joins when that transport exists. */
int otr_parse_sink(const char *s, trpt_sink_type *out)
{
    if (strcasecmp(s, "spool") != 0)
        return -EINVAL;
    *out = TRPT_SINK_SPOOL;
    return 0;
}

static int is_address_byte(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '<' && c != '>' && c != '"' && c != ',';
}

int otr_parse_sender(const char *s, char **out)
{
    size_t len = strlen(s);

    if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
        s++;
        len -= 2;
    }
    if (len == 0 || len > SENDER_MAX)
        return -EINVAL;
    for (size_t i = 0; i < len; i++)
        if (!is_address_byte((unsigned char)s[i]))
            return -EINVAL;
    if (!memchr(s, '@', len))
        return -EINVAL;
    if (!(*out = strndup(s, len)))
        return -ENOMEM;
    return 0;
}

static int say(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int say(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

static int check_path(const char *name, const char *v, char *err, size_t errlen)
{
    if (v[0] != '/')
        return say(err, errlen, "%s must be an absolute path", name);
    if (strlen(v) > PATH_MAX_LEN || !printable(v))
        return say(err, errlen, "%s is too long or not printable", name);
    return 0;
}

/* A string value as a C string (rsyslog's strings may hold NUL bytes:
 * those are refused). */
static int value_string(const struct cnfparamvals *v, char **out)
{
    size_t len;

    if (v->val.datatype != 'S' || !v->val.d.estr)
        return -EINVAL;
    len = es_strlen(v->val.d.estr);
    if (!(*out = es_str2cstr(v->val.d.estr, NULL)))
        return -ENOMEM;
    if (strlen(*out) != len) {
        free(*out);
        *out = NULL;
        return -EINVAL;
    }
    return 0;
}

/* Senders from tlsrpt.conf (configFile) or excludeSender. */
static int copy_senders(const trpt_strv *sv, char ***out)
{
    char **v = calloc(sv->n + 1, sizeof *v);

    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < sv->n; i++)
        if (!(v[i] = strdup(sv->v[i]))) {
            otr_strings_free(v);
            return -ENOMEM;
        }
    otr_strings_free(*out);
    *out = v;
    return 0;
}

static int apply_defaults(otr_config *c)
{
    memset(c, 0, sizeof *c);
    c->format = TRPT_FORMAT_AUTO;
    c->tlsrpt_mode = TRPT_TLSRPT_AUTO;
    c->sink_type = TRPT_SINK_SPOOL;
    c->fsync = TRPT_FSYNC_ALWAYS; /* rsyslog drops the batch on our OK */
    c->max_sessions = 100000;
    c->session_timeout_s = 3600;
    c->order_timeout_ms = OTR_ORDER_TIMEOUT_DEFAULT;
    if (!(c->template_name = strdup(OTR_DEFAULT_TEMPLATE)) ||
        !(c->spool_directory = strdup(OTR_DEFAULT_SPOOL_DIR)))
        return -ENOMEM;
    return 0;
}

/* configFile: the settings tlsrpt.conf shares with the edges, so one file
 * configures the aggregator and the module alike. */
static int apply_config_file(otr_config *c, const char *path, char *err,
                             size_t errlen)
{
    trpt_config *tc;
    char msg[256] = "";
    int r;

    if ((r = check_path("configFile", path, err, errlen)) < 0)
        return r;
    if ((r = trpt_config_load(&tc, path, msg, sizeof msg)) < 0)
        return say(err, errlen, "configFile: %s", msg[0] ? msg : strerror(-r));
    free(c->spool_directory);
    c->spool_directory = strdup(tc->spool_directory);
    c->fsync = tc->spool_fsync;
    c->max_sessions = tc->max_sessions;
    c->session_timeout_s = tc->session_timeout;
    c->tlsrpt_mode = tc->postfix_tlsrpt;
    r = c->spool_directory ? 0 : -ENOMEM;
    if (r == 0 && tc->exclude_senders.n)
        r = copy_senders(&tc->exclude_senders, &c->exclude_senders);
    trpt_config_free(tc);
    return r;
}

static int read_senders(const struct cnfparamvals *v, otr_config *c, char *err,
                        size_t errlen)
{
    const struct cnfarray *ar = v->val.d.ar;
    char **senders;
    int r;

    if (v->val.datatype != 'A' || !ar || ar->nmemb < 0 ||
        ar->nmemb > MAX_EXCLUSIONS)
        return say(err, errlen, "excludeSender: up to %d addresses",
                   MAX_EXCLUSIONS);
    if (!(senders = calloc((size_t)ar->nmemb + 1, sizeof *senders)))
        return -ENOMEM;
    for (int i = 0; i < ar->nmemb; i++) {
        char *s = es_str2cstr(ar->arr[i], NULL);

        if (!s) {
            otr_strings_free(senders);
            return -ENOMEM;
        }
        r = otr_parse_sender(s, &senders[i]);
        if (r < 0) {
            if (r == -EINVAL)
                say(err, errlen,
                    "excludeSender: not an envelope address: "
                    "'%.64s'",
                    s);
            free(s);
            otr_strings_free(senders);
            return r;
        }
        free(s);
    }
    otr_strings_free(c->exclude_senders);
    c->exclude_senders = senders;
    return 0;
}

/* One word-valued parameter through its parser. */
static int read_word(const struct cnfparamvals *v, int idx,
                     int (*parse)(const char *, void *), void *out,
                     const char *allowed, char *err, size_t errlen)
{
    char *s;
    int r;

    if ((r = value_string(v, &s)) < 0)
        return r == -ENOMEM
                   ? r
                   : say(err, errlen, "%s: bad value", descr[idx].name);
    r = parse(s, out);
    if (r < 0)
        say(err, errlen, "%s: '%.64s' is not one of %s", descr[idx].name, s,
            allowed);
    free(s);
    return r;
}

static int parse_format_v(const char *s, void *o)
{
    return otr_parse_format(s, o);
}
static int parse_tlsrpt_v(const char *s, void *o)
{
    return otr_parse_tlsrpt_mode(s, o);
}
static int parse_fsync_v(const char *s, void *o)
{
    return otr_parse_fsync(s, o);
}
static int parse_sink_v(const char *s, void *o)
{
    return otr_parse_sink(s, o);
}

static int read_path(const struct cnfparamvals *v, int idx, char **field,
                     char *err, size_t errlen)
{
    char *s;
    int r;

    if ((r = value_string(v, &s)) < 0)
        return r == -ENOMEM
                   ? r
                   : say(err, errlen, "%s: bad value", descr[idx].name);
    if ((r = check_path(descr[idx].name, s, err, errlen)) < 0) {
        free(s);
        return r;
    }
    free(*field);
    *field = s;
    return 0;
}

static int read_number(const struct cnfparamvals *v, int idx,
                       unsigned long long lo, unsigned long long hi,
                       unsigned long long *out, char *err, size_t errlen)
{
    long long n = v->val.d.n;

    if (v->val.datatype != 'N' || n < 0 || (unsigned long long)n < lo ||
        (unsigned long long)n > hi)
        return say(err, errlen, "%s: must be between %llu and %llu",
                   descr[idx].name, lo, hi);
    *out = (unsigned long long)n;
    return 0;
}

static int read_template(const struct cnfparamvals *v, otr_config *c, char *err,
                         size_t errlen)
{
    char *s;
    int r;

    if ((r = value_string(v, &s)) < 0)
        return r == -ENOMEM ? r : say(err, errlen, "template: bad value");
    if (!s[0] || strlen(s) > TEMPLATE_MAX || !printable(s)) {
        free(s);
        return say(err, errlen, "template: bad name");
    }
    free(c->template_name);
    c->template_name = s;
    return 0;
}

static int read_numbers(const struct cnfparamvals *vals, otr_config *c,
                        char *err, size_t errlen)
{
    unsigned long long n = 0;
    int r;

    if (vals[P_MAX_SESSIONS].bUsed) {
        if ((r = read_number(&vals[P_MAX_SESSIONS], P_MAX_SESSIONS, 1,
                             OTR_MAX_SESSIONS_MAX, &n, err, errlen)) < 0)
            return r;
        c->max_sessions = (size_t)n;
    }
    if (vals[P_TIMEOUT].bUsed) {
        if ((r = read_number(&vals[P_TIMEOUT], P_TIMEOUT, 1, OTR_TIMEOUT_MAX,
                             &n, err, errlen)) < 0)
            return r;
        c->session_timeout_s = (unsigned)n;
    }
    if (vals[P_ORDER_TIMEOUT].bUsed) {
        if ((r = read_number(&vals[P_ORDER_TIMEOUT], P_ORDER_TIMEOUT, 1,
                             OTR_ORDER_TIMEOUT_MAX, &n, err, errlen)) < 0)
            return r;
        c->order_timeout_ms = (unsigned)n;
    }
    if (vals[P_ORDERED].bUsed)
        c->ordered = vals[P_ORDERED].val.d.n != 0;
    if (vals[P_SEGMENT].bUsed) {
        if ((r = read_number(&vals[P_SEGMENT], P_SEGMENT, SEGMENT_MIN,
                             SEGMENT_MAX, &n, err, errlen)) < 0)
            return r;
        c->max_segment_bytes = n;
    }
    return 0;
}

static int read_words(const struct cnfparamvals *vals, otr_config *c, char *err,
                      size_t errlen)
{
    int r = 0;

    if (vals[P_FORMAT].bUsed)
        r = read_word(&vals[P_FORMAT], P_FORMAT, parse_format_v, &c->format,
                      "auto, postfix, exim", err, errlen);
    if (r == 0 && vals[P_TLSRPT].bUsed)
        r = read_word(&vals[P_TLSRPT], P_TLSRPT, parse_tlsrpt_v,
                      &c->tlsrpt_mode, "auto, yes, no, datagrams", err, errlen);
    if (r == 0 && vals[P_FSYNC].bUsed)
        r = read_word(&vals[P_FSYNC], P_FSYNC, parse_fsync_v, &c->fsync,
                      "always, never", err, errlen);
    if (r == 0 && vals[P_SINK].bUsed)
        r = read_word(&vals[P_SINK], P_SINK, parse_sink_v, &c->sink_type,
                      "spool", err, errlen);
    return r;
}

int otr_params_read(const struct cnfparamvals *vals, otr_config *out, char *err,
                    size_t errlen)
{
    otr_config c;
    char *path = NULL;
    int r;

    if (err && errlen)
        err[0] = '\0';
    if ((r = apply_defaults(&c)) < 0)
        goto fail;
    /* configFile first: explicit parameters override it */
    if (vals[P_CONFIG].bUsed) {
        if ((r = read_path(&vals[P_CONFIG], P_CONFIG, &path, err, errlen)) <
                0 ||
            (r = apply_config_file(&c, path, err, errlen)) < 0)
            goto fail;
    }
    if ((vals[P_TEMPLATE].bUsed &&
         (r = read_template(&vals[P_TEMPLATE], &c, err, errlen)) < 0) ||
        (vals[P_SPOOL_DIR].bUsed &&
         (r = read_path(&vals[P_SPOOL_DIR], P_SPOOL_DIR, &c.spool_directory,
                        err, errlen)) < 0) ||
        (vals[P_STATS].bUsed &&
         (r = read_path(&vals[P_STATS], P_STATS, &c.stats_file, err, errlen)) <
             0) ||
        (r = read_words(vals, &c, err, errlen)) < 0 ||
        (r = read_numbers(vals, &c, err, errlen)) < 0 ||
        (vals[P_EXCLUDE].bUsed &&
         (r = read_senders(&vals[P_EXCLUDE], &c, err, errlen)) < 0))
        goto fail;
    free(path);
    *out = c;
    return 0;
fail:
    if (r == -ENOMEM && err && errlen && !err[0])
        say(err, errlen, "out of memory");
    free(path);
    otr_config_clear(&c);
    return r;
}
