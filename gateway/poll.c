/* poll.c - one thread per device, all on one cycle clock.
 *
 * Cycle k starts at t0 + k * poll_interval_ms. Each device thread sleeps
 * until the start of the next cycle by itself (nobody has to wake it), first
 * writes the alarm outputs if they should change, then reads its device once
 * and hands back its values; the last device to finish a cycle wakes the
 * main loop, which therefore wakes once per reading. The main loop collects
 * the cycle when every device has answered or when the cycle's deadline
 * (90 % of the interval) passes, whichever is first; a device that is still
 * busy (slow, dead, timing out) simply contributes nothing to that reading,
 * so one failing device never stalls or drops the others. Values are only
 * ever those read in the cycle itself: a channel not read is absent, and a
 * canonical one is listed in "missing" (never the last good value). A device
 * in reconnect backoff answers at once with nothing. A device that falls
 * behind skips to the current cycle, never bursts. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <time.h>
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
    uint64_t done_cycle; /* cycle whose results res holds (0: none yet) */
    struct gw_dev_result res;
    struct gw_health health;
    int canon[OT_PROFILE_MAX_CHANNELS]; /* canonical channel of each profile channel, or -1 */
    int dec[OT_PROFILE_MAX_CHANNELS];   /* its decimals (tidy) */
    /* stuck-value detection (device thread only) */
    double last_val[OT_PROFILE_MAX_CHANNELS];
    int64_t changed_mono[OT_PROFILE_MAX_CHANNELS];
};

struct gw_poller {
    const struct gw_config *cfg;
    int64_t t0, interval;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC: device threads sleep on it, stop wakes them */
    int stop;
    int health_changed;
    size_t n;
    struct dev_slot *slot;
    uint32_t configured; /* canonical channels some device provides */
    int64_t range_warn_mono;
    /* main loop: next cycle to collect (cycles are numbered from 1) */
    uint64_t next;
    int64_t overruns;
    /* under mu */
    int output;          /* desired alarm output: -1 leave alone, 0, 1 */
    int64_t cycle_ts[4]; /* wall clock at which cycle k started: [k % 4] */
    uint64_t cycle_of_ts[4];
};

/* Decimals a channel's register can express (-1: f32, 7 significant
 * digits): a raw 421 x 0.01 is 4.21, never 4.2100000000000009. */
static int decimals(const struct ot_profile_channel *c)
{
    if (c->type == OT_T_F32)
        return -1;
    double s = fabs(c->scale);
    int dec = s >= 1.0 ? 0 : (int)ceil(-log10(s) - 1e-9);
    double o = fabs(c->offset - trunc(c->offset));
    if (o > 0.0) {
        int od = (int)ceil(-log10(o) - 1e-9);
        if (od > dec)
            dec = od;
    }
    return dec > 12 ? 12 : dec;
}

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

/* Sleeps until mono deadline or stop; 1 when stopping. Called with mu held. */
static int sleep_until(struct gw_poller *p, int64_t deadline)
{
    struct timespec ts = {(time_t)(deadline / 1000), (long)(deadline % 1000) * 1000000L};
    while (!p->stop && ot_time_mono_ms() < deadline)
        if (pthread_cond_timedwait(&p->cv, &p->mu, &ts) == ETIMEDOUT)
            break;
    return p->stop;
}

/* Writes the alarm outputs when they should change, and again every cycle
 * while writing fails (the device may be back). Never fatal. */
static void outputs_update(struct dev_slot *s, int want)
{
    struct gw_health *h = &s->health; /* only this thread writes the output fields */
    if (!s->dev.noutputs || want < 0 || (want == h->output && !h->output_failing))
        return;
    char err[GW_ERROR_MAX] = "";
    pthread_mutex_unlock(&s->p->mu);
    int rc = device__write_outputs(&s->dev, want, err, sizeof err);
    pthread_mutex_lock(&s->p->mu);
    if (rc == 0) {
        if (h->output_failing)
            ot_info("alarm output write ok again device=%s value=%d", s->dev.conf->name, want);
        else
            ot_info("alarm output set device=%s value=%d", s->dev.conf->name, want);
        h->output = want;
        h->output_failing = 0;
        h->output_error[0] = '\0';
    } else {
        if (!h->output_failing || strcmp(h->output_error, err))
            ot_error("alarm output write failed device=%s value=%d error=\"%s\" (retried every "
                     "cycle)",
                     s->dev.conf->name, want, err);
        h->output_failing = 1;
        snprintf(h->output_error, sizeof h->output_error, "%s", err);
    }
    s->p->health_changed = 1;
}

static void *dev_thread(void *arg)
{
    struct dev_slot *s = arg;
    struct gw_poller *p = s->p;
    struct gw_dev_result res;
    uint64_t k = 1;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (sleep_until(p, p->t0 + (int64_t)(k - 1) * p->interval))
            break;
        int64_t now = ot_time_mono_ms();
        uint64_t cur = (uint64_t)((now - p->t0) / p->interval) + 1;
        if (cur > k)
            k = cur; /* fell behind: take the cycle running now, never burst */
        if (p->cycle_of_ts[k % 4] != k) {
            p->cycle_of_ts[k % 4] = k;
            p->cycle_ts[k % 4] = ot_time_now_ms();
        }
        outputs_update(s, p->output);
        pthread_mutex_unlock(&p->mu);
        device__poll(&s->dev, &res);
        uint32_t stuck = stuck_update(s, &res);
        pthread_mutex_lock(&p->mu);
        if (stuck != s->health.stuck) {
            for (size_t c = 0; c < s->dev.conf->profile.n; c++)
                if (((stuck ^ s->health.stuck) >> c) & 1u)
                    ot_warn("channel %s device=%s channel=%s",
                            ((stuck >> c) & 1u) ? "stuck" : "moving again", s->dev.conf->name,
                            s->dev.conf->out_name[c]);
            s->health.stuck = stuck;
            p->health_changed = 1;
        }
        s->res = res;
        s->done_cycle = k;
        health_update(s, &res);
        int all = 1;
        for (size_t i = 0; i < p->n; i++)
            all &= p->slot[i].done_cycle == k;
        if (all) {
            pthread_mutex_unlock(&p->mu);
            wake__signal(); /* the last device of the cycle hands it over */
            pthread_mutex_lock(&p->mu);
        }
        k++;
    }
    pthread_mutex_unlock(&p->mu);
    device__close(&s->dev);
    return NULL;
}

enum ot_err poll__start(struct gw_poller **out, const struct gw_config *cfg, int64_t t0_mono)
{
    struct gw_poller *p = calloc(1, sizeof *p);
    *out = NULL;
    if (!p)
        return OT_ERR_NOMEM;
    p->cfg = cfg;
    p->n = cfg->n_dev;
    p->t0 = t0_mono;
    p->interval = cfg->poll_interval_ms;
    p->next = 1;
    p->output = -1;
    p->slot = calloc(p->n, sizeof *p->slot);
    if (!p->slot) {
        free(p);
        return OT_ERR_NOMEM;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    for (size_t i = 0; i < p->n; i++) {
        struct dev_slot *s = &p->slot[i];
        s->p = p;
        device__init(&s->dev, &cfg->dev[i]);
        s->health.ok = 0;
        s->health.has_output = s->dev.noutputs > 0;
        s->health.output = -1;
        snprintf(s->health.error, sizeof s->health.error, "not polled yet");
        for (size_t k = 0; k < cfg->dev[i].profile.n; k++) {
            s->canon[k] = ot_channel_find(cfg->dev[i].out_name[k]);
            s->dec[k] = decimals(&cfg->dev[i].profile.ch[k]);
            if (cfg->dev[i].profile.ch[k].output != OT_OUT_NONE)
                continue;
            if (s->canon[k] >= 0)
                p->configured |= 1u << s->canon[k];
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

uint64_t poll__cycle(const struct gw_poller *p, int64_t *deadline_mono)
{
    *deadline_mono = p->t0 + (int64_t)(p->next - 1) * p->interval + p->interval * 9 / 10;
    return p->next;
}

int poll__ready(struct gw_poller *p, uint64_t cycle, int64_t now_mono)
{
    int64_t deadline = p->t0 + (int64_t)(cycle - 1) * p->interval + p->interval * 9 / 10;
    if (now_mono >= deadline)
        return 1;
    int all = 1;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->n; i++)
        all &= p->slot[i].done_cycle == cycle;
    pthread_mutex_unlock(&p->mu);
    return all;
}

void poll__set_output(struct gw_poller *p, int value)
{
    pthread_mutex_lock(&p->mu);
    p->output = value;
    pthread_mutex_unlock(&p->mu);
}

/* Rounds a decoded value to its register's resolution: k / 10^dec is the
 * double nearest the decimal (both exact, the division correctly rounded),
 * what printing and parsing it back gave, without the printf. */
static double tidy(int dec, double v)
{
    char buf[64];
    if (dec < 0) {
        snprintf(buf, sizeof buf, "%.7g", v);
        return strtod(buf, NULL);
    }
    double p = 1.0;
    for (int i = 0; i < dec; i++)
        p *= 10.0;
    double x = v * p;
    if (!(fabs(x) < 1e15)) { /* beyond exact integers (or NaN): print it */
        snprintf(buf, sizeof buf, "%.*f", dec, v);
        return strtod(buf, NULL);
    }
    return nearbyint(x) / p;
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
    r->ts = p->cycle_of_ts[cycle % 4] == cycle ? p->cycle_ts[cycle % 4] : 0;
    if (!r->ts) /* no device started it (all busy): the cycle's nominal start */
        r->ts = ot_time_now_ms() - (now - (p->t0 + (int64_t)(cycle - 1) * p->interval));
    for (size_t i = 0; i < p->n; i++) {
        struct dev_slot *s = &p->slot[i];
        if (s->done_cycle != cycle)
            continue; /* still busy: nothing from it in this reading */
        const struct gw_device_conf *dc = s->dev.conf;
        for (size_t k = 0; k < dc->profile.n; k++) {
            if (!s->res.ok[k])
                continue;
            const struct ot_profile_channel *c = &dc->profile.ch[k];
            double v = tidy(s->dec[k], s->res.val[k]);
            int ch = s->canon[k];
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
    /* the next cycle to collect: the one after this, or the one running now
     * if the main loop fell behind (a missed cycle is skipped, never burst) */
    uint64_t cur = (uint64_t)((now - p->t0) / p->interval) + 1;
    p->next = cycle + 1;
    if (cur > p->next) {
        if (p->overruns++ % 100 == 0)
            ot_warn("poll cycle overrun interval_ms=%" PRId64 " skipped=%" PRIu64 " count=%" PRId64,
                    p->interval, cur - p->next, p->overruns);
        p->next = cur;
    }
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
