/*
 * tlsrpt_txt.h - the TLSRPT DNS record (RFC 8460 §3): which TXT record of
 * "_smtp._tls.<policy-domain>" counts, and where its reports go (rua).
 *
 * Input is the TXT RRset as DNS returned it: each record a list of
 * character-strings (RFC 1035 §3.3.14), which are concatenated without a
 * separator (RFC 8460 §3). Records that do not begin with the version tag
 * are discarded; exactly one must remain. docs/delivery-parsing.md states
 * every decision with its RFC reference.
 *
 * trpt_tlsrpt_txt_parse()    select the one TLSRPT record of an RRset and
 *                            parse it
 * trpt_tlsrpt_txt_parse_rdata() the same from the RRset's RDATA in wire
 *                            form (one per record, as a resolver returns it)
 * trpt_tlsrpt_record_parse() parse one record text (already selected)
 * trpt_tlsrpt_txt_free()     NULL ok
 *
 * Shared with mtasts.c (same record shape, RFC 8461 §3.1):
 * trpt_txt_rdata_split()     split one TXT RDATA (wire form, as libunbound
 *                            returns it) into its character-strings, no
 *                            allocation: the strings point into rdata
 * trpt_txt_rrs_from_rdata()  wire RDATA of an RRset -> trpt_txt_rr array
 *                            (trpt_txt_rrs_free() releases it)
 * trpt_txt_select()          the concatenated text of the one record that
 *                            begins with a version tag
 * trpt_txt_fields()          walk the "; name=value" fields after the tag
 * trpt_txt_check_text()      the bytes a record may hold (printable ASCII,
 *                            HTAB)
 * trpt_txt_hostname_valid()  LDH host name syntax (RFC 1123 §2.1)
 *
 * Errors (negative errno), with a message in err (may be NULL):
 *   -ENOENT    no record begins with the version tag: no reports
 *   -EEXIST    more than one does: no reports (RFC 8460 §3)
 *   -EMSGSIZE  the record text is longer than TRPT_TXT_MAX
 *   -EINVAL    the record does not match the grammar (control, NUL or
 *              non-ASCII bytes, bad delimiters, malformed field, no rua
 *              field, empty URI), or bad arguments
 *   -ENOTSUP   the record is valid but none of its URIs is a usable
 *              mailto: or https: destination
 *   -ENOMEM
 */
#ifndef TRPT_TLSRPT_TXT_H
#define TRPT_TLSRPT_TXT_H

#include <stddef.h>
#include <stdint.h>

#define TRPT_TXT_MAX          16384 /* record text, strings concatenated */
#define TRPT_TXT_FIELD_NAME   32    /* ext-name: 1 + *31 characters */
#define TRPT_TLSRPT_MAX_RUA   16    /* destinations kept; more are counted */
#define TRPT_MAILTO_ADDR_MAX  254   /* RFC 5321 §4.5.3.1.3 path, less <> */
#define TRPT_MAILTO_LOCAL_MAX 64    /* RFC 5321 §4.5.3.1.1 */
#define TRPT_HTTPS_URL_MAX    2048
#define TRPT_HOSTNAME_MAX     253 /* RFC 1035 §2.3.4, without the final dot */

#define TRPT_TLSRPT_VERSION "v=TLSRPTv1" /* RFC 8460 §3, case-sensitive */

/* One character-string of a TXT record: any bytes, NUL included. */
typedef struct trpt_txt_string {
    const char *data;
    size_t len;
} trpt_txt_string;

/* One TXT resource record: its character-strings in order. */
typedef struct trpt_txt_rr {
    const trpt_txt_string *strings;
    size_t n;
} trpt_txt_rr;

typedef enum trpt_rua_scheme {
    TRPT_RUA_MAILTO = 1,
    TRPT_RUA_HTTPS = 2,
} trpt_rua_scheme;

/* One report destination. */
typedef struct trpt_rua {
    trpt_rua_scheme scheme;
    char *uri;    /* the URI exactly as written in the record */
    char *target; /* mailto: the percent-decoded address (domain in lower
                     case, no hfields); https: the URL as written */
} trpt_rua;

typedef struct trpt_tlsrpt_txt {
    char *record; /* the record text as the MTA saw it (strings joined) */
    size_t record_len;
    trpt_rua *rua; /* usable destinations in record order, deduplicated */
    size_t n_rua;
    size_t n_rua_fields;  /* "rua=" fields seen (all are used) */
    size_t n_unsupported; /* URIs of another scheme, skipped */
    size_t n_invalid;     /* mailto:/https: URIs refused as malformed */
    size_t n_duplicate;   /* URIs naming a destination already listed */
    size_t n_over_limit;  /* usable URIs beyond TRPT_TLSRPT_MAX_RUA */
    size_t n_extensions;  /* unknown fields, ignored */
} trpt_tlsrpt_txt;

int trpt_tlsrpt_txt_parse(const trpt_txt_rr *rrs, size_t n,
                          trpt_tlsrpt_txt **out, char *err, size_t errlen);
/* rdata[i] is record i's RDATA (data, len), e.g. from libunbound's
 * answer; a malformed RDATA is -EINVAL. */
int trpt_tlsrpt_txt_parse_rdata(const trpt_txt_string *rdata, size_t n,
                                trpt_tlsrpt_txt **out, char *err,
                                size_t errlen);
int trpt_tlsrpt_record_parse(const char *text, size_t len,
                             trpt_tlsrpt_txt **out, char *err, size_t errlen);
void trpt_tlsrpt_txt_free(trpt_tlsrpt_txt *t);

/* ---- shared TXT record helpers ---------------------------------------- */

/* Returns 0 with *n strings, -EINVAL for a truncated or empty RDATA,
 * -E2BIG when it holds more than max strings. */
int trpt_txt_rdata_split(const uint8_t *rdata, size_t len,
                         trpt_txt_string *strs, size_t max, size_t *n);

/* *rrs gets n records whose strings point into the rdata (which must
 * outlive them). -EINVAL for a malformed RDATA, -ENOMEM. */
int trpt_txt_rrs_from_rdata(const trpt_txt_string *rdata, size_t n,
                            trpt_txt_rr **rrs);
void trpt_txt_rrs_free(trpt_txt_rr *rrs, size_t n);

/* The record that begins with version (followed by WSP, ';' or its end):
 * *text is its concatenated text, malloc'd and NUL-terminated (it may hold
 * NUL bytes: use *len). -ENOENT, -EEXIST, -EMSGSIZE, -EINVAL, -ENOMEM. */
int trpt_txt_select(const trpt_txt_rr *rrs, size_t n, const char *version,
                    char **text, size_t *len, char *err, size_t errlen);

/* Called once per field; value is not NUL-terminated. A negative return
 * stops the walk and is returned. */
typedef int (*trpt_txt_field_fn)(void *ctx, const char *name, size_t name_len,
                                 const char *value, size_t value_len, char *err,
                                 size_t errlen);

/* text must begin with version; then fields separated by *WSP ";" *WSP,
 * an optional trailing ";", each name "=" value with name matching the
 * ext-name ABNF. Returns 0, -EINVAL (with err) or fn's error. */
int trpt_txt_fields(const char *text, size_t len, const char *version,
                    trpt_txt_field_fn fn, void *ctx, char *err, size_t errlen);

/* 0 when every byte is printable ASCII or HTAB, else -EINVAL with err. */
int trpt_txt_check_text(const char *text, size_t len, char *err, size_t errlen);

/* 1 if value matches ext-value: 1*(%x21-3A / %x3C / %x3E-7E). */
int trpt_txt_ext_value_valid(const char *value, size_t len);

/* 1 if s[0..len) is a host name: LDH labels of 1..63, no leading or
 * trailing hyphen, at most TRPT_HOSTNAME_MAX bytes, no final dot. */
int trpt_txt_hostname_valid(const char *s, size_t len);

/* Writes a message into err (NULL or errlen 0: nothing); returns rc. */
int trpt_txt_error(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
