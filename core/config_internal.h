/*
 * config_internal.h - what the configuration parser's files share
 * (config.c: the file and the core settings; config_delivery.c: the
 * delivery settings). Not for use outside core/config*.c.
 */
#ifndef TRPT_CONFIG_INTERNAL_H
#define TRPT_CONFIG_INTERNAL_H

#include <stddef.h>

#include "config.h"

typedef struct trpt_cfg_reader {
    const char *path;
    unsigned line;
    char *err;
    size_t errlen;
} trpt_cfg_reader;

/* Writes "FILE:LINE: message" into the reader's buffer; returns -EINVAL. */
int trpt_cfg_error(trpt_cfg_reader *rd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int trpt_cfg_replace(char **field, const char *value);
int trpt_cfg_normalize_domain(const char *in, int allow_wildcard, char *out,
                              size_t outlen);
int trpt_cfg_text_clean(const char *s);
int trpt_cfg_set_text(trpt_cfg_reader *rd, char **field, const char *value);
int trpt_cfg_set_domain(trpt_cfg_reader *rd, char **field, const char *value);
int trpt_cfg_set_unsigned(trpt_cfg_reader *rd, unsigned *field,
                          const char *value, unsigned long min,
                          unsigned long max);

/* config_delivery.c */
void trpt_cfg_delivery_defaults(trpt_delivery_config *d);
/* -ENOENT when name is not a delivery setting. */
int trpt_cfg_delivery_setting(trpt_cfg_reader *rd, trpt_config *c,
                              const char *name, char *value);
/* Fills what derives from submitter_domain; adds report_from to the
 * excluded senders. */
int trpt_cfg_delivery_derive(trpt_config *c);
void trpt_cfg_delivery_free(trpt_delivery_config *d);

#endif
