/* ot_buf.h - a growable byte buffer with a hard size cap (curl's dynbuf
 * idea). An append that would pass the cap, or that runs out of memory,
 * sets `failed` and every later append is ignored, so a builder appends
 * freely and checks once at the end. Content is kept NUL-terminated. The
 * caller owns `p` (free() it, or take it and set p = NULL). */
#ifndef OT_BUF_H
#define OT_BUF_H

#include <stddef.h>

struct ot_buf {
    char *p;
    size_t n, cap;
    size_t max; /* cap on the allocation, terminating NUL included */
    int failed;
};

#define OT_BUF_INIT(max_bytes)                                                                     \
    {                                                                                              \
        NULL, 0, 0, (max_bytes), 0                                                                 \
    }

void ot_buf_add(struct ot_buf *b, const void *d, size_t n);
void ot_buf_str(struct ot_buf *b, const char *s);

#endif
