/*
 * maptab.h - data-driven mapping tables: MTA log text -> RFC 8460 result.
 *
 * Every row says which message text it matches, the result and failure
 * reason code it gives, and the real corpus line it was taken from, so a
 * reader can check each mapping against evidence. Tables:
 *   trpt_maptab_postfix_verify[]  (maptab_postfix.c) certificate verification
 *                                  failure reasons after "verification failed
 *                                  for HOST[IP]:PORT: "
 *   trpt_maptab_exim[]             (maptab_exim.c) Exim error texts
 * Each table ends with a row whose match is NULL.
 *
 * trpt_maptab_lookup()  first row whose match occurs in text (substring if
 *                       row->prefix is 0, else prefix), or NULL
 */
#ifndef TRPT_MAPTAB_H
#define TRPT_MAPTAB_H

#include <stddef.h>

#include "result.h"

typedef struct trpt_maprow {
    const char *match; /* text to find; NULL ends the table */
    int prefix;        /* 1: text must start with match */
    trpt_result result;
    const char *reason;       /* failure-reason-code, NULL for none */
    trpt_policy_type implies; /* policy type the line proves, or UNKNOWN */
    const char *example;      /* the corpus line this row came from */
} trpt_maprow;

extern const trpt_maprow trpt_maptab_postfix_verify[];
extern const trpt_maprow trpt_maptab_exim[];

const trpt_maprow *trpt_maptab_lookup(const trpt_maprow *table,
                                      const char *text, size_t len);

#endif
