/*
 * frame.h - template lines reframed for the parser.
 *
 * core/logline.c reads "TIME HOST prog[pid]: MSG". rsyslog renders a
 * message in that form with its file templates only when the message came
 * in as RFC 3164; for RFC 5424 input (a relay, logger over the network) it
 * emulates the tag as "APP[PROCID]", without the colon. So:
 *  - a line starting with an RFC 3339 time whose third field (the tag)
 *    lacks the closing colon gets it back (RSYSLOG_FileFormat, the
 *    default template);
 *  - a line in RFC 5424 form, "<PRI>1 TIME HOST APP PROCID MSGID SD MSG"
 *    (RSYSLOG_SyslogProtocol23Format and similar user templates), is
 *    rewritten as "TIME HOST APP[PROCID]: MSG"; the structured data is
 *    dropped (the MTA parsers never look at it) and a leading BOM of MSG
 *    is removed (RFC 5424 section 6.4). Note that rsyslog derives APP of
 *    RFC 3164 input from the program name, which stops at '/' unless
 *    global(parser.permitSlashInProgramName="on"): "postfix/smtp" would
 *    become "postfix", so this form suits relayed RFC 5424 input only.
 * Every other line passes unchanged: the parser frames it or counts it.
 *
 * otr_frame_line()  *line, *len: the line to parse, either the input or
 *                   out's data; returns 0 or -ENOMEM
 */
#ifndef OMTLSRPT_FRAME_H
#define OMTLSRPT_FRAME_H

#include <stddef.h>

#include "buf.h"

int otr_frame_line(const char *in, size_t inlen, trpt_buf *out,
                   const char **line, size_t *len);

#endif
