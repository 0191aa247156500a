/* send.c - `tlsrpt send`: deliver the outbox's reports to the addresses
 * their policy domains publish (RFC 8460 §3, §5): HTTPS POST (§5.2) and
 * DKIM-signed mail (§5.3), with the durable per-report state of outbox.h.
 * docs/tlsrpt.1 SEND. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dkim.h"
#include "mail.h"
#include "outbox.h"
#include "report_info.h"
#include "smtp.h"
#include "timeutil.h"
#include "tlsrpt.h"

#define US_PER_S        1000000LL
#define MAX_REPORT_FILE (1024LL * 1024 * 1024)

typedef struct send_opts {
    int64_t now_us; /* 0 = the clock */
    int daemon;
    unsigned interval;
} send_opts;

typedef struct send_counts {
    unsigned sent, retry, given_up, waiting, no_destination, errors;
} send_counts;

typedef struct sender {
    const tlsrpt_ctx *ctx;
    const trpt_delivery_config *d;
    tlsrpt_net net;
    trpt_outbox_schedule sched;
    trpt_dkim_key *dkim;
    trpt_smtp_config smtp;
    char *smtp_password;
    int lock_fd;
    int64_t now_us;
    send_counts n;
} sender;

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* --- set-up -------------------------------------------------------------- */

/* The SMTP password file: first line, and not readable by others. */
static int read_password(const char *path, char **out)
{
    char line[1024];
    struct stat st;
    FILE *f;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || (st.st_mode & (S_IROTH | S_IWOTH))) {
        close(fd);
        return -EPERM;
    }
    if (!(f = fdopen(fd, "r"))) {
        close(fd);
        return -ENOMEM;
    }
    if (!fgets(line, sizeof line, f))
        line[0] = '\0';
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    return (*out = strdup(line)) ? 0 : -ENOMEM;
}

/* One sender at a time: a second one would deliver the same reports. */
static int take_lock(sender *s)
{
    char path[4200];
    const char *outbox = s->ctx->cfg->outbox_directory;

    snprintf(path, sizeof path, "%s/delivery", outbox);
    if (mkdir(path, 0750) < 0 && errno != EEXIST) {
        tlsrpt_err("cannot create %s: %s", path, strerror(errno));
        return TLSRPT_EXIT_SYSTEM;
    }
    snprintf(path, sizeof path, "%s/delivery/send.lock", outbox);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        tlsrpt_err("%s: %s", path,
                   errno == EWOULDBLOCK ? "another tlsrpt send is running"
                                        : strerror(errno));
        return TLSRPT_EXIT_SYSTEM;
    }
    return 0;
}

static int open_sender(sender *s, const tlsrpt_ctx *ctx)
{
    const trpt_delivery_config *d = &ctx->cfg->delivery;
    int r;

    memset(s, 0, sizeof *s);
    s->ctx = ctx;
    s->d = d;
    s->lock_fd = -1;
    s->sched = (trpt_outbox_schedule){
        .grace_us = (int64_t)d->send_grace * US_PER_S,
        .spread_us = (int64_t)d->send_spread * US_PER_S,
        .base_us = (int64_t)d->retry_base * US_PER_S,
        .cap_us = (int64_t)d->retry_max * US_PER_S,
        .give_up_us = (int64_t)d->give_up_after * US_PER_S,
    };
    if (d->send_grace == 0) /* 0 means none here, not the default */
        s->sched.grace_us = 1;
    if ((r = tlsrpt_ensure_dir(ctx->cfg->outbox_directory, "outbox")) != 0 ||
        (r = take_lock(s)) != 0)
        return r;
    if (d->dkim_key_file) {
        if (!d->dkim_selector) {
            tlsrpt_err("dkim_key_file is set but dkim_selector is not");
            return TLSRPT_EXIT_SYSTEM;
        }
        if ((r = trpt_dkim_load_key(d->dkim_key_file, &s->dkim)) < 0) {
            tlsrpt_err("DKIM key %s: %s", d->dkim_key_file, strerror(-r));
            return TLSRPT_EXIT_SYSTEM;
        }
    }
    if (d->smtp_password_file &&
        (r = read_password(d->smtp_password_file, &s->smtp_password)) < 0) {
        tlsrpt_err("smtp_password_file %s: %s", d->smtp_password_file,
                   r == -EPERM ? "readable by others; refusing it"
                               : strerror(-r));
        return TLSRPT_EXIT_SYSTEM;
    }
    s->smtp = (trpt_smtp_config){
        .url = d->smtp_server,
        .helo = d->smtp_helo,
        .ca_file = d->smtp_ca_file,
        .allow_plaintext = !d->smtp_require_tls,
        .username = d->smtp_username,
        .password = s->smtp_password,
        .sendmail = d->sendmail_path,
    };
    return tlsrpt_net_open(ctx, &s->net);
}

static void close_sender(sender *s)
{
    tlsrpt_net_close(&s->net);
    trpt_dkim_key_free(s->dkim);
    free(s->smtp_password);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
}

/* --- one report ------------------------------------------------------------
 */

static int read_file(const char *dir, const char *name, trpt_buf *out)
{
    char path[4400];
    struct stat st;
    int fd, r = 0;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || st.st_size > MAX_REPORT_FILE)
        r = -EFBIG;
    else if ((r = trpt_buf_reserve(out, (size_t)st.st_size + 1)) == 0) {
        ssize_t n = read(fd, out->data, (size_t)st.st_size);

        if (n != st.st_size)
            r = -EIO;
        else
            out->len = (size_t)n;
    }
    close(fd);
    return r;
}

/* The UTC day of a report from its §5.3 name "sub!dom!BEGIN!end...". */
static int64_t report_day(const char *name)
{
    const char *p = strchr(name, '!');

    p = p ? strchr(p + 1, '!') : NULL;
    return p ? strtoll(p + 1, NULL, 10) / 86400 : 0;
}

/* Too big: one report per policy instead (each then goes through this
 * again), never a truncated one. A report of one policy cannot be split
 * and is not sent; the reason is kept. */
static int split_report(sender *s, trpt_outbox_entry *e,
                        const trpt_report_info *info, const trpt_buf *gz)
{
    char why[300];
    size_t parts = 0;
    int r;

    if (info->n_policies < 2) {
        snprintf(why, sizeof why,
                 "report of %zu bytes exceeds max_report_size (%u) and has "
                 "one policy: not sent",
                 gz->len, s->d->max_report_size);
        return trpt_outbox_resolve(e, NULL, 0, why);
    }
    if ((r = trpt_report_split(gz->data, gz->len, e->report,
                               s->ctx->cfg->outbox_directory, &parts)) < 0)
        return r;
    snprintf(why, sizeof why,
             "split into %zu reports of one policy (max_report_size %u)", parts,
             s->d->max_report_size);
    return trpt_outbox_resolve(e, NULL, 0, why);
}

/* Where the report goes, decided once (outbox.h): every usable rua URI of
 * the domain's one TLSRPT record, or the reason there is none. */
static int resolve_destinations(sender *s, trpt_outbox_entry *e,
                                const trpt_report_info *info,
                                const trpt_buf *gz)
{
    size_t gz_len = gz->len;
    const trpt_rua_lookup *l;
    const char *uris[64];
    char *owned[64];
    size_t n = 0;
    int64_t day = report_day(e->report);
    int r;

    if (trpt_config_suppressed(s->ctx->cfg, info->policy_domain, day))
        return trpt_outbox_resolve(e, NULL, 0, "suppressed by configuration");
    if (!s->d->send_success_only && info->failures == 0)
        return trpt_outbox_resolve(e, NULL, 0,
                                   "no failures (send_success_only_reports "
                                   "= no)");
    if (gz_len > s->d->max_report_size)
        return split_report(s, e, info, gz);
    if ((r = trpt_resolver_rua(s->net.resolver, info->policy_domain, s->now_us,
                               &l)) < 0)
        return r;
    if (l->rc == -EAGAIN)
        return -EAGAIN; /* decide on a later pass */
    if (l->rc < 0)
        return trpt_outbox_resolve(e, NULL, 0, l->why);
    for (size_t i = 0; i < l->txt->n_rua && n < s->d->max_destinations; i++) {
        const trpt_rua *u = &l->txt->rua[i];
        char *uri;

        if (u->scheme == TRPT_RUA_MAILTO) {
            size_t len = strlen(u->target) + 8;

            if (!(uri = malloc(len)))
                break;
            snprintf(uri, len, "mailto:%s", u->target);
        } else if (!(uri = strdup(u->target))) {
            break;
        }
        owned[n] = uri;
        uris[n++] = uri;
    }
    r = n ? trpt_outbox_resolve(e, uris, n, NULL)
          : trpt_outbox_resolve(e, NULL, 0, "no usable destination");
    for (size_t i = 0; i < n; i++)
        free(owned[i]);
    return r;
}

/* The §5.3 mail for one address, signed when a key is configured. */
static int build_mail(sender *s, const char *name, const trpt_buf *gz,
                      const trpt_report_info *info, const char *to,
                      trpt_buf *msg)
{
    const char *rcpt[2] = {to, NULL};
    trpt_report_mail m = {
        .from = s->d->report_from,
        .to = rcpt,
        .policy_domain = info->policy_domain,
        .submitter = s->ctx->cfg->submitter_domain,
        .report_id = info->report_id,
        .file_name = name,
        .gzip = gz->data,
        .gzip_len = gz->len,
        .date = trpt_now_us() / US_PER_S, /* --now moves the schedule only */
    };
    trpt_buf body, sig;
    int r;

    trpt_buf_init(&body);
    trpt_buf_init(&sig);
    r = trpt_report_mail_build(&m, &body);
    if (r == 0 && s->dkim)
        r = trpt_dkim_sign(s->dkim, s->d->dkim_domain, s->d->dkim_selector,
                           NULL, body.data, body.len, m.date, &sig);
    if (r == 0 && s->dkim)
        r = trpt_buf_append(msg, sig.data, sig.len);
    if (r == 0)
        r = trpt_buf_append(msg, body.data, body.len);
    trpt_buf_free(&body);
    trpt_buf_free(&sig);
    return r;
}

/* One attempt; *retryable and why describe a failure. */
static int deliver(sender *s, const char *name, const trpt_buf *gz,
                   const trpt_report_info *info, const char *uri,
                   int *retryable, char *why, size_t whylen)
{
    int r;

    *retryable = 0;
    if (strncmp(uri, "mailto:", 7) == 0) {
        const char *to = uri + 7;
        const char *rcpt[2] = {to, NULL};
        trpt_buf msg;
        long reply = 0;

        trpt_buf_init(&msg);
        if ((r = build_mail(s, name, gz, info, to, &msg)) < 0) {
            snprintf(why, whylen, "cannot build the mail: %s", strerror(-r));
        } else {
            r = trpt_smtp_send(&s->smtp, s->d->report_from, rcpt, msg.data,
                               msg.len, &reply, why, whylen);
            *retryable = r < 0 && trpt_smtp_retryable(r, reply);
        }
        trpt_buf_free(&msg);
        return r;
    }
    trpt_http_result res;

    r = trpt_http_post_report(&s->net.http, uri, gz->data, gz->len, &res);
    if (r < 0) {
        snprintf(why, whylen, "%s", res.error[0] ? res.error : strerror(-r));
        *retryable = trpt_http_retryable(r, &res);
    }
    trpt_http_result_clear(&res);
    return r;
}

static void log_attempt(const char *name, const trpt_outbox_dest *d,
                        const char *why)
{
    char when[40];

    if (d->state == TRPT_DEST_SENT) {
        fprintf(stderr, "tlsrpt send: %s -> %s: sent\n", name, d->uri);
        return;
    }
    trpt_format_rfc3339(d->next_us, when);
    if (d->state == TRPT_DEST_GIVEN_UP)
        fprintf(stderr,
                "tlsrpt send: %s -> %s: given up after %u attempt(s):"
                " %s\n",
                name, d->uri, d->attempts, why);
    else
        fprintf(stderr, "tlsrpt send: %s -> %s: failed (%s), retry at %s\n",
                name, d->uri, why, when);
}

static int send_due(sender *s, trpt_outbox_entry *e, const char *name,
                    const trpt_buf *gz, const trpt_report_info *info)
{
    const char *outbox = s->ctx->cfg->outbox_directory;
    int r;

    for (size_t i = 0; i < e->n_dest && !stop_requested; i++) {
        trpt_outbox_dest *d = &e->dest[i];
        char why[512] = "";
        int retryable;

        if (d->state != TRPT_DEST_PENDING || d->next_us > s->now_us)
            continue;
        r = deliver(s, name, gz, info, d->uri, &retryable, why, sizeof why);
        if ((r = trpt_outbox_record(e, i, r == 0, retryable, why, s->now_us,
                                    &s->sched)) < 0)
            return r;
        /* Recorded before the next one: a crash resends only this one. */
        if ((r = trpt_outbox_save(outbox, e)) < 0)
            return r;
        log_attempt(name, d, why);
        s->n.sent += d->state == TRPT_DEST_SENT;
        s->n.retry += d->state == TRPT_DEST_PENDING;
        s->n.given_up += d->state == TRPT_DEST_GIVEN_UP;
    }
    return 0;
}

static int process_report(sender *s, const char *name)
{
    const char *outbox = s->ctx->cfg->outbox_directory;
    trpt_outbox_entry *e = NULL;
    trpt_report_info info = {0};
    trpt_buf gz;
    int r;

    if ((r = trpt_outbox_load(outbox, name, &s->sched, &e)) < 0) {
        tlsrpt_err("%s: delivery state unreadable (%s); left alone", name,
                   strerror(-r));
        s->n.errors++;
        return 0;
    }
    if (trpt_outbox_finished(e) || trpt_outbox_next_due(e) > s->now_us) {
        s->n.waiting += !trpt_outbox_finished(e);
        trpt_outbox_entry_free(e);
        return 0;
    }
    trpt_buf_init(&gz);
    if ((r = read_file(outbox, name, &gz)) < 0 ||
        (r = trpt_report_info_read(gz.data, gz.len, &info)) < 0) {
        tlsrpt_err("%s: not a readable report (%s); left alone", name,
                   strerror(-r));
        s->n.errors++;
        r = 0;
        goto out;
    }
    if (!e->resolved) {
        r = resolve_destinations(s, e, &info, &gz);
        if (r == -EAGAIN) {
            s->n.waiting++;
            r = 0;
            goto out;
        }
        if (r < 0 || (r = trpt_outbox_save(outbox, e)) < 0)
            goto out;
        if (!e->n_dest) {
            fprintf(stderr, "tlsrpt send: %s: not sent: %s\n", name,
                    e->no_dest_why);
            s->n.no_destination++;
        }
    }
    r = send_due(s, e, name, &gz, &info);
out:
    if (r < 0) {
        tlsrpt_err("%s: %s", name, strerror(-r));
        s->n.errors++;
    }
    trpt_report_info_clear(&info);
    trpt_buf_free(&gz);
    trpt_outbox_entry_free(e);
    return r == -ENOSPC || r == -EROFS || r == -EIO ? r : 0;
}

static int run_pass(sender *s)
{
    char **names = NULL;
    int r;

    if ((r = trpt_outbox_reports(s->ctx->cfg->outbox_directory, &names)) < 0) {
        tlsrpt_err("outbox %s: %s", s->ctx->cfg->outbox_directory,
                   strerror(-r));
        return r;
    }
    for (size_t i = 0; names[i] && r == 0 && !stop_requested; i++)
        r = process_report(s, names[i]);
    trpt_outbox_reports_free(names);
    return r;
}

/* --- the command -----------------------------------------------------------
 */

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: tlsrpt send [--daemon [--interval SECONDS]] [--now TIME]\n"
            "Deliver due reports of the outbox to their rua destinations.\n"
            "  -d, --daemon         keep running, a pass every interval\n"
            "  -i, --interval SECS  seconds between passes (default 60)\n"
            "  -n, --now TIME       pretend it is TIME (RFC 3339), one pass\n");
}

static int parse_args(int argc, char **argv, send_opts *o)
{
    static const struct option opts[] = {
        {"daemon", no_argument, NULL, 'd'},
        {"interval", required_argument, NULL, 'i'},
        {"now", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char *end;
    int c;

    o->interval = 60;
    optind = 1;
    while ((c = getopt_long(argc, argv, "di:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o->daemon = 1;
            break;
        case 'i':
            errno = 0;
            o->interval = (unsigned)strtoul(optarg, &end, 10);
            if (errno || *end || o->interval < 1 || o->interval > 86400)
                return tlsrpt_usage_error("send", "bad --interval: %s", optarg);
            break;
        case 'n':
            if (tlsrpt_parse_time_arg("send", optarg, &o->now_us) < 0)
                return TLSRPT_EXIT_USAGE;
            break;
        case 'h':
            usage(stdout);
            return TLSRPT_EXIT_OK;
        default:
            return tlsrpt_usage_error("send", "unknown option");
        }
    }
    if (optind != argc)
        return tlsrpt_usage_error("send", "no arguments expected");
    if (o->daemon && o->now_us)
        return tlsrpt_usage_error("send", "--now is for single passes");
    return -1;
}

int cmd_send(tlsrpt_ctx *ctx, int argc, char **argv)
{
    send_opts o = {0};
    sender s;
    int rc, r = 0;

    if ((rc = parse_args(argc, argv, &o)) >= 0)
        return rc;
    if ((rc = tlsrpt_require_submitter(ctx)) != 0)
        return rc;
    if ((rc = open_sender(&s, ctx)) != 0) {
        close_sender(&s);
        return rc;
    }
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    do {
        s.now_us = o.now_us ? o.now_us : trpt_now_us();
        r = run_pass(&s);
        for (unsigned t = 0;
             o.daemon && r == 0 && t < o.interval && !stop_requested; t++)
            sleep(1);
    } while (o.daemon && r == 0 && !stop_requested);
    fprintf(stderr,
            "tlsrpt send: %u sent, %u to retry, %u given up, %u without "
            "destination, %u waiting, %u error(s)\n",
            s.n.sent, s.n.retry, s.n.given_up, s.n.no_destination, s.n.waiting,
            s.n.errors);
    close_sender(&s);
    if (r < 0)
        return TLSRPT_EXIT_SYSTEM;
    return s.n.errors ? TLSRPT_EXIT_INPUT : TLSRPT_EXIT_OK;
}
