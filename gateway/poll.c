/* poll.c - one thread per device, cycles driven by the main loop.
 *
 * Every poll_interval_ms the main loop calls poll__trigger(): each idle
 * device thread reads its device once for that cycle and hands back its
 * values. The main loop collects the cycle when every device has answered
 * or when the cycle's deadline passes, whichever is first; a device that is
 * still busy (slow, dead, timing out) simply contributes nothing to that
 * reading, so one failing device never stalls or drops the others. Values
 * are only ever those read in the cycle itself: a channel not read is
 * absent, and a canonical one is listed in "missing" (never the last good
 * value). A device in reconnect backoff answers at once with nothing. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "ot_log.h"
#include "ot_time.h"

struct dev_slot {
    struct gw_poller *p;
    struct gw_device dev;
    pthread_t thr;
    int started;
    /* under p->mu */
    uint64_t done_cycle;
    struct gw_dev_result res;
    struct gw_health health;
    /* stuck-value detection (device thread only) */
    double last_val[OT_PROFILE_MAX_CHANNELS];
    int64_t changed_mono[OT_PROFILE_MAX_CHANNELS];
};

struct gw_poller {
    const struct gw_config *cfg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t cycle;
    int stop;
    int health_changed;
    size_t n;
    struct dev_slot *slot;
    uint32_t configured; /* canonical channels some device provides */
    int64_t range_warn_mono;
};

static void health_update(struct dev_slot *s, const struct gw_dev_result *r)
{
    struct gw_health *h = &s->health;
    int64_t now = ot_time_now_ms();
    if (!r->failed) {
        if (!h->ok) {
            ot_info("device ok device=%s after_errors=%" PRId64, s->dev.conf->name, h->errors);
            h->ok = 1;
            h->since_ms = now;
            s->p->health_changed = 1;
        }
        h->errors = 0;
        return;
    }
    if (r->skipped)
        return; /* in backoff: the last error stands */
    h->errors++;
    h->total_errors++;
    if (r->error[0])
        snprintf(h->error, sizeof h->error, "%s", r->error);
    if (h->ok || h->since_ms == 0) {
        ot_warn("device failing device=%s error=\"%s\"", s->dev.conf->name, h->error);
        h->ok = 0;
        h->since_ms = now;
        s->p->health_changed = 1;
    }
}

/* A value that never moves is reported, never hidden: the reading still
 * carries it (it was read), the device health lists the channel as stuck. */
static uint32_t stuck_update(struct dev_slot *s, const struct gw_dev_result *r)
{
    const struct gw_device_conf *dc = s->dev.conf;
    int64_t now = ot_time_mono_ms(), lim = dc->stuck_after_s * 1000;
    uint32_t mask = s->health.stuck; /* read without the lock: only this thread writes it */
    for (size_t k = 0; k < dc->profile.n; k++) {
        if (!r->ok[k])
            continue;
        if (s->changed_mono[k] == 0 || r->val[k] != s->last_val[k]) {
            s->last_val[k] = r->val[k];
            s->changed_mono[k] = now;
            mask &= ~(1u << k);
        } else if (lim > 0 && now - s->changed_mono[k] >= lim) {
            mask |= 1u << k;
        }
    }
    return mask;
}

static void *dev_thread(void *arg)
{
    struct dev_slot *s = arg;
    struct gw_poller *p = s->p;
    struct gw_dev_result res;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && s->done_cycle == p->cycle)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop)
            break;
        uint64_t cycle = p->cycle;
        pthread_mutex_unlock(&p->mu);
        device__poll(&s->dev, &res);
        uint32_t stuck = stuck_update(s, &res);
        pthread_mutex_lock(&p->mu);
        if (stuck != s->health.stuck) {
            for (size_t k = 0; k < s->dev.conf->profile.n; k++)
                if (((stuck ^ s->health.stuck) >> k) & 1u)
                    ot_warn("channel %s device=%s channel=%s",
                            ((stuck >> k) & 1u) ? "stuck" : "moving again", s->dev.conf->name,
                            s->dev.conf->out_name[k]);
            s->health.stuck = stuck;
            p->health_changed = 1;
        }
        s->res = res;
        s->done_cycle = cycle;
        health_update(s, &res);
        wake__signal();
    }
    pthread_mutex_unlock(&p->mu);
    device__close(&s->dev);
    return NULL;
}

enum ot_err poll__start(struct gw_poller **out, const struct gw_config *cfg)
{
    struct gw_poller *p = calloc(1, sizeof *p);
    *out = NULL;
    if (!p)
        return OT_ERR_NOMEM;
    p->cfg = cfg;
    p->n = cfg->n_dev;
    p->slot = calloc(p->n, sizeof *p->slot);
    if (!p->slot) {
        free(p);
        return OT_ERR_NOMEM;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (size_t i = 0; i < p->n; i++) {
        struct dev_slot *s = &p->slot[i];
        s->p = p;
        device__init(&s->dev, &cfg->dev[i]);
        s->health.ok = 0;
        snprintf(s->health.error, sizeof s->health.error, "not polled yet");
        for (size_t k = 0; k < cfg->dev[i].profile.n; k++) {
            if (cfg->dev[i].profile.ch[k].output != OT_OUT_NONE)
                continue;
            int ch = ot_channel_find(cfg->dev[i].out_name[k]);
            if (ch >= 0)
                p->configured |= 1u << ch;
        }
    }
    for (size_t i = 0; i < p->n; i++) {
        if (pthread_create(&p->slot[i].thr, NULL, dev_thread, &p->slot[i])) {
            ot_error("poll thread create failed device=%s", cfg->dev[i].name);
            poll__stop(p);
            return OT_ERR_NOMEM;
        }
        p->slot[i].started = 1;
    }
    *out = p;
    return OT_OK;
}

void poll__stop(struct gw_poller *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    /* a thread inside a Modbus request returns within its timeout */
    for (size_t i = 0; i < p->n; i++)
        if (p->slot[i].started)
            pthread_join(p->slot[i].thr, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->slot);
    free(p);
}

uint64_t poll__trigger(struct gw_poller *p)
{
    pthread_mutex_lock(&p->mu);
    uint64_t c = ++p->cycle;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return c;
}

int poll__all_done(struct gw_poller *p, uint64_t cycle)
{
    int all = 1;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->n; i++)
        all &= p->slot[i].done_cycle == cycle;
    pthread_mutex_unlock(&p->mu);
    return all;
}

/* Rounds a decoded value to the resolution its register can express, so a
 * raw 421 x 0.01 is published as 4.21 and not 4.2100000000000009. */
static double tidy(const struct ot_profile_channel *c, double v)
{
    char buf[64];
    int dec;
    if (c->type == OT_T_F32)
        snprintf(buf, sizeof buf, "%.7g", v);
    else {
        double s = fabs(c->scale);
        dec = s >= 1.0 ? 0 : (int)ceil(-log10(s) - 1e-9);
        double o = fabs(c->offset - trunc(c->offset));
        if (o > 0.0) {
            int od = (int)ceil(-log10(o) - 1e-9);
            if (od > dec)
                dec = od;
        }
        if (dec > 12)
            dec = 12;
        snprintf(buf, sizeof buf, "%.*f", dec, v);
    }
    return strtod(buf, NULL);
}

static int canonical_ok(int ch, double v)
{
    const struct ot_channel_info *ci = &ot_channels[ch];
    if (!isfinite(v) || v < ci->min || v > ci->max)
        return 0;
    if (ci->is_int && v != floor(v))
        return 0;
    return 1;
}

void poll__collect(struct gw_poller *p, uint64_t cycle, struct ot_reading *r)
{
    int64_t now = ot_time_mono_ms();
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->n; i++) {
        struct dev_slot *s = &p->slot[i];
        if (s->done_cycle != cycle)
            continue; /* still busy: nothing from it in this reading */
        const struct gw_device_conf *dc = s->dev.conf;
        for (size_t k = 0; k < dc->profile.n; k++) {
            if (!s->res.ok[k])
                continue;
            const struct ot_profile_channel *c = &dc->profile.ch[k];
            double v = tidy(c, s->res.val[k]);
            int ch = ot_channel_find(dc->out_name[k]);
            if (ch >= 0) {
                if (ot_channels[ch].is_bool)
                    v = v != 0.0;
                if (!canonical_ok(ch, v)) {
                    if (now - p->range_warn_mono > 10000) {
                        ot_warn("value out of range, not published device=%s channel=%s "
                                "value=%g",
                                dc->name, dc->out_name[k], v);
                        p->range_warn_mono = now;
                    }
                    continue;
                }
                ot_reading_set(r, (enum ot_channel)ch, v);
            } else if (r->n_extra < OT_EXTRA_MAX && isfinite(v)) {
                struct ot_extra *e = &r->extra[r->n_extra++];
                snprintf(e->name, sizeof e->name, "%s", dc->out_name[k]);
                e->value = v;
                e->is_bool = c->type == OT_T_BOOL;
            }
        }
    }
    /* the cycle is closed: a late answer belongs to no reading */
    for (size_t i = 0; i < p->n; i++)
        if (p->slot[i].done_cycle != cycle && p->slot[i].health.ok) {
            /* a device that missed its cycle is not healthy right now */
            struct dev_slot *s = &p->slot[i];
            s->health.ok = 0;
            s->health.errors++;
            s->health.total_errors++;
            s->health.since_ms = ot_time_now_ms();
            snprintf(s->health.error, sizeof s->health.error, "no answer within the poll interval");
            ot_warn("device late device=%s (channels missing from this reading)",
                    s->dev.conf->name);
            p->health_changed = 1;
        }
    pthread_mutex_unlock(&p->mu);
    /* no GNSS fix: a receiver's position registers hold the last fix (they
     * cannot be absent), so position, altitude, speed and heading are not
     * read values of now: leave them out and list them missing */
    if (ot_reading_has(r, OT_CH_GNSS) && r->v[OT_CH_GNSS] == 0.0)
        r->present &= ~((1u << OT_CH_LAT) | (1u << OT_CH_LON) | (1u << OT_CH_ALT) |
                        (1u << OT_CH_SPEED) | (1u << OT_CH_HEADING));
    uint32_t want = p->configured | (1u << OT_CH_TEMP);
    r->missing = want & ~r->present;
}

int poll__health(struct gw_poller *p, struct gw_health *out, size_t max, size_t *n)
{
    pthread_mutex_lock(&p->mu);
    size_t k = p->n < max ? p->n : max;
    for (size_t i = 0; i < k; i++)
        out[i] = p->slot[i].health;
    *n = k;
    int changed = p->health_changed;
    p->health_changed = 0;
    pthread_mutex_unlock(&p->mu);
    return changed;
}
