/*
 * cpu.h - run-time CPU feature checks for the few hot loops that have a
 * SIMD variant (line scanning, framing). The answer is computed once; a
 * race between threads is benign (each computes the same value).
 *
 * trpt_cpu_has_avx2()  1 if AVX2 may be used, else 0 (always 0 off x86-64)
 */
#ifndef TRPT_CPU_H
#define TRPT_CPU_H

int trpt_cpu_has_avx2(void);

#endif
