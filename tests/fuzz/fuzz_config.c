/* fuzz_config.c - the configuration parser on arbitrary file contents:
 * errors are reported with a line number, never a crash or a leak. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    trpt_config *cfg = NULL;
    char err[512];
    int fd;

    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/fuzz-config-%ld.conf",
                 (long)getpid());
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        abort();
    if (size && write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    err[0] = '\0';
    if (trpt_config_load(&cfg, path, err, sizeof err) == 0)
        trpt_config_free(cfg);
    else if (!err[0])
        abort(); /* every refusal must say why */
    return 0;
}
