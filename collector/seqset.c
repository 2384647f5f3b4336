/* seqset.c - the set of seqs a container has delivered above its ack.
 *
 * A sorted array of disjoint, non-adjacent inclusive ranges. Adding a range
 * merges it with every range it overlaps or touches, so the array stays
 * canonical and small: under normal delivery it holds nothing (each seq is
 * absorbed by the ack at once); each hole in delivery (a gap) costs one
 * entry. The ack advances while the lowest range starts at or below ack+1;
 * by construction it then covers exactly the seqs that are stored or
 * declared lost, never one that is missing. */
#include "collector.h"

#include <stdlib.h>
#include <string.h>

enum ot_err seqset__add(struct seqset *s, int64_t from, int64_t to)
{
    size_t i = 0;
    if (from > to)
        return OT_ERR_INVAL;
    while (i < s->n && s->r[i].to + 1 < from)
        i++;
    if (i < s->n && s->r[i].from <= to + 1) {
        /* overlaps or touches range i: widen it, swallow the ones it reaches */
        if (from < s->r[i].from)
            s->r[i].from = from;
        if (to > s->r[i].to)
            s->r[i].to = to;
        size_t j = i + 1;
        while (j < s->n && s->r[j].from <= s->r[i].to + 1) {
            if (s->r[j].to > s->r[i].to)
                s->r[i].to = s->r[j].to;
            j++;
        }
        if (j > i + 1) {
            memmove(&s->r[i + 1], &s->r[j], (s->n - j) * sizeof *s->r);
            s->n -= j - (i + 1);
        }
        return OT_OK;
    }
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 8;
        struct ot_seq_range *nr = realloc(s->r, ncap * sizeof *nr);
        if (!nr)
            return OT_ERR_NOMEM;
        s->r = nr;
        s->cap = ncap;
    }
    if (i < s->n)
        memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof *s->r);
    s->r[i].from = from;
    s->r[i].to = to;
    s->n++;
    return OT_OK;
}

/* removes the first k ranges */
static void drop_front(struct seqset *s, size_t k)
{
    if (!k)
        return;
    memmove(&s->r[0], &s->r[k], (s->n - k) * sizeof *s->r);
    s->n -= k;
}

int seqset__advance(struct seqset *s, int64_t *ack)
{
    size_t k = 0;
    int64_t a = *ack;
    while (k < s->n && s->r[k].from <= a + 1) {
        if (s->r[k].to > a)
            a = s->r[k].to;
        k++;
    }
    drop_front(s, k);
    int moved = a != *ack;
    *ack = a;
    return moved;
}

void seqset__drop_upto(struct seqset *s, int64_t ack)
{
    size_t k = 0;
    while (k < s->n && s->r[k].to <= ack)
        k++;
    drop_front(s, k);
    if (s->n && s->r[0].from <= ack)
        s->r[0].from = ack + 1;
}

void seqset__clear(struct seqset *s)
{
    s->n = 0;
}

void seqset__free(struct seqset *s)
{
    free(s->r);
    s->r = NULL;
    s->n = s->cap = 0;
}
