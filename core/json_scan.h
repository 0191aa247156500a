/*
 * json_scan.h - which bytes a record's JSON strings hold as they are, and
 * a 16-byte SSE2 test for the others. Shared by the two JSON readers that
 * must be fast: the record decoder (record.c) and the datagram decoder
 * (datagram.c). "Plain" is printable ASCII except '"', '\\' (JSON syntax)
 * and '@' (records refuse addresses); everything else (controls, DEL,
 * non-ASCII) takes the slow path.
 *
 * trpt_json_plain[b]              1 when byte b is plain
 * trpt_json_special_mask16(p)     bit i set when p[i] is not plain (SSE2)
 */
#ifndef TRPT_JSON_SCAN_H
#define TRPT_JSON_SCAN_H

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const unsigned char trpt_json_plain[256] = {
    [' ' ... '!'] = 1, /* then '"' */
    ['#' ... '?'] = 1, /* then '@' */
    ['A' ... '['] = 1, /* then '\\' */
    [']' ... '~'] = 1, /* then DEL and beyond */
};

#ifdef __SSE2__
static inline unsigned trpt_json_special_mask16(const unsigned char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i m = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));

    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('@')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
    /* signed compare: catches 0x00-0x1f and every byte >= 0x80 */
    m = _mm_or_si128(m, _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
    return (unsigned)_mm_movemask_epi8(m);
}
#endif

#endif
