/* collect_socket.c - the datagram socket of `tlsrpt collect`: bound with
 * the configured mode and group, a stale one replaced, a live one or a
 * regular file left alone, removed at stop. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "collect.h"

/* ---- the socket ------------------------------------------------------ */

static int fill_addr(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a->sun_path)
        return -ENAMETOOLONG;
    strcpy(a->sun_path, path);
    return 0;
}

/* A socket file left by a collector that died is removed; a live one (a
 * datagram connect() succeeds) or any other file is refused. */
static int clear_stale_socket(const char *path, const struct sockaddr_un *a)
{
    struct stat st;
    int probe, r;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode))
        return -EEXIST;
    if ((probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
        return -errno;
    r = connect(probe, (const struct sockaddr *)a, sizeof *a);
    close(probe);
    if (r == 0)
        return -EADDRINUSE;
    return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

static int lookup_group(const char *name, gid_t *gid)
{
    struct group gr, *res = NULL;
    char buf[16384];
    char *end;
    unsigned long n;

    if (getgrnam_r(name, &gr, buf, sizeof buf, &res) == 0 && res) {
        *gid = res->gr_gid;
        return 0;
    }
    errno = 0;
    n = strtoul(name, &end, 10); /* a numeric gid */
    if (errno || *end || end == name || n > 0x7fffffff)
        return -ENOENT;
    *gid = (gid_t)n;
    return 0;
}

/* Larger queues help only where the kernel honours them: an AF_UNIX
 * datagram socket is limited by net.unix.max_dgram_qlen (datagrams), not
 * by bytes; the buffer is raised anyway (FORCE needs CAP_NET_ADMIN). */
static void tune_socket(int fd)
{
    int size = SOCKET_RCVBUF, on = 1;
    struct timeval tv = {0, RECV_TIMEOUT_MS * 1000};

    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    (void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

int collect_open_socket(collector *co)
{
    struct sockaddr_un a;
    struct stat st;
    gid_t gid = (gid_t)-1;
    mode_t old;
    int r;

    if ((r = fill_addr(&a, co->o.socket_path)) < 0)
        return r;
    if (co->o.group && lookup_group(co->o.group, &gid) < 0) {
        tlsrpt_err("collect: unknown group %s", co->o.group);
        return -ENOENT;
    }
    if ((r = clear_stale_socket(co->o.socket_path, &a)) < 0) {
        tlsrpt_err("collect: %s: %s", co->o.socket_path,
                   r == -EADDRINUSE ? "another collector is bound to it"
                   : r == -EEXIST   ? "exists and is not a socket"
                                    : strerror(-r));
        return r;
    }
    co->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (co->fd < 0)
        return -errno;
    tune_socket(co->fd);
    old = umask(0177); /* no window where others could write */
    r = bind(co->fd, (const struct sockaddr *)&a, sizeof a);
    umask(old);
    if (r < 0) {
        r = -errno;
        tlsrpt_err("collect: bind %s: %s", co->o.socket_path, strerror(-r));
        return r;
    }
    co->socket_bound = true;
    if (stat(co->o.socket_path, &st) == 0)
        co->sock_ino = st.st_ino;
    if (gid != (gid_t)-1 && chown(co->o.socket_path, (uid_t)-1, gid) < 0) {
        r = -errno;
        tlsrpt_err("collect: chgrp %s %s: %s", co->o.group, co->o.socket_path,
                   strerror(-r));
        return r;
    }
    if (chmod(co->o.socket_path, co->o.mode) < 0) {
        r = -errno;
        tlsrpt_err("collect: chmod %s: %s", co->o.socket_path, strerror(-r));
        return r;
    }
    return 0;
}

/* Removes the socket file if it is still ours (not replaced by a newer
 * collector). */
void collect_remove_socket(collector *co)
{
    struct stat st;

    if (!co->socket_bound)
        return;
    if (stat(co->o.socket_path, &st) == 0 && st.st_ino == co->sock_ino)
        unlink(co->o.socket_path);
    co->socket_bound = false;
}
