/* outbox.c - outputs of the open transaction, released after COMMIT
 * (outbox.h). */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void outbox__init(struct outbox *ob, struct influx *ix, struct webhook *wh)
{
    memset(ob, 0, sizeof *ob);
    ob->ix = ix;
    ob->wh = wh;
    lineproto__init(&ob->lp, 4 * 1024 * 1024);
}

void outbox__free(struct outbox *ob)
{
    outbox__drop(ob);
    lineproto__free(&ob->lp);
}

void outbox__count(struct outbox *ob, const char *name, const char *label, int64_t n)
{
    for (size_t i = 0; i < ob->n_counters; i++) {
        struct counter_delta *d = &ob->counters[i];
        if (!strcmp(d->name, name) && !strcmp(d->label, label)) {
            d->delta += n;
            return;
        }
    }
    if (ob->n_counters == COUNTERS_MAX)
        return; /* bounded: labels come from fixed sets */
    struct counter_delta *d = &ob->counters[ob->n_counters++];
    snprintf(d->name, sizeof d->name, "%s", name);
    snprintf(d->label, sizeof d->label, "%s", label);
    d->delta = n;
}

void outbox__hook(struct outbox *ob, char *body)
{
    outbox__hook_kind(ob, "alarm", body);
}

void outbox__hook_kind(struct outbox *ob, const char *kind, char *body)
{
    if (!ob->wh) {
        free(body);
        return;
    }
    if (ob->n_hooks == PENDING_HOOKS_MAX) {
        outbox__count(ob, "webhooks", "dropped", 1);
        free(body);
        return;
    }
    ob->hook_kinds[ob->n_hooks] = kind;
    ob->hooks[ob->n_hooks++] = body;
}

struct lineproto *outbox__lines(struct outbox *ob)
{
    return ob->ix ? &ob->lp : NULL;
}

void outbox__spill_lines(struct outbox *ob)
{
    influx__submit(ob->ix, ob->lp.buf, ob->lp.len);
    lineproto__reset(&ob->lp);
}

void outbox__take_writer_counts(struct outbox *ob)
{
    int64_t w = 0, dr = 0, f = 0, s = 0, wd = 0;
    if (ob->ix) {
        influx__take_counts(ob->ix, &w, &dr, &f);
        if (w)
            outbox__count(ob, "influx", "written", w);
        if (dr)
            outbox__count(ob, "influx", "dropped", dr);
        if (f)
            outbox__count(ob, "influx", "failures", f);
    }
    if (ob->wh) {
        webhook__take_counts(ob->wh, &s, &wd);
        if (s)
            outbox__count(ob, "webhooks", "sent", s);
        if (wd)
            outbox__count(ob, "webhooks", "dropped", wd);
    }
}

void outbox__counters_done(struct outbox *ob)
{
    ob->n_counters = 0;
}

void outbox__send(struct outbox *ob)
{
    if (ob->ix && ob->lp.len) {
        influx__submit(ob->ix, ob->lp.buf, ob->lp.len);
        lineproto__reset(&ob->lp);
    }
    for (size_t i = 0; i < ob->n_hooks; i++) {
        if (ob->wh)
            webhook__submit(ob->wh, ob->hook_kinds[i], ob->hooks[i]);
        free(ob->hooks[i]);
    }
    ob->n_hooks = 0;
}

void outbox__drop(struct outbox *ob)
{
    for (size_t i = 0; i < ob->n_hooks; i++)
        free(ob->hooks[i]);
    ob->n_hooks = 0;
    ob->n_counters = 0;
    lineproto__reset(&ob->lp);
}
