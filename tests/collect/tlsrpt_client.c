/* tlsrpt_client.c - sends TLSRPT deliveries through the real libtlsrpt
 * (Debian 13's libtlsrpt0), the way Postfix does, for
 * test_libtlsrpt_client.sh. Built there against the unpacked packages;
 * not part of the normal build.
 *
 *   tlsrpt_client SOCKET ROUNDS
 *
 * Each round sends five delivery requests: a success without policy, an
 * STS failure with policy strings and an MX pattern, a DANE failure under
 * the MX host's policy domain, a failure with additional information, and
 * one request with two policies. The library is switched to blocking
 * sends so that the test loses nothing (Postfix uses its non-blocking
 * default). Exit status 0 if every call succeeded. */
#include <stdio.h>
#include <stdlib.h>

#include <tlsrpt.h>

#define EHLO "250-mx.%s\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 STARTTLS"

static int check(int r, const char *what)
{
    if (r != 0)
        fprintf(stderr, "tlsrpt_client: %s: %d %s\n", what, r,
                tlsrpt_strerror(r));
    return r;
}

static int success_without_policy(struct tlsrpt_connection_t *con)
{
    struct tlsrpt_dr_t *dr;
    int r = check(tlsrpt_init_delivery_request(
                      &dr, con, "c1.test", "v=TLSRPTv1; rua=mailto:r@c1.test"),
                  "init c1");

    r = r ? r : tlsrpt_init_policy(dr, TLSRPT_NO_POLICY_FOUND, "c1.test");
    r = r ? r : tlsrpt_finish_policy(dr, TLSRPT_FINAL_SUCCESS);
    if (r)
        return check(tlsrpt_cancel_delivery_request(&dr), "c1");
    return check(tlsrpt_finish_delivery_request(&dr), "finish c1");
}

static int sts_failure(struct tlsrpt_connection_t *con)
{
    struct tlsrpt_dr_t *dr;
    char ehlo[256];
    int r;

    snprintf(ehlo, sizeof ehlo, EHLO, "c2.test");
    r = check(tlsrpt_init_delivery_request(&dr, con, "c2.test",
                                           "v=TLSRPTv1;rua=mailto:r@c2.test"),
              "init c2");
    r = r ? r : tlsrpt_init_policy(dr, TLSRPT_POLICY_STS, "c2.test");
    r = r ? r : tlsrpt_add_policy_string(dr, "version: STSv1");
    r = r ? r : tlsrpt_add_policy_string(dr, "mode: enforce");
    r = r ? r : tlsrpt_add_policy_string(dr, "mx: *.c2.test");
    r = r ? r : tlsrpt_add_policy_string(dr, "max_age: 604800");
    r = r ? r : tlsrpt_add_mx_host_pattern(dr, "*.c2.test");
    r = r ? r
          : tlsrpt_add_delivery_request_failure(
                dr, TLSRPT_CERTIFICATE_HOST_MISMATCH, "192.0.2.25",
                "mx.c2.test", ehlo, "198.51.100.2", NULL, "hostname_mismatch");
    r = r ? r : tlsrpt_finish_policy(dr, TLSRPT_FINAL_FAILURE);
    if (r)
        return check(tlsrpt_cancel_delivery_request(&dr), "c2");
    return check(tlsrpt_finish_delivery_request(&dr), "finish c2");
}

static int dane_failure(struct tlsrpt_connection_t *con)
{
    struct tlsrpt_dr_t *dr;
    int r = check(tlsrpt_init_delivery_request(
                      &dr, con, "c3.test", "v=TLSRPTv1; rua=mailto:r@c3.test"),
                  "init c3");

    r = r ? r : tlsrpt_init_policy(dr, TLSRPT_POLICY_TLSA, "mx.c3.test");
    r = r ? r : tlsrpt_add_policy_string(dr, "3 1 1 00FF");
    r = r ? r
          : tlsrpt_add_delivery_request_failure(
                dr, TLSRPT_TLSA_INVALID, "192.0.2.25", "mx.c3.test", NULL,
                "198.51.100.3", NULL, "all-TLSA-records-unusable");
    r = r ? r : tlsrpt_finish_policy(dr, TLSRPT_FINAL_FAILURE);
    if (r)
        return check(tlsrpt_cancel_delivery_request(&dr), "c3");
    return check(tlsrpt_finish_delivery_request(&dr), "finish c3");
}

static int failure_with_information(struct tlsrpt_connection_t *con)
{
    struct tlsrpt_dr_t *dr;
    char ehlo[256];
    int r;

    snprintf(ehlo, sizeof ehlo, EHLO, "c4.test");
    r = check(tlsrpt_init_delivery_request(&dr, con, "C4.Test",
                                           "v=TLSRPTv1; rua=mailto:r@c4.test"),
              "init c4");
    r = r ? r : tlsrpt_init_policy(dr, TLSRPT_NO_POLICY_FOUND, NULL);
    r = r ? r
          : tlsrpt_add_delivery_request_failure(
                dr, TLSRPT_STARTTLS_NOT_SUPPORTED, "192.0.2.25", "mx.c4.test",
                ehlo, "198.51.100.4", "https://c4.test/tls", NULL);
    r = r ? r : tlsrpt_finish_policy(dr, TLSRPT_FINAL_FAILURE);
    if (r)
        return check(tlsrpt_cancel_delivery_request(&dr), "c4");
    return check(tlsrpt_finish_delivery_request(&dr), "finish c4");
}

static int two_policies(struct tlsrpt_connection_t *con)
{
    struct tlsrpt_dr_t *dr;
    int r = check(tlsrpt_init_delivery_request(
                      &dr, con, "c5.test", "v=TLSRPTv1; rua=mailto:r@c5.test"),
                  "init c5");

    r = r ? r : tlsrpt_init_policy(dr, TLSRPT_POLICY_TLSA, "mx.c5.test");
    r = r ? r : tlsrpt_add_policy_string(dr, "3 1 1 ABCDEF");
    r = r ? r : tlsrpt_finish_policy(dr, TLSRPT_FINAL_SUCCESS);
    r = r ? r : tlsrpt_init_policy(dr, TLSRPT_POLICY_STS, "c5.test");
    r = r ? r : tlsrpt_add_mx_host_pattern(dr, "mx.c5.test");
    r = r ? r
          : tlsrpt_add_delivery_request_failure(
                dr, TLSRPT_STS_POLICY_FETCH_ERROR, "192.0.2.25", NULL, NULL,
                NULL, NULL, NULL);
    r = r ? r : tlsrpt_finish_policy(dr, TLSRPT_FINAL_FAILURE);
    if (r)
        return check(tlsrpt_cancel_delivery_request(&dr), "c5");
    return check(tlsrpt_finish_delivery_request(&dr), "finish c5");
}

int main(int argc, char **argv)
{
    struct tlsrpt_connection_t *con;
    int rounds, r = 0;

    if (argc != 3 || (rounds = atoi(argv[2])) < 1 || rounds > 100000) {
        fprintf(stderr, "usage: tlsrpt_client SOCKET ROUNDS\n");
        return 2;
    }
    if (check(tlsrpt_open(&con, argv[1]), "tlsrpt_open"))
        return 1;
    tlsrpt_set_blocking();
    for (int i = 0; i < rounds && r == 0; i++) {
        r = success_without_policy(con);
        r = r ? r : sts_failure(con);
        r = r ? r : dane_failure(con);
        r = r ? r : failure_with_information(con);
        r = r ? r : two_policies(con);
    }
    check(tlsrpt_close(&con), "tlsrpt_close");
    return r ? 1 : 0;
}
