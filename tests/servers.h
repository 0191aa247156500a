/*
 * servers.h - real servers on loopback for C tests, started and stopped by
 * the test (include after harness.h):
 *
 * knot_start(k, origin, zone)  knotd serving and DNSSEC-signing one zone
 *                              on a free 127.0.0.1 port; k->server is
 *                              "127.0.0.1@PORT", k->anchor the zone's
 *                              key-signing key (a trust anchor)
 * https_start(h, sans)         tests/http/https_server.py with a fresh
 *                              self-signed certificate for the given
 *                              subjectAltName list; h->port, h->cert,
 *                              h->log (its request log)
 * servers_stop_all()           stop every server and remove its directory
 *                              (registered with atexit on first start;
 *                              TRPT_KEEP_TMP keeps the directories)
 * All return 0 or a negative errno; a server that does not answer within
 * about 10 s is an error.
 */
#ifndef TRPT_TEST_SERVERS_H
#define TRPT_TEST_SERVERS_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"

#define SERVERS_MAX 8

typedef struct knot_server {
    pid_t pid;
    char dir[1024];
    char server[64];
    char anchor[2048];
} knot_server;

typedef struct https_server {
    pid_t pid;
    int port;
    char dir[1024];
    char cert[1100], key[1100], log[1100];
} https_server;

static struct {
    pid_t pid;
    char dir[1024];
} servers_started[SERVERS_MAX];
static int servers_n;

static void servers_stop_all(void)
{
    char cmd[1100];
    int status;

    for (int i = 0; i < servers_n; i++) {
        if (servers_started[i].pid > 0) {
            kill(servers_started[i].pid, SIGTERM);
            waitpid(servers_started[i].pid, &status, 0);
            servers_started[i].pid = 0;
        }
        if (servers_started[i].dir[0] && !getenv("TRPT_KEEP_TMP")) {
            snprintf(cmd, sizeof cmd, "rm -rf '%s'", servers_started[i].dir);
            if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n",
                        servers_started[i].dir);
        }
    }
    servers_n = 0;
}

static int servers_track(pid_t pid, const char *dir)
{
    if (servers_n == 0)
        atexit(servers_stop_all);
    if (servers_n >= SERVERS_MAX)
        return -ENOSPC;
    servers_started[servers_n].pid = pid;
    snprintf(servers_started[servers_n].dir, sizeof servers_started[0].dir,
             "%s", dir);
    servers_n++;
    return 0;
}

static int servers_mkdtemp(char *dir, size_t len, const char *what)
{
    snprintf(dir, len, "%s/trpt-%s-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", what);
    return mkdtemp(dir) ? 0 : -errno;
}

/* A loopback port free for both UDP and TCP (knotd listens on both). */
static int servers_free_port(void)
{
    for (int tries = 0; tries < 20; tries++) {
        struct sockaddr_in a = {.sin_family = AF_INET};
        socklen_t alen = sizeof a;
        int u = socket(AF_INET, SOCK_DGRAM, 0);
        int t = socket(AF_INET, SOCK_STREAM, 0);
        int port = -1;

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (u >= 0 && t >= 0 && bind(u, (struct sockaddr *)&a, sizeof a) == 0 &&
            getsockname(u, (struct sockaddr *)&a, &alen) == 0 &&
            bind(t, (struct sockaddr *)&a, sizeof a) == 0)
            port = ntohs(a.sin_port);
        if (u >= 0)
            close(u);
        if (t >= 0)
            close(t);
        if (port > 0)
            return port;
    }
    return -1;
}

static int servers_write(const char *dir, const char *name, const char *text)
{
    char path[1200];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(f = fopen(path, "w")))
        return -errno;
    fputs(text, f);
    return fclose(f) == 0 ? 0 : -EIO;
}

static void servers_nap(void)
{
    struct timespec ts = {0, 100 * 1000 * 1000};

    nanosleep(&ts, NULL);
}

/* The zone answers (SOA through a non-validating resolver), then its
 * key-signing key is read with knot's keymgr (retried: the keys may still
 * be being written when the zone first answers). */
static int knot_fetch_anchor(knot_server *k, const char *origin)
{
    trpt_dns_config cfg = {
        .server = k->server, .no_dnssec = 1, .unblock_zone = origin};
    trpt_dns *d = NULL;
    trpt_dns_answer a;
    char cmd[1400];
    int r = -ETIMEDOUT;

    if (trpt_dns_new(&d, &cfg, NULL, 0) < 0)
        return -EINVAL;
    for (int tries = 0; tries < 100 && r < 0; tries++) {
        if (trpt_dns_query(d, origin, 6 /* SOA */, &a) == 0 &&
            a.status == TRPT_DNS_DATA)
            r = 0;
        trpt_dns_answer_clear(&a);
        if (r < 0)
            servers_nap();
    }
    trpt_dns_free(d);
    if (r < 0)
        return r;
    snprintf(cmd, sizeof cmd, "keymgr -c '%s/knot.conf' '%s' dnskey 2>&1",
             k->dir, origin);
    r = -ENOENT;
    for (int tries = 0; tries < 50 && r < 0; tries++) {
        FILE *p = popen(cmd, "r");

        if (!p)
            return -errno;
        while (fgets(k->anchor, sizeof k->anchor, p))
            if (r < 0 && strstr(k->anchor, " DNSKEY 257 ")) {
                k->anchor[strcspn(k->anchor, "\n")] = '\0';
                r = 0;
            }
        pclose(p);
        if (r < 0)
            servers_nap();
    }
    return r;
}

static inline int knot_start_once(knot_server *k, const char *origin,
                                  const char *zone)
{
    char conf[8192], path[1200], log[1200];
    int port = servers_free_port();
    int r;

    memset(k, 0, sizeof *k);
    if (port < 0)
        return -EADDRINUSE;
    if ((r = servers_mkdtemp(k->dir, sizeof k->dir, "knot")) < 0)
        return r;
    snprintf(path, sizeof path, "%s/db", k->dir);
    if (mkdir(path, 0700) < 0) /* knotd does not create it */
        return -errno;
    snprintf(conf, sizeof conf,
             "server:\n    listen: 127.0.0.1@%d\n    rundir: %s\n%s"
             "database:\n    storage: %s/db\n"
             "template:\n  - id: default\n    storage: %s\n"
             "    journal-content: none\n    zonefile-sync: -1\n"
             "    dnssec-signing: on\n"
             "zone:\n  - domain: %s\n    file: zone.txt\n",
             port, k->dir, getuid() == 0 ? "    user: root\n" : "", k->dir,
             k->dir, origin);
    if ((r = servers_write(k->dir, "knot.conf", conf)) < 0 ||
        (r = servers_write(k->dir, "zone.txt", zone)) < 0)
        return r;
    snprintf(path, sizeof path, "%s/knot.conf", k->dir);
    snprintf(log, sizeof log, "%s/knot.log", k->dir);
    if ((k->pid = fork()) < 0)
        return -errno;
    if (k->pid == 0) {
        if (!freopen(log, "w", stdout) || !freopen(log, "a", stderr))
            _exit(126);
        execl("/usr/sbin/knotd", "knotd", "-c", path, (char *)NULL);
        _exit(127);
    }
    if ((r = servers_track(k->pid, k->dir)) < 0)
        return r;
    snprintf(k->server, sizeof k->server, "127.0.0.1@%d", port);
    return knot_fetch_anchor(k, origin);
}

/* The port can be taken between choosing and binding it: knotd then exits
 * at once, and a new port is tried. */
static inline int knot_start(knot_server *k, const char *origin,
                             const char *zone)
{
    int r = -EIO;

    for (int tries = 0; tries < 3 && r < 0; tries++) {
        int status;

        r = knot_start_once(k, origin, zone);
        if (r < 0 && k->pid > 0 && waitpid(k->pid, &status, WNOHANG) == 0)
            break; /* it runs: the failure is not the port */
    }
    return r;
}

static inline int https_start(https_server *h, const char *sans)
{
    char cmd[4096], portfile[1200];
    int r;

    memset(h, 0, sizeof *h);
    if ((r = servers_mkdtemp(h->dir, sizeof h->dir, "https")) < 0)
        return r;
    snprintf(h->cert, sizeof h->cert, "%s/cert.pem", h->dir);
    snprintf(h->key, sizeof h->key, "%s/key.pem", h->dir);
    snprintf(h->log, sizeof h->log, "%s/requests.log", h->dir);
    snprintf(portfile, sizeof portfile, "%s/port", h->dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s' "
             "-out '%s' -days 2 -subj /CN=opentlsrpt-test -addext "
             "'subjectAltName=%s' >/dev/null 2>&1",
             h->key, h->cert, sans);
    if (system(cmd) != 0)
        return -EIO;
    if ((h->pid = fork()) < 0)
        return -errno;
    if (h->pid == 0) {
        execl("/usr/bin/python3", "python3", "tests/http/https_server.py",
              h->cert, h->key, portfile, h->log, (char *)NULL);
        _exit(127);
    }
    if ((r = servers_track(h->pid, h->dir)) < 0)
        return r;
    for (int i = 0; i < 100 && !h->port; i++) {
        FILE *f = fopen(portfile, "r");

        if (f) {
            if (fscanf(f, "%d", &h->port) != 1)
                h->port = 0;
            fclose(f);
        }
        if (!h->port)
            servers_nap();
    }
    return h->port ? 0 : -ETIMEDOUT;
}

#endif
