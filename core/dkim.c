/* dkim.c - DKIM signing (RFC 6376, RFC 8463) for report mail; see dkim.h. */
#include "dkim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

struct trpt_dkim_key {
    EVP_PKEY *pkey;
    int ed25519; /* else RSA */
};

/* RFC 8460 §5.3 names the TLS-Report headers; the rest are what a reader
 * sees and what a MIME parser acts on. */
const char *const trpt_dkim_report_headers[] = {
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "TLS-Report-Domain",
    "TLS-Report-Submitter",
    NULL,
};

enum {
    KEY_FILE_MAX = 64 * 1024, /* an RSA-8192 PEM is about 6.5 KiB */
    RSA_BITS_MIN = 1024,      /* RFC 8301 §3.2: verifiers refuse less */
    RSA_BITS_MAX = 8192,
    FOLD_COLUMN = 78,         /* RFC 5322 §2.1.1 */
    MAX_SIGNED_NAMES = 64,    /* entries of headers_to_sign */
    NAME_MAX_LEN = 127,       /* of one of those names */
    MAX_HEADER_FIELDS = 4096, /* fields of the message we sign */
    CANON_CHUNK = 64 * 1024   /* canonical body hashed in pieces of this */
};

#define SHA256_LEN 32

static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* ---- keys ---- */

/* Never prompt on a terminal for a passphrase: an encrypted key fails. */
static int refuse_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static int read_key_file(const char *path, trpt_buf *out)
{
    FILE *f = fopen(path, "re");
    size_t n;
    int r;

    if (!f)
        return -errno;
    /* One allocation: no realloc leaves copies of the key in freed memory. */
    r = trpt_buf_reserve(out, KEY_FILE_MAX + 1);
    if (r == 0) {
        n = fread(out->data, 1, KEY_FILE_MAX + 1, f);
        out->len = n;
        out->data[n] = '\0';
        if (ferror(f))
            r = -EIO;
        else if (n > KEY_FILE_MAX)
            r = -EFBIG;
    }
    fclose(f);
    return r;
}

static int key_from_pem(const char *pem, size_t len, EVP_PKEY **out)
{
    BIO *bio;

    if (len > KEY_FILE_MAX || memchr(pem, '\0', len))
        return -EINVAL;
    bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio)
        return -ENOMEM;
    *out = PEM_read_bio_PrivateKey(bio, NULL, refuse_passphrase, NULL);
    BIO_free(bio);
    ERR_clear_error();
    return *out ? 0 : -EINVAL;
}

/* RFC 8301 §3.2 (RSA at least 1024 bits) and RFC 8463 (Ed25519). */
static int check_key_type(EVP_PKEY *pkey, int *ed25519)
{
    int bits;

    if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519) {
        *ed25519 = 1;
        return 0;
    }
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
        return -EOPNOTSUPP;
    bits = EVP_PKEY_get_bits(pkey);
    if (bits < RSA_BITS_MIN || bits > RSA_BITS_MAX)
        return -EOPNOTSUPP;
    *ed25519 = 0;
    return 0;
}

static int looks_like_pem(const char *s)
{
    s += strspn(s, " \t\r\n");
    return strncmp(s, "-----BEGIN ", 11) == 0;
}

static int key_from_file(const char *path, EVP_PKEY **out)
{
    trpt_buf file;
    int r;

    trpt_buf_init(&file);
    r = read_key_file(path, &file);
    if (r == 0)
        r = file.len ? key_from_pem(file.data, file.len, out) : -EINVAL;
    if (file.data)
        OPENSSL_cleanse(file.data, file.cap);
    trpt_buf_free(&file);
    return r;
}

int trpt_dkim_load_key(const char *path_or_pem, trpt_dkim_key **out)
{
    EVP_PKEY *pkey = NULL;
    trpt_dkim_key *k;
    int ed25519 = 0;
    int r;

    *out = NULL;
    if (!path_or_pem || !*path_or_pem)
        return -EINVAL;
    if (looks_like_pem(path_or_pem))
        r = key_from_pem(path_or_pem, strlen(path_or_pem), &pkey);
    else
        r = key_from_file(path_or_pem, &pkey);
    if (r < 0)
        return r;
    r = check_key_type(pkey, &ed25519);
    if (r < 0 || !(k = calloc(1, sizeof *k))) {
        EVP_PKEY_free(pkey);
        return r < 0 ? r : -ENOMEM;
    }
    k->pkey = pkey;
    k->ed25519 = ed25519;
    *out = k;
    return 0;
}

void trpt_dkim_key_free(trpt_dkim_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

const char *trpt_dkim_key_algorithm(const trpt_dkim_key *k)
{
    return k->ed25519 ? "ed25519-sha256" : "rsa-sha256";
}

/* Base64 without line breaks (RFC 6376 base64string, FWS added later). */
static int append_base64(trpt_buf *out, const unsigned char *p, size_t n)
{
    size_t enc = 4 * ((n + 2) / 3);
    int r;

    if (n > (size_t)INT32_MAX / 2)
        return -EINVAL;
    r = trpt_buf_reserve(out, enc);
    if (r < 0)
        return r;
    EVP_EncodeBlock((unsigned char *)out->data + out->len, p, (int)n);
    out->len += enc;
    out->data[out->len] = '\0';
    return 0;
}

/* RSA: p= is the DER SubjectPublicKeyInfo (RFC 6376 §3.6.1). */
static int append_rsa_public(const trpt_dkim_key *k, trpt_buf *out)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k->pkey, &der);
    int r;

    if (n <= 0)
        return -EIO;
    r = append_base64(out, der, (size_t)n);
    OPENSSL_free(der);
    return r;
}

/* Ed25519: p= is the raw 32-byte public key (RFC 8463 §4.2). */
static int append_ed25519_public(const trpt_dkim_key *k, trpt_buf *out)
{
    unsigned char raw[32];
    size_t n = sizeof raw;

    if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &n) != 1 || n != 32)
        return -EIO;
    return append_base64(out, raw, n);
}

int trpt_dkim_public_txt(const trpt_dkim_key *k, trpt_buf *out)
{
    int r;

    /* s=tlsrpt: RFC 8460 §5.3, a key meant for reports only. */
    r = trpt_buf_printf(
        out, "v=DKIM1; k=%s; s=tlsrpt; p=", k->ed25519 ? "ed25519" : "rsa");
    if (r < 0)
        return r;
    return k->ed25519 ? append_ed25519_public(k, out)
                      : append_rsa_public(k, out);
}

/* ---- canonicalization, RFC 6376 §3.4.2 and §3.4.4 ---- */

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Appends value with folds removed, WSP runs as one SP, and no WSP at
 * either end (the WSP after the colon and at the end are deleted). */
static int append_relaxed_value(const char *v, size_t len, trpt_buf *out)
{
    size_t i = 0;
    int pending_space = 0, started = 0;
    int r;

    while (i < len) {
        size_t run = i;

        if (v[i] == '\r' && i + 1 < len && v[i + 1] == '\n') {
            i += 2; /* unfold: the CRLF goes, its WSP stays */
            continue;
        }
        if (is_wsp(v[i])) {
            pending_space = started;
            i++;
            continue;
        }
        while (run < len && !is_wsp(v[run]) && v[run] != '\r')
            run++;
        if (run == i)
            run++; /* a bare CR is an ordinary byte */
        if (pending_space && (r = trpt_buf_putc(out, ' ')) < 0)
            return r;
        if ((r = trpt_buf_append(out, v + i, run - i)) < 0)
            return r;
        pending_space = 0;
        started = 1;
        i = run;
    }
    return 0;
}

int trpt_dkim_canon_header(const char *field, size_t len, trpt_buf *out)
{
    const char *colon = memchr(field, ':', len);
    size_t name_len, value_off;
    int r;

    if (!colon)
        return -EINVAL;
    value_off = (size_t)(colon - field) + 1;
    name_len = value_off - 1;
    while (name_len > 0 && is_wsp(field[name_len - 1]))
        name_len--; /* "WSP before the colon is deleted" */
    if (name_len == 0)
        return -EINVAL;
    r = trpt_buf_reserve(out, name_len + 1);
    if (r < 0)
        return r;
    for (size_t i = 0; i < name_len; i++)
        out->data[out->len++] = ascii_lower(field[i]);
    out->data[out->len++] = ':';
    out->data[out->len] = '\0';
    r = append_relaxed_value(field + value_off, len - value_off, out);
    if (r < 0)
        return r;
    return trpt_buf_append(out, "\r\n", 2);
}

static int is_blank(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_wsp(p[i]))
            return 0;
    return 1;
}

/* One non-blank body line, without its CRLF: WSP runs become one SP
 * (leading WSP too), trailing WSP is deleted (§3.4.4 a). */
static int append_relaxed_body_line(const char *line, size_t len, trpt_buf *out)
{
    size_t i = 0;
    int r;

    while (len > 0 && is_wsp(line[len - 1]))
        len--;
    while (i < len) {
        size_t run = i;

        if (is_wsp(line[i])) {
            while (i < len && is_wsp(line[i]))
                i++;
            if ((r = trpt_buf_putc(out, ' ')) < 0)
                return r;
            continue;
        }
        while (run < len && !is_wsp(line[run]))
            run++;
        if ((r = trpt_buf_append(out, line + i, run - i)) < 0)
            return r;
        i = run;
    }
    return trpt_buf_append(out, "\r\n", 2);
}

static int append_crlfs(trpt_buf *out, size_t n)
{
    int r;

    for (size_t i = 0; i < n; i++)
        if ((r = trpt_buf_append(out, "\r\n", 2)) < 0)
            return r;
    return 0;
}

static const char *find_crlf(const char *p, const char *end)
{
    while (p + 1 < end) {
        p = memchr(p, '\r', (size_t)(end - p - 1));
        if (!p)
            return NULL;
        if (p[1] == '\n')
            return p;
        p++;
    }
    return NULL;
}

typedef int (*flush_fn)(void *ctx, trpt_buf *canon);

/* Canonical body into out; with flush, out is handed on and emptied
 * whenever it holds CANON_CHUNK octets, so a hash needs no whole copy. */
static int canon_body_into(const char *body, size_t len, trpt_buf *out,
                           flush_fn flush, void *ctx)
{
    const char *p = body, *end = body + len;
    size_t empty_lines = 0; /* held back: empty lines at the end go */
    int r;

    while (p < end) {
        const char *eol = find_crlf(p, end);
        size_t n = (size_t)((eol ? eol : end) - p);

        if (is_blank(p, n)) {
            empty_lines += eol != NULL;
        } else {
            /* A non-blank line: the empty lines before it were not at
             * the end. A last line without CRLF gets one (§3.4.4 b). */
            r = append_crlfs(out, empty_lines);
            if (r == 0)
                r = append_relaxed_body_line(p, n, out);
            if (r == 0 && flush && out->len >= CANON_CHUNK)
                r = flush(ctx, out);
            if (r < 0)
                return r;
            empty_lines = 0;
        }
        p = eol ? eol + 2 : end;
    }
    return flush ? flush(ctx, out) : 0;
}

int trpt_dkim_canon_body(const char *body, size_t len, trpt_buf *out)
{
    return canon_body_into(body, len, out, NULL, NULL);
}

/* ---- the message to sign ---- */

typedef struct header_field {
    const char *start; /* name ':' value, folds included */
    size_t len;        /* without the final CRLF */
    size_t name_len;   /* without WSP before the colon */
    int used;          /* already selected for h= (§5.4.2) */
} header_field;

typedef struct parsed_msg {
    header_field *fields;
    size_t n, cap;
    const char *body;
    size_t body_len;
} parsed_msg;

/* Signed bytes must reach the verifier unchanged: CRLF line ends only,
 * no NUL (RFC 5322 §2.3), or a relay rewrites them and breaks the
 * signature. */
static int check_line_ends(const char *msg, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (msg[i] == '\0')
            return -EINVAL;
        if (msg[i] == '\r' && (i + 1 >= len || msg[i + 1] != '\n'))
            return -EINVAL;
        if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
            return -EINVAL;
    }
    return 0;
}

/* RFC 5322 §3.6.8 ftext: printable ASCII except ':'. */
static int is_field_name(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 33 || s[i] > 126 || s[i] == ':')
            return 0;
    return 1;
}

static int add_field(parsed_msg *pm, const char *line, size_t len)
{
    const char *colon = memchr(line, ':', len);
    size_t name_len;

    if (!colon)
        return -EINVAL;
    name_len = (size_t)(colon - line);
    while (name_len > 0 && is_wsp(line[name_len - 1]))
        name_len--;
    if (!is_field_name(line, name_len))
        return -EINVAL;
    if (pm->n == pm->cap) {
        size_t cap = pm->cap ? pm->cap * 2 : 32;
        header_field *f;

        if (cap > MAX_HEADER_FIELDS)
            return -EINVAL;
        f = realloc(pm->fields, cap * sizeof *f);
        if (!f)
            return -ENOMEM;
        pm->fields = f;
        pm->cap = cap;
    }
    pm->fields[pm->n++] = (header_field){line, len, name_len, 0};
    return 0;
}

/* Header fields up to the empty line; a line starting with WSP continues
 * the field before it (RFC 5322 §2.2.3). */
static int parse_message(const char *msg, size_t len, parsed_msg *pm)
{
    const char *p = msg, *end = msg + len;
    int r;

    for (;;) {
        const char *eol = find_crlf(p, end);

        if (!eol)
            return -EINVAL; /* no header/body separator */
        if (eol == p)
            break;
        if (is_wsp(*p)) {
            if (pm->n == 0)
                return -EINVAL;
            header_field *last = &pm->fields[pm->n - 1];
            last->len = (size_t)(eol - last->start);
        } else if ((r = add_field(pm, p, (size_t)(eol - p))) < 0) {
            return r;
        }
        p = eol + 2;
    }
    if (pm->n == 0)
        return -EINVAL;
    pm->body = p + 2;
    pm->body_len = (size_t)(end - pm->body);
    /* SMTP ends every line with CRLF; verifiers disagree on a last line
     * without one (§3.4.4 leaves its trailing WSP open), so refuse it. */
    if (pm->body_len > 0 && (pm->body_len < 2 || end[-1] != '\n'))
        return -EINVAL;
    return 0;
}

static int name_is(const header_field *f, const char *name)
{
    return strlen(name) == f->name_len &&
           strncasecmp(f->start, name, f->name_len) == 0;
}

static size_t count_fields(const parsed_msg *pm, const char *name)
{
    size_t n = 0;

    for (size_t i = 0; i < pm->n; i++)
        n += (size_t)name_is(&pm->fields[i], name);
    return n;
}

/* §5.4.2: each h= entry takes the last instance not yet taken; an entry
 * with no instance left signs the absence of one. */
static header_field *select_field(parsed_msg *pm, const char *name)
{
    for (size_t i = pm->n; i-- > 0;) {
        if (!pm->fields[i].used && name_is(&pm->fields[i], name)) {
            pm->fields[i].used = 1;
            return &pm->fields[i];
        }
    }
    return NULL;
}

/* Field names of h=, at most MAX_SIGNED_NAMES; From among them (§5.4:
 * "The From header field MUST be signed"). */
static int check_signed_names(const char *const *names)
{
    int has_from = 0;

    for (size_t n = 0; names[n]; n++) {
        size_t len = strnlen(names[n], NAME_MAX_LEN + 1);

        if (n >= MAX_SIGNED_NAMES || len > NAME_MAX_LEN ||
            !is_field_name(names[n], len))
            return -EINVAL;
        has_from |= strcasecmp(names[n], "From") == 0;
    }
    return has_from ? 0 : -EINVAL;
}

/* RFC 6376 §3.5 d= and s= are DNS names: LDH labels of 1..63 octets. */
static int is_dns_name(const char *s)
{
    size_t label = 0, total = 0;

    for (; *s; s++, total++) {
        char c = *s;

        if (c == '.') {
            if (label == 0)
                return 0;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-'))
            return 0;
        if (++label > 63)
            return 0;
    }
    return label > 0 && total <= 253;
}

/* ---- the DKIM-Signature field, folded at FOLD_COLUMN ---- */

typedef struct folder {
    trpt_buf *out;
    size_t col;
} folder;

/* Appends tok, after a space when spaced; folds (CRLF TAB) first if the
 * line would grow past FOLD_COLUMN. A fold is FWS, allowed between tags
 * and inside h=, bh= and b= (§3.5). */
static int fold_put(folder *f, const char *tok, size_t n, int spaced)
{
    int r;

    if (f->col + (size_t)spaced + n > FOLD_COLUMN && f->col > 1) {
        if ((r = trpt_buf_append(f->out, "\r\n\t", 3)) < 0)
            return r;
        f->col = 1;
    } else if (spaced) {
        if ((r = trpt_buf_putc(f->out, ' ')) < 0)
            return r;
        f->col++;
    }
    if ((r = trpt_buf_append(f->out, tok, n)) < 0)
        return r;
    f->col += n;
    return 0;
}

/* "tag=value;" as one token. */
static int fold_tag(folder *f, const char *tag, const char *value)
{
    char tok[320];
    int n = snprintf(tok, sizeof tok, "%s=%s;", tag, value);

    if (n < 0 || (size_t)n >= sizeof tok)
        return -EINVAL;
    return fold_put(f, tok, (size_t)n, 1);
}

/* Base64 text spread over lines: FWS inside b= is allowed (§3.5). */
static int fold_base64(folder *f, const char *b64, size_t n)
{
    int r;

    while (n > 0) {
        size_t room = f->col < FOLD_COLUMN ? FOLD_COLUMN - f->col : 0;
        size_t take = room < n ? room : n;

        if (take == 0) {
            if ((r = trpt_buf_append(f->out, "\r\n\t", 3)) < 0)
                return r;
            f->col = 1;
            continue;
        }
        if ((r = trpt_buf_append(f->out, b64, take)) < 0)
            return r;
        f->col += take;
        b64 += take;
        n -= take;
    }
    return 0;
}

static void lower_copy(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = ascii_lower(src[i]);
    dst[n] = '\0';
}

/* h=from:from:to:to:...: each name once per instance plus once more. */
static int put_h_tag(folder *f, const parsed_msg *pm, const char *const *names)
{
    char tok[NAME_MAX_LEN + 3];
    int first = 1, r;

    for (size_t i = 0; names[i]; i++) {
        size_t copies = count_fields(pm, names[i]) + 1;
        size_t n = strlen(names[i]);

        for (size_t c = 0; c < copies; c++) {
            size_t off = first ? 2 : 1;

            memcpy(tok, first ? "h=" : ":", off);
            lower_copy(tok + off, names[i], n);
            r = fold_put(f, tok, off + n, first);
            if (r < 0)
                return r;
            first = 0;
        }
    }
    return fold_put(f, ";", 1, 0);
}

static int digest_canon(void *ctx, trpt_buf *canon)
{
    int ok =
        EVP_DigestUpdate(ctx, canon->data ? canon->data : "", canon->len) == 1;

    trpt_buf_reset(canon);
    return ok ? 0 : -EIO;
}

/* bh= (§3.7): SHA-256 of the canonical body, streamed. */
static int body_hash_b64(const parsed_msg *pm, char b64[45])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[SHA256_LEN];
    trpt_buf canon;
    int r = -EIO;

    if (!ctx)
        return -ENOMEM;
    trpt_buf_init(&canon);
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1)
        r = canon_body_into(pm->body, pm->body_len, &canon, digest_canon, ctx);
    if (r == 0 && EVP_DigestFinal_ex(ctx, md, NULL) != 1)
        r = -EIO;
    trpt_buf_free(&canon);
    EVP_MD_CTX_free(ctx);
    if (r == 0)
        EVP_EncodeBlock((unsigned char *)b64, md, SHA256_LEN);
    return r;
}

/* Everything of the field up to and including "b=" (§3.7: the b= value
 * is empty in the signed data). */
static int put_unsigned_field(folder *f, const trpt_dkim_key *k,
                              const char *domain, const char *selector,
                              int64_t timestamp, const parsed_msg *pm,
                              const char *const *names)
{
    char bh[45], t[24];
    int r;

    if ((r = body_hash_b64(pm, bh)) < 0)
        return r;
    snprintf(t, sizeof t, "%lld", (long long)timestamp);
    if ((r = fold_put(f, "DKIM-Signature:", 15, 0)) < 0 ||
        (r = fold_put(f, "v=1;", 4, 1)) < 0 ||
        (r = fold_tag(f, "a", trpt_dkim_key_algorithm(k))) < 0 ||
        (r = fold_put(f, "c=relaxed/relaxed;", 18, 1)) < 0 ||
        (r = fold_tag(f, "d", domain)) < 0 ||
        (r = fold_tag(f, "s", selector)) < 0 || (r = fold_tag(f, "t", t)) < 0 ||
        (r = put_h_tag(f, pm, names)) < 0 || (r = fold_tag(f, "bh", bh)) < 0)
        return r;
    return fold_put(f, "b=", 2, 1);
}

/* The data signed (§3.7): the selected fields in h= order, then this
 * DKIM-Signature field with an empty b= and without its final CRLF. */
static int signed_header_data(parsed_msg *pm, const char *const *names,
                              const char *sig_field, size_t sig_len,
                              trpt_buf *data)
{
    int r;

    for (size_t i = 0; names[i]; i++) {
        size_t copies = count_fields(pm, names[i]) + 1;

        for (size_t c = 0; c < copies; c++) {
            const header_field *hf = select_field(pm, names[i]);

            if (hf &&
                (r = trpt_dkim_canon_header(hf->start, hf->len, data)) < 0)
                return r;
        }
    }
    if ((r = trpt_dkim_canon_header(sig_field, sig_len, data)) < 0)
        return r;
    data->len -= 2;
    data->data[data->len] = '\0';
    return 0;
}

/* rsa-sha256 signs the data (PKCS#1 v1.5); ed25519-sha256 signs the
 * SHA-256 hash of the data with PureEdDSA (RFC 8463 §3). */
static int sign_data(const trpt_dkim_key *k, const trpt_buf *data,
                     unsigned char **sig, size_t *sig_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[SHA256_LEN];
    const unsigned char *tbs = (const unsigned char *)data->data;
    size_t tbs_len = data->len;
    int r = -EIO;

    *sig = NULL;
    if (!ctx)
        return -ENOMEM;
    if (k->ed25519) {
        if (EVP_Digest(tbs, tbs_len, md, NULL, EVP_sha256(), NULL) != 1)
            goto out;
        tbs = md;
        tbs_len = SHA256_LEN;
    }
    if (EVP_DigestSignInit(ctx, NULL, k->ed25519 ? NULL : EVP_sha256(), NULL,
                           k->pkey) != 1 ||
        EVP_DigestSign(ctx, NULL, sig_len, tbs, tbs_len) != 1)
        goto out;
    *sig = OPENSSL_malloc(*sig_len);
    if (!*sig) {
        r = -ENOMEM;
        goto out;
    }
    if (EVP_DigestSign(ctx, *sig, sig_len, tbs, tbs_len) != 1) {
        OPENSSL_free(*sig);
        *sig = NULL;
        goto out;
    }
    r = 0;
out:
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return r;
}

static int put_signature(folder *f, const trpt_dkim_key *k,
                         const trpt_buf *data)
{
    unsigned char *sig;
    size_t sig_len;
    trpt_buf b64;
    int r;

    if ((r = sign_data(k, data, &sig, &sig_len)) < 0)
        return r;
    trpt_buf_init(&b64);
    r = append_base64(&b64, sig, sig_len);
    OPENSSL_free(sig);
    if (r == 0)
        r = fold_base64(f, b64.data, b64.len);
    if (r == 0)
        r = trpt_buf_append(f->out, "\r\n", 2);
    trpt_buf_free(&b64);
    return r;
}

static int check_sign_args(const char *domain, const char *selector,
                           const char *const *names, int64_t timestamp)
{
    if (!domain || !selector || !is_dns_name(domain) || !is_dns_name(selector))
        return -EINVAL;
    if (timestamp < 0 || timestamp > 999999999999LL) /* §3.5: 12 digits */
        return -EINVAL;
    return check_signed_names(names);
}

int trpt_dkim_sign(const trpt_dkim_key *k, const char *domain,
                   const char *selector, const char *const *headers_to_sign,
                   const char *msg, size_t len, int64_t timestamp,
                   trpt_buf *out_header)
{
    const char *const *names =
        headers_to_sign ? headers_to_sign : trpt_dkim_report_headers;
    parsed_msg pm = {0};
    size_t start = out_header->len;
    folder f = {out_header, 0};
    trpt_buf data;
    int r;

    if (!k || !msg)
        return -EINVAL;
    r = check_sign_args(domain, selector, names, timestamp);
    if (r == 0)
        r = check_line_ends(msg, len);
    if (r == 0)
        r = parse_message(msg, len, &pm);
    if (r == 0 && count_fields(&pm, "From") != 1)
        r = -EINVAL; /* RFC 5322 §3.6: exactly one From */
    if (r == 0)
        r = put_unsigned_field(&f, k, domain, selector, timestamp, &pm, names);
    trpt_buf_init(&data);
    if (r == 0)
        r = signed_header_data(&pm, names, out_header->data + start,
                               out_header->len - start, &data);
    if (r == 0)
        r = put_signature(&f, k, &data);
    trpt_buf_free(&data);
    free(pm.fields);
    if (r < 0 && out_header->data) {
        out_header->len = start;
        out_header->data[start] = '\0';
    }
    return r;
}
