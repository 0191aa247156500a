/*
 * fileutil.h - the file writing every writer of durable files shares.
 *
 * trpt_write_all()          write(2) until everything is written (EINTR
 *                           retried); a short write is retried, a zero
 *                           write is -EIO
 * trpt_write_file_atomic()  path := data, whole or not at all: written to
 *                           "<dir>/.<name>.<pid>.tmp" (never through a
 *                           symlink),
 *                           fsynced, renamed over path, and the directory
 *                           fsynced; a reader sees the old or the new file,
 *                           never a part, and a crash leaves at most the
 *                           temporary file. On error the temporary file is
 *                           removed. mode applies to a new file.
 * Both return 0 or a negative errno.
 */
#ifndef TRPT_FILEUTIL_H
#define TRPT_FILEUTIL_H

#include <stddef.h>
#include <sys/types.h>

int trpt_write_all(int fd, const void *data, size_t len);
int trpt_write_file_atomic(const char *path, const void *data, size_t len,
                           mode_t mode);

#endif
