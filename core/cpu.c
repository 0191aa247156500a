/* cpu.c - run-time CPU feature checks; see cpu.h. */
#include "cpu.h"

int trpt_cpu_has_avx2(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    static int have = -1;

    if (have < 0)
        have = __builtin_cpu_supports("avx2");
    return have;
#else
    return 0;
#endif
}
