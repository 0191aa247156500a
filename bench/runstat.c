/*
 * runstat.c - run a command and report its wall time, CPU time and peak
 * RSS, for bench/run.sh (so the benchmark needs no /usr/bin/time).
 *
 *   runstat [-o FILE] [-i FILE] COMMAND [ARG...]
 *
 * The command inherits stdout and stderr; with -i its stdin is FILE. The
 * figures go to FILE (-o) or stderr as one line:
 *   wall_s=1.234 user_s=1.100 sys_s=0.120 maxrss_kib=5120 status=0
 * maxrss is the child's own ru_maxrss from wait4(2), so runstat's memory
 * is not counted. Exit status: the command's, 127 if it could not run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void usage(void)
{
    fprintf(stderr, "usage: runstat [-o FILE] [-i FILE] COMMAND [ARG...]\n");
}

static int redirect_stdin(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || dup2(fd, STDIN_FILENO) < 0) {
        perror(path);
        return -1;
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    const char *out_path = NULL, *in_path = NULL;
    struct rusage ru;
    int i = 1, status = 0, code;
    double t0, t1;
    pid_t pid;
    FILE *out = stderr;

    while (i + 1 < argc && argv[i][0] == '-' && strlen(argv[i]) == 2) {
        if (argv[i][1] == 'o')
            out_path = argv[i + 1];
        else if (argv[i][1] == 'i')
            in_path = argv[i + 1];
        else
            break;
        i += 2;
    }
    if (i >= argc) {
        usage();
        return 2;
    }
    t0 = now_s();
    pid = fork();
    if (pid < 0) {
        perror("runstat: fork");
        return 127;
    }
    if (pid == 0) {
        if (in_path && redirect_stdin(in_path) < 0)
            _exit(127);
        execvp(argv[i], argv + i);
        perror(argv[i]);
        _exit(127);
    }
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("runstat: wait4");
            return 127;
        }
    }
    t1 = now_s();
    code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (out_path && !(out = fopen(out_path, "w"))) {
        perror(out_path);
        return 127;
    }
    fprintf(out,
            "wall_s=%.3f user_s=%.3f sys_s=%.3f maxrss_kib=%ld status=%d\n",
            t1 - t0, tv_s(ru.ru_utime), tv_s(ru.ru_stime), ru.ru_maxrss, code);
    if (out != stderr)
        fclose(out);
    return code;
}
