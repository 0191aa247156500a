/*
 * harness.h - a minimal test harness for C unit tests.
 *
 * TEST(name) { ... }     defines and registers a test case; the name says
 *                        what behaviour it proves
 * EXPECT(cond)           records a failure and continues
 * EXPECT_EQ(a, b)        integer equality, prints both values
 * EXPECT_STREQ(a, b)     string equality (NULL-safe)
 * ASSERT(cond)           records a failure and leaves the test case
 * shared_path("x")       path under the read-only ../shared material
 *                        (env TRPT_SHARED overrides)
 * test_tmpdir()          a fresh temporary directory per test case,
 *                        removed afterwards unless TRPT_KEEP_TMP is set
 *
 * Output: one "PASS name" or "FAIL name" line per case (tests/run.sh counts
 * them); exit status 1 if any case failed.
 */
#ifndef TRPT_TEST_HARNESS_H
#define TRPT_TEST_HARNESS_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void (*harness_fn)(void);

static struct harness_case {
    const char *name;
    harness_fn fn;
} harness_cases[512];
static int harness_ncases;
static int harness_failed_now;
static char harness_tmp[4096];

static void harness_register(const char *name, harness_fn fn)
{
    if (harness_ncases < (int)(sizeof harness_cases / sizeof harness_cases[0]))
        harness_cases[harness_ncases++] = (struct harness_case){name, fn};
}

#define TEST(name)                                                             \
    static void name(void);                                                    \
    __attribute__((constructor)) static void harness_reg_##name(void)          \
    {                                                                          \
        harness_register(#name, name);                                         \
    }                                                                          \
    static void name(void)

#define EXPECT(cond)                                                           \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "  %s:%d: expected %s\n", __FILE__, __LINE__,      \
                    #cond);                                                    \
            harness_failed_now = 1;                                            \
        }                                                                      \
    } while (0)

#define ASSERT(cond)                                                           \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "  %s:%d: assertion %s\n", __FILE__, __LINE__,     \
                    #cond);                                                    \
            harness_failed_now = 1;                                            \
            return;                                                            \
        }                                                                      \
    } while (0)

#define EXPECT_EQ(a, b)                                                        \
    do {                                                                       \
        long long harness_a = (long long)(a), harness_b = (long long)(b);      \
        if (harness_a != harness_b) {                                          \
            fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n",      \
                    __FILE__, __LINE__, #a, harness_a, #b, harness_b);         \
            harness_failed_now = 1;                                            \
        }                                                                      \
    } while (0)

#define EXPECT_STREQ(a, b)                                                     \
    do {                                                                       \
        const char *harness_sa = (a), *harness_sb = (b);                       \
        if (!harness_sa || !harness_sb ? harness_sa != harness_sb              \
                                       : strcmp(harness_sa, harness_sb)) {     \
            fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n",        \
                    __FILE__, __LINE__, #a,                                    \
                    harness_sa ? harness_sa : "(null)",                        \
                    harness_sb ? harness_sb : "(null)");                       \
            harness_failed_now = 1;                                            \
        }                                                                      \
    } while (0)

static inline const char *shared_path(const char *rel)
{
    static char buf[4096];
    const char *base = getenv("TRPT_SHARED");

    snprintf(buf, sizeof buf, "%s/%s", base ? base : "../shared", rel);
    return buf;
}

static inline const char *test_tmpdir(void)
{
    if (!harness_tmp[0]) {
        snprintf(harness_tmp, sizeof harness_tmp, "%s/trpt-test-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(harness_tmp)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    return harness_tmp;
}

static void harness_cleanup_tmp(void)
{
    char cmd[4200];

    if (harness_tmp[0] && !getenv("TRPT_KEEP_TMP")) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", harness_tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "  could not remove %s\n", harness_tmp);
    }
    harness_tmp[0] = '\0';
}

int main(int argc, char **argv)
{
    int failed = 0;
    const char *only = argc > 1 ? argv[1] : NULL;

    for (int i = 0; i < harness_ncases; i++) {
        if (only && strcmp(only, harness_cases[i].name) != 0)
            continue;
        harness_failed_now = 0;
        harness_cases[i].fn();
        harness_cleanup_tmp();
        printf("%s %s\n", harness_failed_now ? "FAIL" : "PASS",
               harness_cases[i].name);
        fflush(stdout);
        failed |= harness_failed_now;
    }
    return failed;
}

#endif
