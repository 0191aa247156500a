/*
 * record.h - the normalized record: one TLS session outcome.
 *
 * This struct is the contract between every part of opentlsrpt: parsers and
 * edges produce it, sinks (spool, later Kafka) carry its JSON form, the
 * aggregator folds it. docs/record-format.md is the normative description of
 * the JSON form (version 1).
 *
 * Ownership: a trpt_record owns every string and string vector it points to.
 * trpt_record_init()    all fields empty (policy UNKNOWN, result SUCCESS)
 * trpt_record_clear()   free owned memory and re-init (reusable)
 * trpt_record_free()    same as clear; for symmetry with heap owners
 * trpt_record_set()     replace one owned string field with a copy (NULL ok)
 * trpt_strv_push()      append a copy of a string to a vector
 * trpt_record_copy()    deep copy
 * trpt_record_validate() check the invariants a record must satisfy to be
 *                       written (version, time, domain syntax, event id)
 * trpt_record_to_json() append the compact one-line JSON form (no newline)
 * trpt_record_from_json() parse one JSON object into a cleared record;
 *                       unknown keys are ignored (forward compatible),
 *                       a newer major version is refused with -EPROTO.
 *
 * Decoding reuses the target's allocations: pass a record that went
 * through trpt_record_init() (or an earlier decode); on error it is left
 * cleared. trpt_record_copy() needs no initialised destination and does
 * not free its old contents.
 *
 * Privacy: no field may hold an e-mail address, local part or message
 * content; trpt_record_validate() rejects any string containing '@',
 * except tlsrpt-record, whose "rua=mailto:" address is public DNS data.
 * Control characters are refused in every field (edges reduce a multi-line
 * EHLO reply to its announced host name).
 * All functions return 0 or a negative errno.
 */
#ifndef TRPT_RECORD_H
#define TRPT_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "result.h"

#define TRPT_RECORD_VERSION 1

typedef struct trpt_strv {
    char **v;
    size_t n;
} trpt_strv;

typedef struct trpt_record {
    int version;          /* "v": TRPT_RECORD_VERSION */
    int64_t time_us;      /* "time": event time, UTC, microseconds */
    char *event_id;       /* "id": "<source>:<offset>.<sub>", see doc */
    char *reporting_host; /* "host": the MTA host that logged the event */
    char *mta;            /* "mta": "postfix", "exim", ... */
    char *policy_domain;  /* "policy-domain": lower-case A-label, no dot */
    trpt_policy_type policy_type; /* "policy-type"; UNKNOWN = absent */
    trpt_strv policy_strings;     /* "policy-string" */
    trpt_strv mx_hosts;           /* "mx-host" */
    char *tlsrpt_record;          /* "tlsrpt-record": TXT text as seen */
    trpt_result result;           /* "result" */
    char *sending_mta_ip;         /* "sending-mta-ip" */
    char *receiving_mx_hostname;  /* "receiving-mx-hostname" */
    char *receiving_ip;           /* "receiving-ip" */
    char *receiving_mx_helo;      /* "receiving-mx-helo" */
    char *failure_reason_code;    /* "failure-reason-code" */
    char *additional_information; /* "additional-information" */
    char *queue_id;               /* "queue-id": MTA queue id, for exclusions */
} trpt_record;

void trpt_strv_free(trpt_strv *sv);
int trpt_strv_push(trpt_strv *sv, const char *s);

void trpt_record_init(trpt_record *r);
void trpt_record_clear(trpt_record *r);
void trpt_record_free(trpt_record *r);
int trpt_record_set(char **field, const char *value);
int trpt_record_copy(trpt_record *dst, const trpt_record *src);
int trpt_record_validate(const trpt_record *r);

int trpt_record_to_json(const trpt_record *r, trpt_buf *out);
/* The same output for a record trpt_record_validate() has accepted and that
 * has not changed since (every record a trpt_parser emits): no check is
 * repeated. Undefined for any other record. */
int trpt_record_to_json_valid(const trpt_record *r, trpt_buf *out);
int trpt_record_from_json(trpt_record *r, const char *json, size_t len);

/* Event id helpers: "<source>:<offset>.<sub>". */
int trpt_event_id_format(char *out, size_t outlen, const char *source,
                         uint64_t offset, unsigned sub);
/* Splits an event id; *source points into id, *source_len is its length. */
int trpt_event_id_parse(const char *id, const char **source, size_t *source_len,
                        uint64_t *offset, unsigned *sub);

#endif
