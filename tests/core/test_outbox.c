/* test_outbox.c - delivery state of outbox reports: the schedule, retries
 * and giving up, the state file's round trip and its refusal of damaged
 * files, listing, and atomic replacement under kill -9. */
#include "harness.h"
#include "outbox.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define S     1000000LL
#define NAME  "sender.test!valid.test!1795824000!1795910399!0a1b2c3d.json.gz"
#define MAGIC "opentlsrpt-delivery 1\n"

static trpt_outbox_entry *fresh(const char *dir)
{
    trpt_outbox_entry *e = NULL;

    return trpt_outbox_load(dir, NAME, NULL, &e) == 0 ? e : NULL;
}

TEST(first_try_is_after_the_day_plus_grace_within_the_spread)
{
    trpt_outbox_schedule s = {0};
    int64_t a, b, other;
    int64_t end = 1795910400LL * S; /* the next UTC midnight */

    ASSERT(trpt_outbox_first_try(NAME, NULL, &a) == 0);
    EXPECT(a >= end + 3600 * S && a < end + 5 * 3600 * S);
    ASSERT(trpt_outbox_first_try(NAME, NULL, &b) == 0);
    EXPECT_EQ(a, b); /* the same name always gets the same time */
    ASSERT(trpt_outbox_first_try("sender.test!other.test!1795824000!"
                                 "1795910399!none.json.gz",
                                 NULL, &other) == 0);
    EXPECT(other != a);
    s.grace_us = 60 * S;
    s.spread_us = 1; /* no spread */
    ASSERT(trpt_outbox_first_try(NAME, &s, &a) == 0);
    EXPECT_EQ(a, end + 60 * S);
}

TEST(first_try_refuses_names_that_are_not_reports)
{
    int64_t t;

    EXPECT_EQ(trpt_outbox_first_try("x.json.gz", NULL, &t), -EINVAL);
    EXPECT_EQ(trpt_outbox_first_try("a!b!1!x.json.gz", NULL, &t), -EINVAL);
    EXPECT_EQ(trpt_outbox_first_try("a!b!1!-5!x.json.gz", NULL, &t), -EINVAL);
    EXPECT_EQ(trpt_outbox_first_try("../a!b!1!2!x.json.gz", NULL, &t), -EINVAL);
    EXPECT_EQ(trpt_outbox_first_try(".a!b!1!2!x.json.gz", NULL, &t), -EINVAL);
    EXPECT_EQ(trpt_outbox_first_try("a!b!1!2!x.json", NULL, &t), -EINVAL);
    EXPECT_EQ(trpt_outbox_first_try("a!b!1!99999999999999!x.json.gz", NULL, &t),
              -EINVAL);
    EXPECT_EQ(trpt_outbox_first_try(NULL, NULL, &t), -EINVAL);
}

TEST(a_report_without_state_is_unresolved_and_due_at_its_first_try)
{
    trpt_outbox_entry *e = fresh(test_tmpdir());
    int64_t first;

    ASSERT(e != NULL);
    ASSERT(trpt_outbox_first_try(NAME, NULL, &first) == 0);
    EXPECT_EQ(e->resolved, 0);
    EXPECT_EQ(e->first_us, first);
    EXPECT_EQ(trpt_outbox_next_due(e), first);
    EXPECT(!trpt_outbox_finished(e));
    trpt_outbox_entry_free(e);
    trpt_outbox_entry_free(NULL);
}

TEST(state_round_trips_through_the_file_with_errors_cleaned)
{
    const char *dir = test_tmpdir();
    const char *uris[] = {"mailto:tlsrpt@valid.test",
                          "https://reports.valid.test/tlsrpt"};
    trpt_outbox_entry *e = fresh(dir), *back = NULL;
    struct stat st;
    char path[4300];

    ASSERT(e != NULL);
    ASSERT(trpt_outbox_resolve(e, uris, 2, NULL) == 0);
    EXPECT_EQ(trpt_outbox_resolve(e, uris, 2, NULL), -EINVAL); /* once */
    EXPECT_EQ(trpt_outbox_record(e, 0, 1, 0, NULL, e->first_us, NULL), 0);
    EXPECT_EQ(trpt_outbox_record(e, 1, 0, 1, "HTTP 500\nInjected: x\x01",
                                 e->first_us + S, NULL),
              0);
    ASSERT(trpt_outbox_save(dir, e) == 0);
    snprintf(path, sizeof path, "%s/delivery/%s.state", dir, NAME);
    ASSERT(stat(path, &st) == 0);
    EXPECT_EQ(st.st_mode & 0777, 0640);
    ASSERT(trpt_outbox_load(dir, NAME, NULL, &back) == 0);
    EXPECT_EQ(back->resolved, 1);
    EXPECT_EQ(back->first_us, e->first_us);
    ASSERT(back->n_dest == 2);
    EXPECT_STREQ(back->dest[0].uri, uris[0]);
    EXPECT_EQ(back->dest[0].state, TRPT_DEST_SENT);
    EXPECT_EQ(back->dest[0].attempts, 1);
    EXPECT_EQ(back->dest[0].done_us, e->first_us);
    EXPECT(back->dest[0].last_error == NULL);
    EXPECT_STREQ(back->dest[1].uri, uris[1]);
    EXPECT_EQ(back->dest[1].state, TRPT_DEST_PENDING);
    EXPECT_EQ(back->dest[1].next_us, e->dest[1].next_us);
    EXPECT_STREQ(back->dest[1].last_error, "HTTP 500?Injected: x?");
    EXPECT_EQ(trpt_outbox_next_due(back), e->dest[1].next_us);
    trpt_outbox_entry_free(e);
    trpt_outbox_entry_free(back);
}

TEST(a_report_with_no_destination_is_finished_and_says_why)
{
    const char *dir = test_tmpdir();
    trpt_outbox_entry *e = fresh(dir), *back = NULL;

    ASSERT(e != NULL);
    ASSERT(trpt_outbox_resolve(e, NULL, 0, "two TLSRPT records") == 0);
    EXPECT(trpt_outbox_finished(e));
    ASSERT(trpt_outbox_save(dir, e) == 0);
    ASSERT(trpt_outbox_load(dir, NAME, NULL, &back) == 0);
    EXPECT(trpt_outbox_finished(back));
    EXPECT_STREQ(back->no_dest_why, "two TLSRPT records");
    trpt_outbox_entry_free(e);
    trpt_outbox_entry_free(back);
}

TEST(retries_back_off_exponentially_with_jitter_and_give_up_after_a_day)
{
    const char *uris[] = {"https://r.valid.test/"};
    trpt_outbox_entry *e = fresh(test_tmpdir());
    int64_t now, prev_delay = 0;
    unsigned tries = 0;

    ASSERT(e != NULL);
    ASSERT(trpt_outbox_resolve(e, uris, 1, NULL) == 0);
    now = e->first_us;
    while (e->dest[0].state == TRPT_DEST_PENDING && tries < 100) {
        int64_t nominal = 300 * S;

        ASSERT(trpt_outbox_record(e, 0, 0, 1, "timeout", now, NULL) == 0);
        tries++;
        for (unsigned i = 1; i < tries && nominal < 4 * 3600 * S; i++)
            nominal *= 2;
        if (nominal > 4 * 3600 * S)
            nominal = 4 * 3600 * S;
        if (e->dest[0].state != TRPT_DEST_PENDING)
            break;
        int64_t delay = e->dest[0].next_us - now;

        EXPECT(delay >= nominal - nominal / 5 &&
               delay <= nominal + nominal / 5);
        EXPECT(delay >= prev_delay - prev_delay / 2); /* grows, roughly */
        EXPECT(e->dest[0].next_us <= e->first_us + 24 * 3600 * S);
        prev_delay = delay;
        now = e->dest[0].next_us;
    }
    EXPECT_EQ(e->dest[0].state, TRPT_DEST_GIVEN_UP);
    EXPECT(tries >= 8 && tries <= 14); /* ~24 h of 5 min .. 4 h steps */
    EXPECT(trpt_outbox_finished(e));
    EXPECT_EQ(trpt_outbox_record(e, 0, 1, 0, NULL, now, NULL), -EINVAL);
    trpt_outbox_entry_free(e);
}

TEST(a_permanent_failure_gives_up_at_once_others_go_on)
{
    const char *uris[] = {"mailto:a@valid.test", "mailto:b@valid.test"};
    trpt_outbox_entry *e = fresh(test_tmpdir());

    ASSERT(e != NULL);
    ASSERT(trpt_outbox_resolve(e, uris, 2, NULL) == 0);
    EXPECT_EQ(
        trpt_outbox_record(e, 0, 0, 0, "550 no such user", e->first_us, NULL),
        0);
    EXPECT_EQ(e->dest[0].state, TRPT_DEST_GIVEN_UP);
    EXPECT(!trpt_outbox_finished(e));
    EXPECT_EQ(trpt_outbox_next_due(e), e->first_us); /* b still due */
    EXPECT_EQ(trpt_outbox_record(e, 1, 1, 0, NULL, e->first_us, NULL), 0);
    EXPECT(trpt_outbox_finished(e));
    EXPECT_EQ(trpt_outbox_record(e, 2, 1, 0, NULL, 0, NULL), -EINVAL);
    trpt_outbox_entry_free(e);
}

static int parses(const char *text)
{
    trpt_outbox_entry *e = NULL;
    int r = trpt_outbox_parse(NAME, text, strlen(text), &e);

    trpt_outbox_entry_free(e);
    return r;
}

TEST(damaged_state_files_are_refused_not_misread)
{
    char many[8192];
    size_t n;

    EXPECT_EQ(parses(MAGIC "report " NAME "\nfirst 5\nresolved 1\n"
                           "dest sent 1 0 7 mailto:a@valid.test\n"),
              0);
    EXPECT_EQ(parses("opentlsrpt-delivery 2\nreport " NAME "\n"), -EBADMSG);
    EXPECT_EQ(parses(MAGIC "first 5\nresolved 0\n"), -EBADMSG); /* no name */
    EXPECT_EQ(parses(MAGIC "report other!a!1!2!x.json.gz\n"), -EBADMSG);
    EXPECT_EQ(parses(MAGIC "report " NAME "\nfirst 5"), -EBADMSG); /* cut */
    EXPECT_EQ(parses(MAGIC "report " NAME "\nfirst x\n"), -EBADMSG);
    EXPECT_EQ(parses(MAGIC "report " NAME "\nbogus 1\n"), -EBADMSG);
    EXPECT_EQ(parses(MAGIC "report " NAME "\nresolved 1\n"), -EBADMSG);
    EXPECT_EQ(parses(MAGIC "report " NAME "\nresolved 0\n"
                           "dest sent 1 0 7 mailto:a@valid.test\n"),
              -EBADMSG);
    EXPECT_EQ(parses(MAGIC "report " NAME "\nresolved 1\n"
                           "dest maybe 1 0 7 mailto:a@valid.test\n"),
              -EBADMSG);
    EXPECT_EQ(parses(MAGIC "report " NAME "\nresolved 1\n"
                           "dest sent 1 0 7 mailto:a b@valid.test\n"),
              -EBADMSG);
    EXPECT_EQ(parses(MAGIC "report " NAME "\nresolved 1\n"
                           "dest sent -1 0 7 mailto:a@valid.test\n"),
              -EBADMSG);
    EXPECT_EQ(parses(MAGIC "report " NAME "\nresolved 1\n"
                           "dest sent 1 0 7 mailto:a@valid.test\n"
                           "error 1 out of range\n"),
              -EBADMSG);
    n = (size_t)snprintf(many, sizeof many,
                         MAGIC "report " NAME "\nresolved 1\n");
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(many + n, sizeof many - n,
                              "dest pending 0 0 0 https://r%d.test/\n", i);
    EXPECT_EQ(parses(many), -EBADMSG);
    {
        const char nul[] = MAGIC "report " NAME "\n\0resolved 0\n";
        trpt_outbox_entry *e = NULL;

        EXPECT_EQ(trpt_outbox_parse(NAME, nul, sizeof nul - 1, &e), -EBADMSG);
        EXPECT(e == NULL);
    }
}

TEST(listing_shows_only_report_files)
{
    const char *dir = test_tmpdir();
    char path[4300], **names = NULL;
    const char *files[] = {"b!d!1!2!x.json.gz", "a!d!1!2!x.json.gz",
                           ".a!d!1!2!x.json.gz.1.tmp", "notes.txt",
                           "c!d!1!2!x.json"};
    FILE *f;

    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        ASSERT((f = fopen(path, "w")) != NULL);
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/d!d!1!2!x.json.gz", dir);
    ASSERT(mkdir(path, 0700) == 0); /* a directory is not a report */
    snprintf(path, sizeof path, "%s/e!d!1!2!x.json.gz", dir);
    ASSERT(symlink("/etc/passwd", path) == 0); /* nor a symlink */
    ASSERT(trpt_outbox_reports(dir, &names) == 0);
    ASSERT(names[0] && names[1]);
    EXPECT_STREQ(names[0], "a!d!1!2!x.json.gz");
    EXPECT_STREQ(names[1], "b!d!1!2!x.json.gz");
    EXPECT(names[2] == NULL);
    trpt_outbox_reports_free(names);
    EXPECT(trpt_outbox_reports("/nonexistent/outbox", &names) < 0);
}

TEST(a_symlinked_state_file_is_not_followed)
{
    const char *dir = test_tmpdir();
    trpt_outbox_entry *e = NULL;
    char path[4300];

    snprintf(path, sizeof path, "%s/delivery", dir);
    ASSERT(mkdir(path, 0750) == 0);
    snprintf(path, sizeof path, "%s/delivery/%s.state", dir, NAME);
    ASSERT(symlink("/etc/passwd", path) == 0);
    EXPECT_EQ(trpt_outbox_load(dir, NAME, NULL, &e), -ELOOP);
    EXPECT(e == NULL);
}

/* Saves alternate between two states; a kill -9 at any moment must leave
 * one of them, whole. */
TEST(kill_9_during_saves_leaves_a_whole_old_or_new_state)
{
    const char *dir = test_tmpdir();
    const char *one[] = {"mailto:a@valid.test"};

    for (int round = 0; round < 20; round++) {
        trpt_outbox_entry *back = NULL;
        int status;
        pid_t pid = fork();

        ASSERT(pid >= 0);
        if (pid == 0) {
            trpt_outbox_entry *e = fresh(dir);

            if (!e ||
                (!e->resolved && trpt_outbox_resolve(e, one, 1, NULL) < 0))
                _exit(1);
            for (unsigned i = 0;; i++) {
                e->dest[0].attempts = i;
                if (trpt_outbox_save(dir, e) < 0)
                    _exit(2);
            }
        }
        usleep(2000 + (useconds_t)(round * 700));
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        EXPECT(WIFSIGNALED(status));
        /* The first save may not have happened yet: then no state. */
        if (trpt_outbox_load(dir, NAME, NULL, &back) == 0)
            EXPECT(!back->resolved || (back->n_dest == 1 &&
                                       strcmp(back->dest[0].uri, one[0]) == 0));
        else
            EXPECT(!"state unreadable after kill -9");
        trpt_outbox_entry_free(back);
    }
}
