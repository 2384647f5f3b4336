#include "ot_buf.h"

#include <stdlib.h>
#include <string.h>

void ot_buf_add(struct ot_buf *b, const void *d, size_t n)
{
    if (b->failed)
        return;
    if (n >= b->max - b->n) { /* n + NUL would pass the cap */
        b->failed = 1;
        return;
    }
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        while (cap < b->n + n + 1)
            cap *= 2;
        if (cap > b->max)
            cap = b->max;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void ot_buf_str(struct ot_buf *b, const char *s)
{
    ot_buf_add(b, s, strlen(s));
}
