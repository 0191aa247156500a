/*
 * sign_mail.c - test helper: a signed RFC 8460 report mail from a JSON
 * report, for the independent verifier in test_dkim_python.sh.
 *
 * usage: sign_mail KEY.pem REPORT.json OUT.eml OUT.json.gz OUT.txt
 *   gzips REPORT.json with trpt_report_gzip() (the aggregator's own gzip),
 *   builds the mail with trpt_report_mail_build(), signs it as
 *   d=submitter.test s=tlsrpt with KEY.pem, and writes the signed message,
 *   the gzip attachment and the key's DNS TXT value.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "dkim.h"
#include "mail.h"
#include "report.h"

static int read_file(const char *path, trpt_buf *out)
{
    FILE *f = fopen(path, "rb");
    char chunk[4096];
    size_t n;

    if (!f)
        return -errno;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (trpt_buf_append(out, chunk, n) < 0) {
            fclose(f);
            return -ENOMEM;
        }
    fclose(f);
    return 0;
}

static int write_file(const char *path, const char *a, size_t alen,
                      const char *b, size_t blen)
{
    FILE *f = fopen(path, "wb");
    int ok;

    if (!f)
        return -errno;
    ok = fwrite(a, 1, alen, f) == alen && fwrite(b, 1, blen, f) == blen;
    return fclose(f) == 0 && ok ? 0 : -EIO;
}

int main(int argc, char **argv)
{
    const char *const to[] = {"tlsrpt@example.net", "reports@ops.example.net",
                              NULL};
    trpt_buf json, gz, mail, sig, txt;
    trpt_dkim_key *key = NULL;
    int r;

    if (argc != 6) {
        fprintf(stderr, "usage: %s KEY REPORT.json OUT.eml OUT.gz OUT.txt\n",
                argv[0]);
        return 2;
    }
    trpt_buf_init(&json);
    trpt_buf_init(&gz);
    trpt_buf_init(&mail);
    trpt_buf_init(&sig);
    trpt_buf_init(&txt);
    r = trpt_dkim_load_key(argv[1], &key);
    if (r == 0)
        r = read_file(argv[2], &json);
    if (r == 0)
        r = trpt_report_gzip(json.data, json.len, &gz);
    if (r == 0) {
        trpt_report_mail m = {
            .from = "tlsrpt@submitter.test",
            .to = to,
            .policy_domain = "example.net",
            .submitter = "submitter.test",
            .report_id =
                "2026-11-27T00:00:00Z_example.net_0a1b2c3d@submitter.test",
            .file_name = "submitter.test!example.net!1795737600!1795823999!"
                         "0a1b2c3d.json.gz",
            .gzip = gz.data,
            .gzip_len = gz.len,
            .date = (int64_t)time(NULL),
        };
        r = trpt_report_mail_build(&m, &mail);
    }
    if (r == 0)
        r = trpt_dkim_sign(key, "submitter.test", "tlsrpt", NULL, mail.data,
                           mail.len, (int64_t)time(NULL), &sig);
    if (r == 0)
        r = trpt_dkim_public_txt(key, &txt);
    if (r == 0)
        r = write_file(argv[3], sig.data, sig.len, mail.data, mail.len);
    if (r == 0)
        r = write_file(argv[4], gz.data, gz.len, "", 0);
    if (r == 0)
        r = write_file(argv[5], txt.data, txt.len, "", 0);
    if (r < 0)
        fprintf(stderr, "sign_mail: %s\n", strerror(-r));
    trpt_dkim_key_free(key);
    trpt_buf_free(&json);
    trpt_buf_free(&gz);
    trpt_buf_free(&mail);
    trpt_buf_free(&sig);
    trpt_buf_free(&txt);
    return r < 0;
}
