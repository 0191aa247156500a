/* config.c - the configuration file parser and defaults. See config.h and
 * docs/tlsrpt.conf.5 (the user-facing description of every parameter). */
#include "config.h"
#include "config_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_LINE_MAX  4096   /* longer lines are an error, not truncated */
#define CONFIG_MAX_HINTS 100000 /* absurdly many hints: refuse, bounded */
#define DOMAIN_MAX       253    /* RFC 1035 §2.3.4, without trailing dot */

#define DEFAULT_SPOOL_DIR  "/var/spool/opentlsrpt"
#define DEFAULT_STATE_DIR  "/var/lib/opentlsrpt"
#define DEFAULT_OUTBOX_DIR "/var/lib/opentlsrpt/outbox"

/* RFC 8461 §3.2: max_age is at most 31557600 seconds (about a year). */
#define STS_MAX_AGE_LIMIT 31557600u

/* --- error reporting --------------------------------------------------- */

int trpt_cfg_error(trpt_cfg_reader *rd, const char *fmt, ...)
{
    va_list ap;
    int n = 0;

    if (!rd->err || rd->errlen == 0)
        return -EINVAL;
    if (rd->line)
        n = snprintf(rd->err, rd->errlen, "%s:%u: ", rd->path, rd->line);
    else
        n = snprintf(rd->err, rd->errlen, "%s: ", rd->path);
    if (n >= 0 && (size_t)n < rd->errlen) {
        va_start(ap, fmt);
        vsnprintf(rd->err + n, rd->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* --- small helpers ----------------------------------------------------- */

int trpt_cfg_replace(char **field, const char *value)
{
    char *copy = strdup(value);

    if (!copy)
        return -ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

/* Domain syntax (RFC 1035 LDH labels; A-labels are LDH too; '_' tolerated
 * as real names carry it). Normalized to lower case without trailing dot.
 * With allow_wildcard, a leading "*." label is accepted (RFC 8461 §3.2 mx
 * patterns, and wildcard hints). */
int trpt_cfg_normalize_domain(const char *in, int allow_wildcard, char *out,
                              size_t outlen)
{
    size_t len = strlen(in), label = 0, start = 0;

    if (len && in[len - 1] == '.')
        len--;
    if (allow_wildcard && len > 2 && in[0] == '*' && in[1] == '.')
        start = 2;
    if (len <= start || len > DOMAIN_MAX || len + 1 > outlen)
        return -EINVAL;
    memcpy(out, in, start);
    for (size_t i = start; i < len; i++) {
        unsigned char c = (unsigned char)in[i];

        if (c == '.') {
            if (label == 0 || out[i - 1] == '-')
                return -EINVAL;
            label = 0;
        } else if (isalnum(c) || c == '_' || (c == '-' && label > 0)) {
            if (++label > 63)
                return -EINVAL;
        } else {
            return -EINVAL;
        }
        out[i] = (char)tolower(c);
    }
    if (label == 0 || out[len - 1] == '-')
        return -EINVAL;
    out[len] = '\0';
    return 0;
}

/* Strict UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF), and
 * no control characters: values end up in JSON reports and in logs. */
int trpt_cfg_text_clean(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        unsigned c = *p, need, cp;

        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return 0;
            p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            need = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            need = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            need = 3, cp = c & 0x07;
        else
            return 0;
        for (unsigned i = 1; i <= need; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        p += need + 1;
    }
    return 1;
}

/* Unsigned decimal, no sign, no spaces, within [min, max]. */
static int parse_unsigned(const char *s, unsigned long min, unsigned long max,
                          unsigned long *out)
{
    unsigned long v = 0;

    if (!*s)
        return -EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        if (v > (max - (unsigned long)(*s - '0')) / 10)
            return -ERANGE;
        v = v * 10 + (unsigned long)(*s - '0');
    }
    if (v < min)
        return -ERANGE;
    *out = v;
    return 0;
}

/* --- defaults and free --------------------------------------------------- */

static void hint_clear(trpt_policy_hint *h)
{
    free(h->domain);
    trpt_strv_free(&h->policy_strings);
    trpt_strv_free(&h->mx_hosts);
    memset(h, 0, sizeof *h);
}

void trpt_config_free(trpt_config *c)
{
    if (!c)
        return;
    free(c->organization_name);
    free(c->contact_info);
    free(c->submitter_domain);
    free(c->spool_directory);
    free(c->state_directory);
    free(c->outbox_directory);
    for (size_t i = 0; i < c->n_hints; i++)
        hint_clear(&c->hints[i]);
    free(c->hints);
    trpt_strv_free(&c->exclude_senders);
    trpt_strv_free(&c->exclude_domains);
    trpt_cfg_delivery_free(&c->delivery);
    free(c);
}

/* organization_name, contact_info and submitter_domain have no built-in
 * default: a host name guessed here would end up in reports sent to other
 * organizations. The reporting commands refuse to run without
 * submitter_domain; the other two are derived from it (trpt_config_load). */
int trpt_config_defaults(trpt_config **out)
{
    trpt_config *c = calloc(1, sizeof *c);

    *out = NULL;
    if (!c)
        return -ENOMEM;
    c->spool_directory = strdup(DEFAULT_SPOOL_DIR);
    c->state_directory = strdup(DEFAULT_STATE_DIR);
    c->outbox_directory = strdup(DEFAULT_OUTBOX_DIR);
    if (!c->spool_directory || !c->state_directory || !c->outbox_directory) {
        trpt_config_free(c);
        return -ENOMEM;
    }
    c->report_delay = 3600;
    c->spool_fsync = TRPT_FSYNC_ALWAYS;
    c->max_sessions = 100000;
    c->session_timeout = 3600;
    c->postfix_tlsrpt = TRPT_TLSRPT_AUTO;
    trpt_cfg_delivery_defaults(&c->delivery);
    *out = c;
    return 0;
}

/* --- one parameter each -------------------------------------------------- */

int trpt_cfg_set_text(trpt_cfg_reader *rd, char **field, const char *value)
{
    if (!*value)
        return trpt_cfg_error(rd, "empty value");
    if (strlen(value) > 1024)
        return trpt_cfg_error(rd, "value longer than 1024 bytes");
    if (!trpt_cfg_text_clean(value))
        return trpt_cfg_error(rd, "value is not clean UTF-8 text");
    return trpt_cfg_replace(field, value);
}

/* Spool, state and outbox are used by daemons whose working directory is
 * not the admin's: relative paths would silently point elsewhere. */
static int set_directory(trpt_cfg_reader *rd, char **field, const char *value)
{
    if (value[0] != '/')
        return trpt_cfg_error(rd, "directory must be an absolute path: %s",
                              value);
    if (strlen(value) > 3072)
        return trpt_cfg_error(rd, "directory path too long");
    if (!trpt_cfg_text_clean(value))
        return trpt_cfg_error(rd, "directory path is not clean text");
    return trpt_cfg_replace(field, value);
}

int trpt_cfg_set_domain(trpt_cfg_reader *rd, char **field, const char *value)
{
    char dom[DOMAIN_MAX + 1];

    if (trpt_cfg_normalize_domain(value, 0, dom, sizeof dom) < 0)
        return trpt_cfg_error(rd, "not a valid domain name: %s", value);
    return trpt_cfg_replace(field, dom);
}

int trpt_cfg_set_unsigned(trpt_cfg_reader *rd, unsigned *field,
                          const char *value, unsigned long min,
                          unsigned long max)
{
    unsigned long v;
    int r = parse_unsigned(value, min, max, &v);

    if (r == -ERANGE)
        return trpt_cfg_error(rd, "%s out of range (%lu..%lu)", value, min,
                              max);
    if (r < 0)
        return trpt_cfg_error(rd, "not a number: %s", value);
    *field = (unsigned)v;
    return 0;
}

static int set_fsync(trpt_cfg_reader *rd, trpt_fsync_policy *field,
                     const char *value)
{
    if (strcmp(value, "always") == 0)
        *field = TRPT_FSYNC_ALWAYS;
    else if (strcmp(value, "never") == 0)
        *field = TRPT_FSYNC_NEVER;
    else
        return trpt_cfg_error(rd, "spool_fsync must be always or never, not %s",
                              value);
    return 0;
}

/* Postfix 3.10+ "TLSRPT:" lines: yes = only they count, no = ignore them
 * (classic lines only), auto = classic lines until a host logs TLSRPT:,
 * datagrams = no Postfix line counts (tlsrpt collect reports Postfix). */
static int set_tlsrpt_mode(trpt_cfg_reader *rd, trpt_tlsrpt_mode *field,
                           const char *value)
{
    if (strcmp(value, "auto") == 0)
        *field = TRPT_TLSRPT_AUTO;
    else if (strcmp(value, "yes") == 0)
        *field = TRPT_TLSRPT_ONLY;
    else if (strcmp(value, "no") == 0)
        *field = TRPT_TLSRPT_CLASSIC;
    else if (strcmp(value, "datagrams") == 0)
        *field = TRPT_TLSRPT_DATAGRAMS;
    else
        return trpt_cfg_error(rd,
                              "postfix_tlsrpt must be auto, yes, no or "
                              "datagrams, not %s",
                              value);
    return 0;
}

/* The envelope sender our own report mails use; matched against Postfix
 * "from=<...>" and Exim "<=" (design.md, exclusion of our own reports). */
static int add_sender(trpt_cfg_reader *rd, trpt_config *c, const char *value)
{
    size_t len = strlen(value);
    char addr[320];

    if (len >= 2 && value[0] == '<' && value[len - 1] == '>') {
        value++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof addr)
        return trpt_cfg_error(rd, "exclude_sender needs an address");
    memcpy(addr, value, len);
    addr[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (isspace((unsigned char)addr[i]) || addr[i] == '<' || addr[i] == '>')
            return trpt_cfg_error(rd, "not an envelope address: %s", value);
    if (!trpt_cfg_text_clean(addr) || !strchr(addr, '@'))
        return trpt_cfg_error(rd, "not an envelope address: %s", addr);
    return trpt_strv_push(&c->exclude_senders, addr);
}

static int add_excluded_domain(trpt_cfg_reader *rd, trpt_config *c,
                               const char *value)
{
    char dom[DOMAIN_MAX + 1];

    if (trpt_cfg_normalize_domain(value, 0, dom, sizeof dom) < 0)
        return trpt_cfg_error(rd, "not a valid domain name: %s", value);
    return trpt_strv_push(&c->exclude_domains, dom);
}

/* --- policy_hint --------------------------------------------------------- */

typedef struct hint_options {
    const char *mode;    /* NULL = not given */
    const char *mx;      /* comma-separated patterns, NULL = not given */
    const char *max_age; /* NULL = not given */
} hint_options;

static int parse_hint_option(trpt_cfg_reader *rd, char *word, hint_options *o)
{
    char *eq = strchr(word, '=');
    const char **slot;

    if (!eq)
        return trpt_cfg_error(rd, "policy_hint option without '=': %s", word);
    *eq = '\0';
    if (strcmp(word, "mode") == 0)
        slot = &o->mode;
    else if (strcmp(word, "mx") == 0)
        slot = &o->mx;
    else if (strcmp(word, "max_age") == 0)
        slot = &o->max_age;
    else
        return trpt_cfg_error(rd, "unknown policy_hint option: %s", word);
    if (*slot)
        return trpt_cfg_error(rd, "policy_hint option %s given twice", word);
    if (!eq[1])
        return trpt_cfg_error(rd, "policy_hint option %s has no value", word);
    *slot = eq + 1;
    return 0;
}

static int hint_add_mx_patterns(trpt_cfg_reader *rd, trpt_policy_hint *h,
                                char *list)
{
    char pat[DOMAIN_MAX + 1], line[DOMAIN_MAX + 8];
    char *save = NULL;
    int r;

    for (char *p = strtok_r(list, ",", &save); p;
         p = strtok_r(NULL, ",", &save)) {
        if (trpt_cfg_normalize_domain(p, 1, pat, sizeof pat) < 0)
            return trpt_cfg_error(rd, "not a valid mx pattern: %s", p);
        snprintf(line, sizeof line, "mx: %s", pat);
        if ((r = trpt_strv_push(&h->policy_strings, line)) < 0 ||
            (r = trpt_strv_push(&h->mx_hosts, pat)) < 0)
            return r;
    }
    if (h->mx_hosts.n == 0)
        return trpt_cfg_error(rd, "policy_hint mx= lists no pattern");
    return 0;
}

/* RFC 8460 §4.4: for sts, policy-string is the policy's lines (RFC 8461
 * §3.2: "version: STSv1", "mode: ...", "mx: ..." per pattern, "max_age: N")
 * and mx-host the mx patterns. The admin supplies what the logs cannot say;
 * mode defaults to enforce, max_age is left out unless given. */
static int hint_build_sts(trpt_cfg_reader *rd, trpt_policy_hint *h,
                          hint_options *o)
{
    char line[64];
    unsigned long age;
    const char *mode = o->mode ? o->mode : "enforce";
    int r;

    if (strcmp(mode, "enforce") != 0 && strcmp(mode, "testing") != 0 &&
        strcmp(mode, "none") != 0)
        return trpt_cfg_error(rd, "mode must be enforce, testing or none: %s",
                              mode);
    if ((r = trpt_strv_push(&h->policy_strings, "version: STSv1")) < 0)
        return r;
    snprintf(line, sizeof line, "mode: %s", mode);
    if ((r = trpt_strv_push(&h->policy_strings, line)) < 0)
        return r;
    if (o->mx) {
        if ((r = hint_add_mx_patterns(rd, h, (char *)o->mx)) < 0)
            return r;
    } else if (strcmp(mode, "none") != 0) {
        /* RFC 8461 §3.2: mx is required unless mode is none. */
        return trpt_cfg_error(rd, "sts policy_hint needs mx=PATTERN[,...]");
    }
    if (o->max_age) {
        r = parse_unsigned(o->max_age, 0, STS_MAX_AGE_LIMIT, &age);
        if (r < 0)
            return trpt_cfg_error(rd, "max_age must be 0..%u: %s",
                                  STS_MAX_AGE_LIMIT, o->max_age);
        snprintf(line, sizeof line, "max_age: %lu", age);
        if ((r = trpt_strv_push(&h->policy_strings, line)) < 0)
            return r;
    }
    return 0;
}

static int parse_hint_type(trpt_cfg_reader *rd, const char *word,
                           trpt_policy_type *type)
{
    if (strcmp(word, "sts") == 0)
        *type = TRPT_POLICY_STS;
    else if (strcmp(word, "tlsa") == 0)
        *type = TRPT_POLICY_TLSA;
    else if (strcmp(word, "no-policy-found") == 0)
        *type = TRPT_POLICY_NONE;
    else
        return trpt_cfg_error(
            rd, "policy type must be sts, tlsa or no-policy-found: %s", word);
    return 0;
}

/* Fill *h from "DOMAIN TYPE [mode=..] [mx=..] [max_age=N]"; value is
 * modified (split in place). */
static int parse_hint(trpt_cfg_reader *rd, char *value, trpt_policy_hint *h)
{
    char dom[DOMAIN_MAX + 1];
    char *save = NULL, *word;
    const char *domain_word, *type_word;
    hint_options opts = {0};
    int r;

    domain_word = strtok_r(value, " \t", &save);
    type_word = strtok_r(NULL, " \t", &save);
    if (!domain_word || !type_word)
        return trpt_cfg_error(rd, "policy_hint needs DOMAIN TYPE [options]");
    if (trpt_cfg_normalize_domain(domain_word, 1, dom, sizeof dom) < 0)
        return trpt_cfg_error(rd, "not a valid domain name: %s", domain_word);
    if ((r = parse_hint_type(rd, type_word, &h->type)) < 0)
        return r;
    while ((word = strtok_r(NULL, " \t", &save)))
        if ((r = parse_hint_option(rd, word, &opts)) < 0)
            return r;
    if (h->type != TRPT_POLICY_STS && (opts.mode || opts.mx || opts.max_age))
        return trpt_cfg_error(rd, "mode, mx and max_age apply to sts only");
    if (!(h->domain = strdup(dom)))
        return -ENOMEM;
    if (h->type == TRPT_POLICY_STS)
        return hint_build_sts(rd, h, &opts);
    return 0;
}

static int add_hint(trpt_cfg_reader *rd, trpt_config *c, char *value)
{
    trpt_policy_hint h = {0}, *grown;
    int r;

    if (c->n_hints >= CONFIG_MAX_HINTS)
        return trpt_cfg_error(rd, "more than %u policy_hint lines",
                              CONFIG_MAX_HINTS);
    if ((r = parse_hint(rd, value, &h)) < 0) {
        hint_clear(&h);
        return r;
    }
    for (size_t i = 0; i < c->n_hints; i++) {
        if (strcmp(c->hints[i].domain, h.domain) == 0) {
            r = trpt_cfg_error(rd, "second policy_hint for %s", h.domain);
            hint_clear(&h);
            return r;
        }
    }
    grown = realloc(c->hints, (c->n_hints + 1) * sizeof *grown);
    if (!grown) {
        hint_clear(&h);
        return -ENOMEM;
    }
    c->hints = grown;
    c->hints[c->n_hints++] = h;
    return 0;
}

/* --- the file ------------------------------------------------------------ */

static int apply_setting(trpt_cfg_reader *rd, trpt_config *c, const char *name,
                         char *value)
{
    int r;

    if (strcmp(name, "organization_name") == 0)
        return trpt_cfg_set_text(rd, &c->organization_name, value);
    if (strcmp(name, "contact_info") == 0)
        return trpt_cfg_set_text(rd, &c->contact_info, value);
    if (strcmp(name, "submitter_domain") == 0)
        return trpt_cfg_set_domain(rd, &c->submitter_domain, value);
    if (strcmp(name, "spool_directory") == 0)
        return set_directory(rd, &c->spool_directory, value);
    if (strcmp(name, "state_directory") == 0)
        return set_directory(rd, &c->state_directory, value);
    if (strcmp(name, "outbox_directory") == 0)
        return set_directory(rd, &c->outbox_directory, value);
    if (strcmp(name, "policy_hint") == 0)
        return add_hint(rd, c, value);
    if (strcmp(name, "exclude_sender") == 0)
        return add_sender(rd, c, value);
    if (strcmp(name, "exclude_domain") == 0)
        return add_excluded_domain(rd, c, value);
    if (strcmp(name, "report_delay") == 0) /* up to a week of grace */
        return trpt_cfg_set_unsigned(rd, &c->report_delay, value, 0, 7 * 86400);
    if (strcmp(name, "spool_fsync") == 0)
        return set_fsync(rd, &c->spool_fsync, value);
    if (strcmp(name, "postfix_tlsrpt") == 0)
        return set_tlsrpt_mode(rd, &c->postfix_tlsrpt, value);
    if (strcmp(name, "max_sessions") == 0)
        return trpt_cfg_set_unsigned(rd, &c->max_sessions, value, 1, 100000000);
    if (strcmp(name, "session_timeout") == 0)
        return trpt_cfg_set_unsigned(rd, &c->session_timeout, value, 1,
                                     7 * 86400);
    r = trpt_cfg_delivery_setting(rd, c, name, value);
    if (r != -ENOENT)
        return r;
    return trpt_cfg_error(rd, "unknown parameter: %s", name);
}

static char *trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

/* A value may be enclosed in double quotes (to keep leading or trailing
 * blanks or a '#'); there are no escapes. */
static int unquote(trpt_cfg_reader *rd, char **value)
{
    char *v = *value;
    size_t len = strlen(v);

    if (v[0] != '"')
        return 0;
    if (len < 2 || v[len - 1] != '"')
        return trpt_cfg_error(rd, "unterminated quoted value");
    v[len - 1] = '\0';
    *value = v + 1;
    if (strchr(*value, '"'))
        return trpt_cfg_error(rd, "'\"' inside a quoted value");
    return 0;
}

/* '#' starts a comment, except inside a quoted value. */
static void strip_comment(char *s)
{
    int quoted = 0;

    for (; *s; s++) {
        if (*s == '"')
            quoted = !quoted;
        else if (*s == '#' && !quoted) {
            *s = '\0';
            return;
        }
    }
}

static int parse_line(trpt_cfg_reader *rd, trpt_config *c, char *line)
{
    char *eq, *name, *value;
    int r;

    strip_comment(line);
    line = trim(line);
    if (!*line)
        return 0;
    if (!(eq = strchr(line, '=')))
        return trpt_cfg_error(rd, "expected \"name = value\"");
    *eq = '\0';
    name = trim(line);
    value = trim(eq + 1);
    if (!*name)
        return trpt_cfg_error(rd, "missing parameter name");
    if ((r = unquote(rd, &value)) < 0)
        return r;
    return apply_setting(rd, c, name, value);
}

/* Reads lines with a hard length bound (no unbounded buffering) and no NUL
 * bytes. */
static int parse_stream(trpt_cfg_reader *rd, trpt_config *c, FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int r = 0;

    while ((n = getline(&line, &cap, f)) >= 0) {
        rd->line++;
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        if ((size_t)n > CONFIG_LINE_MAX) {
            r = trpt_cfg_error(rd, "line longer than %d bytes",
                               CONFIG_LINE_MAX);
            break;
        }
        if (memchr(line, '\0', (size_t)n)) {
            r = trpt_cfg_error(rd, "NUL byte in line");
            break;
        }
        if ((r = parse_line(rd, c, line)) < 0)
            break;
    }
    if (r == 0 && ferror(f)) {
        rd->line = 0;
        trpt_cfg_error(rd, "read error");
        r = -EIO;
    }
    free(line);
    return r;
}

/* Hardening: a configuration that others can write lets them redirect the
 * spool and state directories and the report contents. */
static int check_file_mode(trpt_cfg_reader *rd, int fd)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return trpt_cfg_error(rd, "not a regular file");
    if (st.st_mode & S_IWOTH)
        return trpt_cfg_error(rd,
                              "writable by others; refusing it (chmod o-w)");
    return 0;
}

/* Values derived from submitter_domain when not set explicitly: RFC 8460
 * §4.3 wants an organization name and a contact for the report. */
static int apply_derived_defaults(trpt_config *c)
{
    char contact[DOMAIN_MAX + 32];

    if (!c->submitter_domain)
        return trpt_cfg_delivery_derive(c);
    if (!c->organization_name &&
        !(c->organization_name = strdup(c->submitter_domain)))
        return -ENOMEM;
    if (!c->contact_info) {
        snprintf(contact, sizeof contact, "mailto:postmaster@%s",
                 c->submitter_domain);
        if (!(c->contact_info = strdup(contact)))
            return -ENOMEM;
    }
    return trpt_cfg_delivery_derive(c);
}

int trpt_config_load(trpt_config **out, const char *path, char *err,
                     size_t errlen)
{
    trpt_cfg_reader rd = {.path = path, .err = err, .errlen = errlen};
    trpt_config *c = NULL;
    FILE *f = NULL;
    int fd, r;

    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        r = -errno;
        trpt_cfg_error(&rd, "%s", strerror(-r));
        return r;
    }
    if ((r = check_file_mode(&rd, fd)) < 0) {
        close(fd);
        return r;
    }
    if (!(f = fdopen(fd, "r"))) {
        close(fd);
        return -ENOMEM;
    }
    if ((r = trpt_config_defaults(&c)) < 0 ||
        (r = parse_stream(&rd, c, f)) < 0 ||
        (r = apply_derived_defaults(c)) < 0) {
        if (r == -ENOMEM && err && errlen && !err[0])
            trpt_cfg_error(&rd, "out of memory");
        trpt_config_free(c);
        fclose(f);
        return r;
    }
    fclose(f);
    *out = c;
    return 0;
}

/* --- lookups ------------------------------------------------------------- */

/* "*.example.com" matches "a.example.com" and "a.b.example.com", not
 * "example.com" itself. */
static int wildcard_matches(const char *pattern, const char *domain)
{
    size_t plen = strlen(pattern) - 1, dlen = strlen(domain);

    return dlen > plen && strcasecmp(domain + dlen - plen, pattern + 1) == 0;
}

/* Exact match first; else the longest matching wildcard hint. */
const trpt_policy_hint *trpt_config_hint(const trpt_config *c,
                                         const char *domain)
{
    const trpt_policy_hint *best = NULL;

    if (!c || !domain)
        return NULL;
    for (size_t i = 0; i < c->n_hints; i++) {
        const trpt_policy_hint *h = &c->hints[i];

        if (h->domain[0] != '*') {
            if (strcasecmp(h->domain, domain) == 0)
                return h;
        } else if (wildcard_matches(h->domain, domain) &&
                   (!best || strlen(h->domain) > strlen(best->domain))) {
            best = h;
        }
    }
    return best;
}

int trpt_config_excluded_domain(const trpt_config *c, const char *domain)
{
    if (!c || !domain)
        return 0;
    for (size_t i = 0; i < c->exclude_domains.n; i++)
        if (strcasecmp(c->exclude_domains.v[i], domain) == 0)
            return 1;
    return 0;
}
