/*
 * fileutil.c - whole writes and atomic file replacement (fileutil.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileutil.h"

int trpt_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The directory holding path ("." for a bare name), made durable. */
static int fsync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    int fd, r = 0;

    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) >= sizeof dir)
        return -ENAMETOOLONG;
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return -errno;
    if (fsync(fd) < 0)
        r = -errno;
    close(fd);
    return r;
}

/* "<dir>/.<name>.<pid>.tmp": hidden, like the aggregator's temporary
 * report files, so no listing takes it for the real thing and
 * trpt_report_remove_stale() finds leftovers. */
static int tmp_name(const char *path, char *tmp, size_t len)
{
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    const char *base = slash ? slash + 1 : path;

    if (snprintf(tmp, len, "%.*s.%s.%ld.tmp", dirlen, path, base,
                 (long)getpid()) >= (int)len)
        return -ENAMETOOLONG;
    return 0;
}

int trpt_write_file_atomic(const char *path, const void *data, size_t len,
                           mode_t mode)
{
    char tmp[PATH_MAX];
    int fd, r;

    if (!path || !*path || (!data && len))
        return -EINVAL;
    if ((r = tmp_name(path, tmp, sizeof tmp)) < 0)
        return r;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    r = trpt_write_all(fd, data, len);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0) {
        unlink(tmp);
        return r;
    }
    return fsync_parent(path);
}
