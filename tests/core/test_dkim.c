/* test_dkim.c - DKIM relaxed canonicalization (RFC 6376 §3.4), keys, and
 * signatures checked by a small verifier written here on OpenSSL's
 * EVP_DigestVerify (the independent verifier is python3-dkim in
 * tests/mail/test_dkim_python.sh). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dkim.h"
#include "harness.h"
#include "mail.h"

/* ---- helpers ------------------------------------------------------------ */

static char *canon_header(const char *field)
{
    trpt_buf b;

    trpt_buf_init(&b);
    if (trpt_dkim_canon_header(field, strlen(field), &b) < 0) {
        trpt_buf_free(&b);
        return NULL;
    }
    return b.data ? b.data : strdup("");
}

static char *canon_body(const char *body, size_t len)
{
    trpt_buf b;

    trpt_buf_init(&b);
    if (trpt_dkim_canon_body(body, len, &b) < 0) {
        trpt_buf_free(&b);
        return NULL;
    }
    return b.data ? b.data : strdup("");
}

/* PEM text of a fresh key: "RSA" with bits, or "ED25519". */
static char *new_key_pem(const char *type, size_t bits, const char *pass)
{
    EVP_PKEY *pkey = strcmp(type, "RSA") == 0
                         ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits)
                         : EVP_PKEY_Q_keygen(NULL, NULL, type);
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *pem = NULL;
    long n;

    if (pkey && bio &&
        PEM_write_bio_PrivateKey(
            bio, pkey, pass ? EVP_aes_256_cbc() : NULL, (unsigned char *)pass,
            pass ? (int)strlen(pass) : 0, NULL, NULL) == 1 &&
        (n = BIO_get_mem_data(bio, &data)) > 0)
        pem = strndup(data, (size_t)n);
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    return pem;
}

static char *new_ec_key_pem(void)
{
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *pem = NULL;
    long n;

    if (pkey && bio &&
        PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) == 1 &&
        (n = BIO_get_mem_data(bio, &data)) > 0)
        pem = strndup(data, (size_t)n);
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    return pem;
}

static const char *write_tmp(const char *name, const char *data, size_t len)
{
    static char path[4200];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    f = fopen(path, "wb");
    if (!f)
        return NULL;
    fwrite(data, 1, len, f);
    fclose(f);
    return path;
}

static size_t b64_decode(const char *in, size_t n, unsigned char *out,
                         size_t cap)
{
    EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
    int len = 0, fin = 0;

    if (!ctx || cap < 3 * (n / 4) + 3)
        return 0;
    EVP_DecodeInit(ctx);
    if (EVP_DecodeUpdate(ctx, out, &len, (const unsigned char *)in, (int)n) <
            0 ||
        EVP_DecodeFinal(ctx, out + len, &fin) < 0)
        len = fin = 0;
    EVP_ENCODE_CTX_free(ctx);
    return (size_t)(len + fin);
}

/* ---- a small verifier, independent of dkim.c's signing path ------------- */

typedef struct tags {
    char v[8], a[32], c[32], d[256], s[64], t[24], h[1024], bh[64], b[1024];
} tags;

/* Tag values of a DKIM-Signature field, all whitespace removed (fine for
 * the tags we emit: none has meaningful inner whitespace). */
static int parse_tags(const char *field, tags *t)
{
    char flat[4096];
    size_t n = 0;
    const char *p = strchr(field, ':');

    memset(t, 0, sizeof *t);
    if (!p)
        return -1;
    for (p++; *p && n + 1 < sizeof flat; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            flat[n++] = *p;
    flat[n] = '\0';
    for (char *save, *tok = strtok_r(flat, ";", &save); tok;
         tok = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(tok, '=');
        struct {
            const char *name;
            char *dst;
            size_t cap;
        } map[] = {{"v", t->v, sizeof t->v}, {"a", t->a, sizeof t->a},
                   {"c", t->c, sizeof t->c}, {"d", t->d, sizeof t->d},
                   {"s", t->s, sizeof t->s}, {"t", t->t, sizeof t->t},
                   {"h", t->h, sizeof t->h}, {"bh", t->bh, sizeof t->bh},
                   {"b", t->b, sizeof t->b}};

        if (!eq)
            return -1;
        *eq = '\0';
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            if (strcmp(tok, map[i].name) == 0)
                snprintf(map[i].dst, map[i].cap, "%s", eq + 1);
    }
    return 0;
}

typedef struct field {
    const char *p;
    size_t len;
    int used;
} field;

/* Header fields of a CRLF message, and where its body starts. */
static size_t split_fields(const char *msg, field *f, size_t cap,
                           const char **body)
{
    size_t n = 0;
    const char *p = msg;

    while (*p && strncmp(p, "\r\n", 2) != 0) {
        const char *e = p;

        do {
            e = strstr(e, "\r\n");
            if (!e)
                return 0;
            e += 2;
        } while (*e == ' ' || *e == '\t');
        if (n < cap)
            f[n++] = (field){p, (size_t)(e - p - 2), 0};
        p = e;
    }
    *body = p + 2;
    return n;
}

static EVP_PKEY *pubkey_from_txt(const char *txt, int ed25519)
{
    const char *p = strstr(txt, "p=");
    unsigned char raw[1024];
    const unsigned char *q = raw;
    size_t n;

    if (!p)
        return NULL;
    n = b64_decode(p + 2, strlen(p + 2), raw, sizeof raw);
    if (ed25519)
        return n == 32
                   ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, n)
                   : NULL;
    return d2i_PUBKEY(NULL, &q, (long)n);
}

/* Verifies the topmost DKIM-Signature of msg against the TXT record
 * value: 1 valid, 0 invalid. Follows RFC 6376 §6.1.3. */
static int verify(const char *msg, const char *txt)
{
    field f[64];
    const char *body;
    size_t n = split_fields(msg, f, 64, &body);
    tags t;
    trpt_buf data, bodyc;
    unsigned char bh[64], sig[1024], md[32];
    int ok = 0, ed;
    EVP_PKEY *pk;
    EVP_MD_CTX *ctx;
    char sigfield[4096], hlist[1024];

    if (n == 0 || strncasecmp(f[0].p, "DKIM-Signature:", 15) != 0 ||
        f[0].len >= sizeof sigfield)
        return 0;
    memcpy(sigfield, f[0].p, f[0].len);
    sigfield[f[0].len] = '\0';
    if (parse_tags(sigfield, &t) < 0 || strcmp(t.v, "1") != 0 ||
        strcmp(t.c, "relaxed/relaxed") != 0)
        return 0;
    ed = strcmp(t.a, "ed25519-sha256") == 0;
    if (!ed && strcmp(t.a, "rsa-sha256") != 0)
        return 0;
    /* body hash */
    trpt_buf_init(&bodyc);
    trpt_dkim_canon_body(body, strlen(body), &bodyc);
    EVP_Digest(bodyc.data ? bodyc.data : "", bodyc.len, md, NULL, EVP_sha256(),
               NULL);
    trpt_buf_free(&bodyc);
    if (b64_decode(t.bh, strlen(t.bh), bh, sizeof bh) != 32 ||
        memcmp(bh, md, 32) != 0)
        return 0;
    /* header data: h= fields from the bottom, then the signature field
     * with b= emptied (§3.7) */
    trpt_buf_init(&data);
    snprintf(hlist, sizeof hlist, "%s", t.h);
    for (char *save, *name = strtok_r(hlist, ":", &save); name;
         name = strtok_r(NULL, ":", &save)) {
        for (size_t i = n; i-- > 1;) {
            size_t nl = strlen(name);

            if (!f[i].used && strncasecmp(f[i].p, name, nl) == 0 &&
                f[i].p[nl] == ':') {
                f[i].used = 1;
                trpt_dkim_canon_header(f[i].p, f[i].len, &data);
                break;
            }
        }
    }
    /* empty the b= tag: the first "b=" after WSP or ';' (bh='s base64
     * may end in "b=", and so may a folded piece of b='s own value) */
    {
        char *q = sigfield, *tag = NULL;

        while (!tag && (q = strstr(q + 1, "b=")))
            if (strchr(" \t;", q[-1]))
                tag = q;
        if (!tag)
            return trpt_buf_free(&data), 0;
        tag[2] = '\0';
    }
    trpt_dkim_canon_header(sigfield, strlen(sigfield), &data);
    data.len -= 2;
    pk = pubkey_from_txt(txt, ed);
    ctx = EVP_MD_CTX_new();
    n = b64_decode(t.b, strlen(t.b), sig, sizeof sig);
    if (pk && ctx && n > 0) {
        if (ed) {
            EVP_Digest(data.data, data.len, md, NULL, EVP_sha256(), NULL);
            ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
                 EVP_DigestVerify(ctx, sig, n, md, 32) == 1;
        } else {
            ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pk) == 1 &&
                 EVP_DigestVerify(ctx, sig, n, (unsigned char *)data.data,
                                  data.len) == 1;
        }
    }
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    trpt_buf_free(&data);
    return ok;
}

static const char sample_msg[] =
    "From: tlsrpt@submitter.test\r\n"
    "To: tlsrpt@example.net\r\n"
    "Subject: Report Domain: example.net Submitter: submitter.test\r\n"
    " Report-ID: <r1@submitter.test>\r\n"
    "Date: Tue, 03 Sep 2024 23:59:59 +0000\r\n"
    "Message-ID: <m1@submitter.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain\r\n"
    "TLS-Report-Domain: example.net\r\n"
    "TLS-Report-Submitter: submitter.test\r\n"
    "\r\n"
    "Hello  world \t \r\n"
    "\r\n"
    "\r\n";

/* Signs msg with key, returns "signature + msg" (malloc'd) or NULL. */
static char *signed_copy(const trpt_dkim_key *k, const char *msg, int64_t ts)
{
    trpt_buf out;

    trpt_buf_init(&out);
    if (trpt_dkim_sign(k, "submitter.test", "tlsrpt", NULL, msg, strlen(msg),
                       ts, &out) < 0 ||
        trpt_buf_puts(&out, msg) < 0) {
        trpt_buf_free(&out);
        return NULL;
    }
    return out.data;
}

static char *public_txt(const trpt_dkim_key *k)
{
    trpt_buf b;

    trpt_buf_init(&b);
    if (trpt_dkim_public_txt(k, &b) < 0) {
        trpt_buf_free(&b);
        return NULL;
    }
    return b.data;
}

static char *replace_once(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    char *r;

    if (!p)
        return NULL;
    r = malloc(strlen(s) - strlen(from) + strlen(to) + 1);
    memcpy(r, s, (size_t)(p - s));
    strcpy(r + (p - s), to);
    strcat(r, p + strlen(from));
    return r;
}

/* ---- canonicalization --------------------------------------------------- */

/* RFC 6376 §3.4.5, the example's header fields, relaxed. */
TEST(relaxed_header_matches_rfc6376_example)
{
    char *a = canon_header("A: X");
    char *b = canon_header("B : Y\t\r\n\tZ  ");

    EXPECT_STREQ(a, "a:X\r\n");
    EXPECT_STREQ(b, "b:Y Z\r\n");
    free(a);
    free(b);
}

/* RFC 6376 §3.4.5, the example's body, relaxed. */
TEST(relaxed_body_matches_rfc6376_example)
{
    static const char body[] = " C  D \t E\r\n\r\n\r\n";
    char *c = canon_body(body, sizeof body - 1);

    EXPECT_STREQ(c, " C D E\r\n");
    free(c);
}

TEST(relaxed_header_keeps_colons_and_case_of_value)
{
    char *c = canon_header("SUBJECT:  Report Domain: Ex.net  Report-ID: <a>");

    EXPECT_STREQ(c, "subject:Report Domain: Ex.net Report-ID: <a>\r\n");
    free(c);
}

TEST(relaxed_header_unfolds_every_fold_and_trims_both_ends)
{
    char *c = canon_header("To: \r\n a@b,\r\n\t\r\n c@d \t");

    EXPECT_STREQ(c, "to:a@b, c@d\r\n");
    free(c);
}

TEST(relaxed_header_of_empty_value_is_name_and_colon)
{
    char *c = canon_header("X-Empty: \t ");

    EXPECT_STREQ(c, "x-empty:\r\n");
    free(c);
}

TEST(relaxed_header_refuses_field_without_colon_or_name)
{
    trpt_buf b;

    trpt_buf_init(&b);
    EXPECT_EQ(trpt_dkim_canon_header("no colon here", 13, &b), -EINVAL);
    EXPECT_EQ(trpt_dkim_canon_header(" : value", 8, &b), -EINVAL);
    EXPECT_EQ(b.len, 0);
    trpt_buf_free(&b);
}

TEST(relaxed_body_of_nothing_or_only_empty_lines_is_empty)
{
    char *a = canon_body("", 0);
    char *b = canon_body("\r\n\r\n \t\r\n\r\n", 10);

    EXPECT_STREQ(a, "");
    EXPECT_STREQ(b, "");
    free(a);
    free(b);
}

TEST(relaxed_body_adds_missing_final_crlf)
{
    char *c = canon_body("abc\r\ndef", 8);

    EXPECT_STREQ(c, "abc\r\ndef\r\n");
    free(c);
}

TEST(relaxed_body_keeps_inner_blank_lines_as_empty_lines)
{
    static const char body[] = "a\r\n  \t\r\n\r\nb  \r\n \r\n";
    char *c = canon_body(body, sizeof body - 1);

    EXPECT_STREQ(c, "a\r\n\r\n\r\nb\r\n");
    free(c);
}

TEST(relaxed_body_keeps_leading_space_of_a_line_as_one_space)
{
    static const char body[] = "\t\tindented\r\n";
    char *c = canon_body(body, sizeof body - 1);

    EXPECT_STREQ(c, " indented\r\n");
    free(c);
}

TEST(relaxed_body_treats_bare_lf_and_nul_as_ordinary_bytes)
{
    static const char body[] = "a\nb\0c\r\n";
    trpt_buf b;

    trpt_buf_init(&b);
    ASSERT(trpt_dkim_canon_body(body, sizeof body - 1, &b) == 0);
    EXPECT_EQ(b.len, 7);
    EXPECT(memcmp(b.data, "a\nb\0c\r\n", 7) == 0);
    trpt_buf_free(&b);
}

/* ---- keys --------------------------------------------------------------- */

TEST(rsa_2048_key_loads_from_pem_text)
{
    char *pem = new_key_pem("RSA", 2048, NULL);
    trpt_dkim_key *k = NULL;

    ASSERT(pem);
    EXPECT_EQ(trpt_dkim_load_key(pem, &k), 0);
    ASSERT(k);
    EXPECT_STREQ(trpt_dkim_key_algorithm(k), "rsa-sha256");
    trpt_dkim_key_free(k);
    free(pem);
}

TEST(ed25519_key_loads_from_file)
{
    char *pem = new_key_pem("ED25519", 0, NULL);
    const char *path;
    trpt_dkim_key *k = NULL;

    ASSERT(pem);
    path = write_tmp("ed.pem", pem, strlen(pem));
    ASSERT(path);
    EXPECT_EQ(trpt_dkim_load_key(path, &k), 0);
    ASSERT(k);
    EXPECT_STREQ(trpt_dkim_key_algorithm(k), "ed25519-sha256");
    trpt_dkim_key_free(k);
    free(pem);
}

TEST(rsa_key_below_1024_bits_is_refused)
{
    char *pem = new_key_pem("RSA", 768, NULL);
    trpt_dkim_key *k = NULL;

    ASSERT(pem);
    EXPECT_EQ(trpt_dkim_load_key(pem, &k), -EOPNOTSUPP);
    EXPECT(k == NULL);
    free(pem);
}

TEST(ec_p256_key_is_refused_as_unsupported)
{
    char *pem = new_ec_key_pem();
    trpt_dkim_key *k = NULL;

    ASSERT(pem);
    EXPECT_EQ(trpt_dkim_load_key(pem, &k), -EOPNOTSUPP);
    EXPECT(k == NULL);
    free(pem);
}

TEST(encrypted_key_is_refused_without_prompting)
{
    char *pem = new_key_pem("ED25519", 0, "secret");
    trpt_dkim_key *k = NULL;

    ASSERT(pem);
    EXPECT(strstr(pem, "ENCRYPTED") != NULL);
    EXPECT_EQ(trpt_dkim_load_key(pem, &k), -EINVAL);
    EXPECT(k == NULL);
    free(pem);
}

TEST(bad_key_input_is_refused)
{
    char *pem = new_key_pem("ED25519", 0, NULL);
    char big[70000];
    trpt_dkim_key *k = NULL;

    ASSERT(pem);
    /* truncated PEM */
    pem[strlen(pem) / 2] = '\0';
    EXPECT_EQ(trpt_dkim_load_key(pem, &k), -EINVAL);
    EXPECT_EQ(trpt_dkim_load_key("-----BEGIN PRIVATE KEY-----\n!!!\n"
                                 "-----END PRIVATE KEY-----\n",
                                 &k),
              -EINVAL);
    EXPECT_EQ(trpt_dkim_load_key("", &k), -EINVAL);
    EXPECT_EQ(trpt_dkim_load_key("/nonexistent/dkim.pem", &k), -ENOENT);
    EXPECT_EQ(trpt_dkim_load_key(write_tmp("empty.pem", "", 0), &k), -EINVAL);
    memset(big, 'A', sizeof big);
    EXPECT_EQ(trpt_dkim_load_key(write_tmp("big.pem", big, sizeof big), &k),
              -EFBIG);
    EXPECT_EQ(trpt_dkim_load_key(write_tmp("nul.pem", "\0\0\0", 3), &k),
              -EINVAL);
    EXPECT(k == NULL);
    trpt_dkim_key_free(NULL);
    free(pem);
}

TEST(public_txt_carries_the_key_in_dkim_form)
{
    char *rsa_pem = new_key_pem("RSA", 2048, NULL);
    char *ed_pem = new_key_pem("ED25519", 0, NULL);
    trpt_dkim_key *rsa = NULL, *ed = NULL;
    char *rt, *et;
    EVP_PKEY *rp, *ep;

    ASSERT(rsa_pem && ed_pem);
    ASSERT(trpt_dkim_load_key(rsa_pem, &rsa) == 0);
    ASSERT(trpt_dkim_load_key(ed_pem, &ed) == 0);
    rt = public_txt(rsa);
    et = public_txt(ed);
    ASSERT(rt && et);
    EXPECT(strncmp(rt, "v=DKIM1; k=rsa; s=tlsrpt; p=", 28) == 0);
    EXPECT(strncmp(et, "v=DKIM1; k=ed25519; s=tlsrpt; p=", 32) == 0);
    /* RFC 8463 §4.2: 32 raw bytes are 44 base64 characters */
    EXPECT_EQ(strlen(et), 32 + 44);
    rp = pubkey_from_txt(rt, 0);
    ep = pubkey_from_txt(et, 1);
    EXPECT(rp && EVP_PKEY_get_bits(rp) == 2048);
    EXPECT(ep != NULL);
    EVP_PKEY_free(rp);
    EVP_PKEY_free(ep);
    free(rt);
    free(et);
    trpt_dkim_key_free(rsa);
    trpt_dkim_key_free(ed);
    free(rsa_pem);
    free(ed_pem);
}

/* ---- signing ------------------------------------------------------------ */

static void check_sign_verify(const char *type, size_t bits)
{
    char *pem = new_key_pem(type, bits, NULL);
    trpt_dkim_key *k = NULL;
    char *signed_msg, *txt, *tampered;

    ASSERT(pem);
    ASSERT(trpt_dkim_load_key(pem, &k) == 0);
    txt = public_txt(k);
    signed_msg = signed_copy(k, sample_msg, 1725407999);
    ASSERT(txt && signed_msg);
    EXPECT(verify(signed_msg, txt));
    /* one byte of the body */
    tampered = replace_once(signed_msg, "Hello", "Hallo");
    EXPECT(tampered && !verify(tampered, txt));
    free(tampered);
    /* a signed header */
    tampered = replace_once(signed_msg, "TLS-Report-Domain: example.net",
                            "TLS-Report-Domain: example.neu");
    EXPECT(tampered && !verify(tampered, txt));
    free(tampered);
    /* a second From: added below the signature (oversigning, §8.15) */
    tampered = replace_once(signed_msg, "From: tlsrpt@submitter.test\r\n",
                            "From: tlsrpt@submitter.test\r\n"
                            "From: evil@attacker.test\r\n");
    EXPECT(tampered && !verify(tampered, txt));
    free(tampered);
    /* relaxed: refolding and WSP changes keep it valid */
    tampered = replace_once(
        signed_msg, "Subject: Report Domain:", "subject:   Report \t Domain:");
    EXPECT(tampered && verify(tampered, txt));
    free(tampered);
    tampered =
        replace_once(signed_msg, "Hello  world \t \r\n", "Hello world\r\n");
    EXPECT(tampered && verify(tampered, txt));
    free(tampered);
    free(signed_msg);
    free(txt);
    trpt_dkim_key_free(k);
    free(pem);
}

TEST(rsa_sha256_signature_verifies_and_tampering_fails)
{
    check_sign_verify("RSA", 2048);
}

TEST(ed25519_sha256_signature_verifies_and_tampering_fails)
{
    check_sign_verify("ED25519", 0);
}

TEST(signature_field_has_the_rfc6376_tags_and_oversigns)
{
    char *pem = new_key_pem("ED25519", 0, NULL);
    trpt_dkim_key *k = NULL;
    trpt_buf out;
    tags t;

    ASSERT(pem);
    ASSERT(trpt_dkim_load_key(pem, &k) == 0);
    trpt_buf_init(&out);
    ASSERT(trpt_dkim_sign(k, "submitter.test", "tlsrpt", NULL, sample_msg,
                          strlen(sample_msg), 1725407999, &out) == 0);
    ASSERT(parse_tags(out.data, &t) == 0);
    EXPECT_STREQ(t.v, "1");
    EXPECT_STREQ(t.a, "ed25519-sha256");
    EXPECT_STREQ(t.c, "relaxed/relaxed");
    EXPECT_STREQ(t.d, "submitter.test");
    EXPECT_STREQ(t.s, "tlsrpt");
    EXPECT_STREQ(t.t, "1725407999");
    EXPECT_STREQ(t.h, "from:from:to:to:subject:subject:date:date:message-id:"
                      "message-id:mime-version:mime-version:content-type:"
                      "content-type:tls-report-domain:tls-report-domain:"
                      "tls-report-submitter:tls-report-submitter");
    EXPECT_EQ(strlen(t.bh), 44);
    EXPECT_EQ(strlen(t.b), 88); /* 64-byte Ed25519 signature */
    EXPECT(strstr(out.data, "l=") == NULL);
    trpt_buf_free(&out);
    trpt_dkim_key_free(k);
    free(pem);
}

TEST(signature_field_is_folded_within_78_columns)
{
    char *pem = new_key_pem("RSA", 4096, NULL);
    trpt_dkim_key *k = NULL;
    trpt_buf out;
    const char *p;
    int lines = 0;

    ASSERT(pem);
    ASSERT(trpt_dkim_load_key(pem, &k) == 0);
    trpt_buf_init(&out);
    ASSERT(trpt_dkim_sign(k, "submitter.test", "tlsrpt", NULL, sample_msg,
                          strlen(sample_msg), 1725407999, &out) == 0);
    EXPECT(strncmp(out.data, "DKIM-Signature: v=1;", 20) == 0);
    EXPECT(out.len > 2 && strcmp(out.data + out.len - 2, "\r\n") == 0);
    for (p = out.data; *p; lines++) {
        const char *eol = strstr(p, "\r\n");

        ASSERT(eol);
        EXPECT(eol - p <= 78);
        EXPECT(memchr(p, '\n', (size_t)(eol - p)) == NULL);
        if (p != out.data)
            EXPECT(*p == '\t');
        p = eol + 2;
    }
    EXPECT(lines > 8); /* a 4096-bit signature is 684 characters */
    trpt_buf_free(&out);
    trpt_dkim_key_free(k);
    free(pem);
}

TEST(equal_input_gives_equal_signature)
{
    char *pem = new_key_pem("ED25519", 0, NULL);
    trpt_dkim_key *k = NULL;
    char *a, *b;

    ASSERT(pem);
    ASSERT(trpt_dkim_load_key(pem, &k) == 0);
    a = signed_copy(k, sample_msg, 1725407999);
    b = signed_copy(k, sample_msg, 1725407999);
    ASSERT(a && b);
    EXPECT_STREQ(a, b);
    free(a);
    free(b);
    trpt_dkim_key_free(k);
    free(pem);
}

TEST(caller_header_list_is_signed_and_missing_ones_sign_absence)
{
    static const char *const names[] = {"From", "X-Not-There", NULL};
    char *pem = new_key_pem("ED25519", 0, NULL);
    trpt_dkim_key *k = NULL;
    trpt_buf out;
    char *txt, *adding;
    tags t;

    ASSERT(pem);
    ASSERT(trpt_dkim_load_key(pem, &k) == 0);
    trpt_buf_init(&out);
    ASSERT(trpt_dkim_sign(k, "submitter.test", "tlsrpt", names, sample_msg,
                          strlen(sample_msg), 1, &out) == 0);
    ASSERT(parse_tags(out.data, &t) == 0);
    EXPECT_STREQ(t.h, "from:from:x-not-there");
    txt = public_txt(k);
    ASSERT(trpt_buf_puts(&out, sample_msg) == 0);
    EXPECT(verify(out.data, txt));
    /* unsigned headers may change ... */
    adding = replace_once(out.data, "MIME-Version: 1.0", "MIME-Version: 2.0");
    EXPECT(adding && verify(adding, txt));
    free(adding);
    /* ... but adding a header whose absence was signed breaks it */
    adding = replace_once(out.data, "MIME-Version:",
                          "X-Not-There: 1\r\n"
                          "MIME-Version:");
    EXPECT(adding && !verify(adding, txt));
    free(adding);
    free(txt);
    trpt_buf_free(&out);
    trpt_dkim_key_free(k);
    free(pem);
}

TEST(sign_refuses_bad_arguments_and_leaves_output_untouched)
{
    static const char *const bad_names[] = {"Fr om", NULL};
    static const char *const no_names[] = {NULL};
    static const char *const no_from[] = {"To", "Subject", NULL};
    char *pem = new_key_pem("ED25519", 0, NULL);
    trpt_dkim_key *k = NULL;
    const char *m = sample_msg;
    size_t n = strlen(sample_msg);
    char long_label[80];
    trpt_buf out;

    ASSERT(pem);
    ASSERT(trpt_dkim_load_key(pem, &k) == 0);
    memset(long_label, 'a', 64);
    strcpy(long_label + 64, ".test");
    trpt_buf_init(&out);
    trpt_buf_puts(&out, "keep");
    EXPECT_EQ(trpt_dkim_sign(k, "sub mitter.test", "s", NULL, m, n, 1, &out),
              -EINVAL);
    EXPECT_EQ(trpt_dkim_sign(k, "a..b", "s", NULL, m, n, 1, &out), -EINVAL);
    EXPECT_EQ(trpt_dkim_sign(k, "x.test\r\nBcc: y", "s", NULL, m, n, 1, &out),
              -EINVAL);
    EXPECT_EQ(trpt_dkim_sign(k, long_label, "s", NULL, m, n, 1, &out), -EINVAL);
    EXPECT_EQ(trpt_dkim_sign(k, "x.test", "s;x=1", NULL, m, n, 1, &out),
              -EINVAL);
    EXPECT_EQ(trpt_dkim_sign(k, "x.test", "", NULL, m, n, 1, &out), -EINVAL);
    EXPECT_EQ(trpt_dkim_sign(k, "x.test", "s", NULL, m, n, -1, &out), -EINVAL);
    EXPECT_EQ(
        trpt_dkim_sign(k, "x.test", "s", NULL, m, n, 1000000000000LL, &out),
        -EINVAL);
    EXPECT_EQ(trpt_dkim_sign(k, "x.test", "s", bad_names, m, n, 1, &out),
              -EINVAL);
    EXPECT_EQ(trpt_dkim_sign(k, "x.test", "s", no_names, m, n, 1, &out),
              -EINVAL);
    EXPECT_EQ(trpt_dkim_sign(k, "x.test", "s", no_from, m, n, 1, &out),
              -EINVAL);
    EXPECT_EQ(trpt_buf_puts(&out, ""), 0);
    EXPECT_STREQ(out.data, "keep");
    trpt_buf_free(&out);
    trpt_dkim_key_free(k);
    free(pem);
}

/* a test message and its length, NUL bytes included */
#define BAD_MSG(what, msg) what, msg, sizeof msg - 1

TEST(sign_refuses_messages_a_relay_would_alter)
{
    static const struct {
        const char *what;
        const char *msg;
        size_t len;
    } bad[] = {
        {BAD_MSG("bare LF", "From: a@b\nTo: c@d\r\n\r\nx\r\n")},
        {BAD_MSG("bare CR", "From: a@b\r\nTo: c@d\r\r\n\r\nx\r\n")},
        {BAD_MSG("NUL", "From: a@b\r\nTo: c\0d\r\n\r\nx\r\n")},
        {BAD_MSG("no empty line", "From: a@b\r\nTo: c@d\r\n")},
        {BAD_MSG("no headers", "\r\nbody\r\n")},
        {BAD_MSG("continuation first", " From: a@b\r\n\r\nx\r\n")},
        {BAD_MSG("no colon", "From a@b\r\n\r\nx\r\n")},
        {BAD_MSG("empty name", ": a@b\r\n\r\nx\r\n")},
        {BAD_MSG("truncated CR", "From: a@b\r\n\r\nx\r")},
        {BAD_MSG("8-bit name", "Fr\xc3\xb6m: a@b\r\n\r\nx\r\n")},
        {BAD_MSG("body without final CRLF", "From: a@b\r\n\r\nx  ")},
        {BAD_MSG("no From", "To: a@b\r\n\r\nx\r\n")},
        {BAD_MSG("two From", "From: a@b\r\nFrom: c@d\r\n\r\nx\r\n")},
    };
    char *pem = new_key_pem("ED25519", 0, NULL);
    trpt_dkim_key *k = NULL;
    trpt_buf out;

    ASSERT(pem);
    ASSERT(trpt_dkim_load_key(pem, &k) == 0);
    trpt_buf_init(&out);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int r = trpt_dkim_sign(k, "x.test", "s", NULL, bad[i].msg, bad[i].len,
                               1, &out);

        if (r != -EINVAL)
            fprintf(stderr, "  %s: %d\n", bad[i].what, r);
        EXPECT_EQ(r, -EINVAL);
        EXPECT_EQ(out.len, 0);
    }
    trpt_buf_free(&out);
    trpt_dkim_key_free(k);
    free(pem);
}

TEST(message_with_headers_only_and_empty_body_signs)
{
    static const char msg[] = "From: a@b.test\r\n\r\n";
    char *pem = new_key_pem("RSA", 1024, NULL);
    trpt_dkim_key *k = NULL;
    char *s, *txt;

    ASSERT(pem);
    ASSERT(trpt_dkim_load_key(pem, &k) == 0);
    s = signed_copy(k, msg, 0);
    txt = public_txt(k);
    ASSERT(s && txt);
    /* RFC 6376 §3.4.4: the relaxed hash of an empty body is of "" */
    EXPECT(strstr(s, "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;"));
    EXPECT(verify(s, txt));
    free(s);
    free(txt);
    trpt_dkim_key_free(k);
    free(pem);
}

/* The report mail of mail.c, signed, verifies: its folded Subject and
 * Content-Type survive relaxed canonicalization. */
TEST(signed_report_mail_verifies)
{
    static const unsigned char gz[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3,
                                       3,    0,    0, 0, 0, 0, 0, 0, 0, 0};
    static const char *const to[] = {"tlsrpt@example.net", NULL};
    trpt_report_mail m = {
        .from = "tlsrpt@submitter.test",
        .to = to,
        .policy_domain = "example.net",
        .submitter = "submitter.test",
        .report_id = "2024-09-03T00:00:00Z_example.net_0a1b2c3d@submitter.test",
        .file_name = "submitter.test!example.net!1725321600!1725407999!"
                     "0a1b2c3d.json.gz",
        .gzip = gz,
        .gzip_len = sizeof gz,
        .date = 1725411600,
        .msgid_unique = "u1",
    };
    char *pem = new_key_pem("ED25519", 0, NULL);
    trpt_dkim_key *k = NULL;
    trpt_buf mail;
    char *s, *txt, *tampered;

    ASSERT(pem);
    ASSERT(trpt_dkim_load_key(pem, &k) == 0);
    trpt_buf_init(&mail);
    ASSERT(trpt_report_mail_build(&m, &mail) == 0);
    s = signed_copy(k, mail.data, 1725411600);
    txt = public_txt(k);
    ASSERT(s && txt);
    EXPECT(verify(s, txt));
    tampered = replace_once(s, "TLS-Report-Submitter: submitter.test",
                            "TLS-Report-Submitter: submitter.tesT");
    EXPECT(tampered && !verify(tampered, txt));
    free(tampered);
    free(s);
    free(txt);
    trpt_buf_free(&mail);
    trpt_dkim_key_free(k);
    free(pem);
}

/* The body hash is computed in 64 KiB pieces: a body of several pieces,
 * with blank lines across piece borders, hashes as a whole would. */
TEST(large_body_hashes_like_its_whole_canonical_form)
{
    char *pem = new_key_pem("ED25519", 0, NULL);
    trpt_dkim_key *k = NULL;
    trpt_buf msg;
    char *s, *txt;

    ASSERT(pem);
    ASSERT(trpt_dkim_load_key(pem, &k) == 0);
    trpt_buf_init(&msg);
    trpt_buf_puts(&msg, "From: tlsrpt@submitter.test\r\n\r\n");
    for (int i = 0; i < 20000; i++)
        trpt_buf_printf(&msg, "line %d \t  of\tthe body  \r\n%s", i,
                        i % 97 ? "" : " \t\r\n\r\n");
    trpt_buf_puts(&msg, "\r\n \r\n\r\n");
    ASSERT(msg.len > 4 * 64 * 1024);
    s = signed_copy(k, msg.data, 1);
    txt = public_txt(k);
    ASSERT(s && txt);
    EXPECT(verify(s, txt));
    free(s);
    free(txt);
    trpt_buf_free(&msg);
    trpt_dkim_key_free(k);
    free(pem);
}
