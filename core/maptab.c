/* maptab.c - lookup over the mapping tables; see maptab.h. The rows live in
 * maptab_postfix.c and maptab_exim.c. */
#include "maptab.h"

#include <string.h>

const trpt_maprow *trpt_maptab_lookup(const trpt_maprow *table,
                                      const char *text, size_t len)
{
    for (const trpt_maprow *row = table; row->match; row++) {
        size_t n = strlen(row->match);

        if (n > len)
            continue;
        if (row->prefix) {
            if (memcmp(text, row->match, n) == 0)
                return row;
        } else if (memmem(text, len, row->match, n)) {
            return row;
        }
    }
    return NULL;
}
