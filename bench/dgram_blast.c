/* dgram_blast.c - send libtlsrpt-style datagrams to an AF_UNIX datagram
 * socket from several processes, non-blocking as libtlsrpt does
 * (MSG_DONTWAIT: a full receive queue means a lost datagram), at a paced
 * total rate, and count what the kernel took and what it refused.
 *
 *   dgram_blast --socket PATH [--procs N] [--rate PER_SECOND] [--seconds S]
 *
 * --rate 0 sends as fast as possible (saturation); a paced sender sends
 * one datagram per slot and skips slots it was too late for. Output:
 *   RESULT procs=N offered_rate=R seconds=S attempts=A sent=K eagain=E
 *          errors=X sent_per_s=V
 * Datagrams look like Postfix's (bench_collect.sh checks the records). */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 64

typedef struct tally {
    uint64_t attempts, sent, eagain, errors;
} tally;

typedef struct blast_opts {
    const char *socket;
    unsigned procs;
    double rate; /* total per second; 0 = unpaced */
    double seconds;
} blast_opts;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Three shapes seen in the Postfix 3.10 corpus: success without policy,
 * an STS failure with policy strings, a DANE success. */
static int make_datagram(char *buf, size_t len, unsigned proc, uint64_t i)
{
    unsigned dom = (unsigned)((i * 7919 + proc) % 1000);

    switch (i % 3) {
    case 0:
        return snprintf(buf, len,
                        "{\"d\": \"d%u.bench\",\"pr\": \"v=TLSRPTv1; "
                        "rua=mailto:tlsrpt@d%u.bench\",\"policies\":[{"
                        "\"policy-type\":9,\"policy-domain\": \"d%u.bench\","
                        "\"t\":0,\"f\":0}]}",
                        dom, dom, dom);
    case 1:
        return snprintf(
            buf, len,
            "{\"d\": \"s%u.bench\",\"pr\": \"v=TLSRPTv1; "
            "rua=mailto:tlsrpt@s%u.bench\",\"policies\":[{\"policy-type\":2,"
            "\"policy-domain\": \"s%u.bench\",\"policy-string\":[\"version: "
            "STSv1\",\"mode: enforce\",\"mx: mx.s%u.bench\",\"max_age: "
            "86400\"],\"mx-host\":[\"mx.s%u.bench\"],\"failure-details\":[{"
            "\"c\":202,\"s\": \"192.0.2.1\",\"n\": \"mx.s%u.bench\",\"h\": "
            "\"250-mx.s%u.bench\\r\\n250-PIPELINING\\r\\n250 STARTTLS\","
            "\"r\": \"198.51.100.7\"}],\"t\":1,\"f\":1}]}",
            dom, dom, dom, dom, dom, dom, dom);
    default:
        return snprintf(buf, len,
                        "{\"d\": \"t%u.bench\",\"pr\": \"v=TLSRPTv1; "
                        "rua=mailto:tlsrpt@t%u.bench\",\"policies\":[{"
                        "\"policy-type\":1,\"policy-domain\": \"mx.t%u.bench\""
                        ",\"policy-string\":[\"3 1 1 "
                        "6700642B670E40DA43D7640022F6DD5F16F3793CFDB5B9556B1FA"
                        "BFA256A8990\"],\"t\":0,\"f\":0}]}",
                        dom, dom, dom);
    }
}

static void send_one(int fd, const struct sockaddr_un *a, unsigned proc,
                     tally *t)
{
    char buf[2048];
    int n = make_datagram(buf, sizeof buf, proc, t->attempts);

    t->attempts++;
    if (sendto(fd, buf, (size_t)n, MSG_DONTWAIT, (const struct sockaddr *)a,
               sizeof *a) == n)
        t->sent++;
    else if (errno == EAGAIN || errno == EWOULDBLOCK)
        t->eagain++;
    else
        t->errors++;
}

/* One sender. Paced: one datagram per slot (rate / procs per second), as
 * one Postfix process reports one handshake at a time; a slot missed
 * because the process did not run in time is skipped, not made up in a
 * burst, so `attempts` is what was really offered. Unpaced: back to back. */
static void sender(const blast_opts *o, unsigned proc, tally *t)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    double interval = o->rate > 0 ? o->procs / o->rate : 0, end, next;
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

    if (fd < 0 || strlen(o->socket) >= sizeof a.sun_path) {
        t->errors++;
        return;
    }
    strcpy(a.sun_path, o->socket);
    next = now_s() + interval * proc / o->procs; /* spread the senders */
    end = now_s() + o->seconds;
    for (double now; (now = now_s()) < end;) {
        if (interval <= 0) {
            send_one(fd, &a, proc, t);
            continue;
        }
        if (now < next) {
            double wait = next - now;
            struct timespec ts = {(time_t)wait,
                                  (long)((wait - (time_t)wait) * 1e9)};

            nanosleep(&ts, NULL);
            continue;
        }
        send_one(fd, &a, proc, t);
        next += interval;
        if (now > next + interval) /* late: skip the missed slots */
            next = now + interval;
    }
    close(fd);
}

static int parse_opts(int argc, char **argv, blast_opts *o)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        char *end;
        double v = strtod(argv[i + 1], &end);

        if (strcmp(argv[i], "--socket") == 0) {
            o->socket = argv[i + 1];
            continue;
        }
        if (*end || v < 0 || v > 1e9)
            return -1;
        if (strcmp(argv[i], "--procs") == 0 && v >= 1 && v <= MAX_PROCS)
            o->procs = (unsigned)v;
        else if (strcmp(argv[i], "--rate") == 0)
            o->rate = v;
        else if (strcmp(argv[i], "--seconds") == 0 && v > 0 && v <= 3600)
            o->seconds = v;
        else
            return -1;
    }
    return o->socket && (argc % 2) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    blast_opts o = {.procs = 4, .rate = 0, .seconds = 2};
    tally *t, sum = {0};
    pid_t pids[MAX_PROCS];
    double t0, t1;

    if (parse_opts(argc, argv, &o) < 0) {
        fprintf(stderr, "usage: dgram_blast --socket PATH [--procs N] "
                        "[--rate PER_S] [--seconds S]\n");
        return 2;
    }
    t = mmap(NULL, sizeof *t * MAX_PROCS, PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED)
        return 1;
    memset(t, 0, sizeof *t * MAX_PROCS);
    t0 = now_s();
    for (unsigned i = 0; i < o.procs; i++) {
        if ((pids[i] = fork()) == 0) {
            sender(&o, i, &t[i]);
            _exit(0);
        }
        if (pids[i] < 0)
            return 1;
    }
    for (unsigned i = 0; i < o.procs; i++)
        waitpid(pids[i], NULL, 0);
    t1 = now_s();
    for (unsigned i = 0; i < o.procs; i++) {
        sum.attempts += t[i].attempts;
        sum.sent += t[i].sent;
        sum.eagain += t[i].eagain;
        sum.errors += t[i].errors;
    }
    printf("RESULT procs=%u offered_rate=%.0f seconds=%.3f attempts=%" PRIu64
           " sent=%" PRIu64 " eagain=%" PRIu64 " errors=%" PRIu64
           " sent_per_s=%.0f\n",
           o.procs, o.rate, t1 - t0, sum.attempts, sum.sent, sum.eagain,
           sum.errors, (double)sum.sent / (t1 - t0));
    return sum.errors ? 1 : 0;
}
