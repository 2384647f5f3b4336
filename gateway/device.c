/* device.c - one Modbus device: connection, grouped reads, decoding.
 *
 * Channels of a profile are grouped by function and contiguous addresses so
 * a device costs one request per group (01 coils, 02 discrete inputs, 03
 * holding, 04 input registers). Each device has its own modbus_t and its own
 * response timeout; libmodbus's error recovery stays OFF (LINK recovery
 * reconnects in a loop inside the call and can block forever on an
 * unplugged adapter). Instead: a failed connect, or a cycle where every
 * group fails, closes the link and schedules a reconnect with exponential
 * backoff (250 ms doubling to 10 s) when the failures are link failures
 * (timeouts, resets); a garbled answer (CRC) or a Modbus exception means the
 * device is there, so the link stays. While in backoff nothing is tried and
 * the cycle reports the device's channels as not read. A TCP timeout also
 * closes the link, so a late answer can never be taken for the next one; on
 * RTU the line is flushed after a failed request (CRC noise, timeout).
 * Alarm output coils are written with function 05 on the same link. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "ot_log.h"
#include "ot_time.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 10000

static int cmp_ch(const struct ot_profile *p, size_t a, size_t b)
{
    const struct ot_profile_channel *x = &p->ch[a], *y = &p->ch[b];
    if (x->function != y->function)
        return (int)x->function - (int)y->function;
    return (int)x->address - (int)y->address;
}

void device__init(struct gw_device *d, const struct gw_device_conf *conf)
{
    memset(d, 0, sizeof *d);
    d->conf = conf;
    d->backoff_ms = BACKOFF_MIN_MS;
    const struct ot_profile *p = &conf->profile;
    size_t order[OT_PROFILE_MAX_CHANNELS];
    for (size_t i = 0; i < p->n; i++)
        order[i] = i;
    for (size_t i = 1; i < p->n; i++) /* insertion sort: n <= 32 */
        for (size_t j = i; j > 0 && cmp_ch(p, order[j - 1], order[j]) > 0; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (size_t i = 0; i < p->n; i++) {
        const struct ot_profile_channel *c = &p->ch[order[i]];
        if (c->output != OT_OUT_NONE) { /* written (device__set_outputs), never read */
            d->outputs[d->noutputs++] = order[i];
            continue;
        }
        int w = ot_profile_channel_width(c);
        int bits = c->function == OT_FN_COIL || c->function == OT_FN_DISCRETE;
        unsigned limit = bits ? 2000u : 125u;
        struct gw_group *g = d->ngroups ? &d->groups[d->ngroups - 1] : NULL;
        unsigned end = g ? (unsigned)g->addr + g->count : 0;
        unsigned new_end = (unsigned)c->address + (unsigned)w;
        if (g && g->fn == c->function && c->address <= end &&
            (new_end > end ? new_end : end) - g->addr <= limit) {
            if (new_end > end)
                g->count = (uint16_t)(new_end - g->addr);
        } else {
            g = &d->groups[d->ngroups++];
            g->fn = c->function;
            g->addr = c->address;
            g->count = (uint16_t)w;
            g->n = 0;
        }
        g->ch[g->n++] = order[i];
    }
}

void device__close(struct gw_device *d)
{
    if (d->ctx) {
        modbus_close(d->ctx);
        modbus_free(d->ctx);
        d->ctx = NULL;
    }
    d->connected = 0;
}

static void fail_link(struct gw_device *d)
{
    device__close(d);
    d->retry_at_mono = ot_time_mono_ms() + d->backoff_ms;
    d->backoff_ms *= 2;
    if (d->backoff_ms > BACKOFF_MAX_MS)
        d->backoff_ms = BACKOFF_MAX_MS;
}

static int dev_connect(struct gw_device *d, char *err, size_t errlen)
{
    const struct gw_device_conf *c = d->conf;
    if (c->is_rtu)
        d->ctx = modbus_new_rtu(c->tty, c->baud, c->parity, c->data_bits, c->stop_bits);
    else {
        char port[8];
        snprintf(port, sizeof port, "%d", c->port);
        d->ctx = modbus_new_tcp_pi(c->host, port);
    }
    if (!d->ctx) {
        snprintf(err, errlen, "create: %s", modbus_strerror(errno));
        return -1;
    }
    modbus_set_error_recovery(d->ctx, MODBUS_ERROR_RECOVERY_NONE);
    uint32_t ms = (uint32_t)c->timeout_ms;
    modbus_set_response_timeout(d->ctx, ms / 1000, (ms % 1000) * 1000);
    uint32_t bms = ms < 200 ? ms : 200;
    modbus_set_byte_timeout(d->ctx, bms / 1000, (bms % 1000) * 1000);
    if (modbus_set_slave(d->ctx, (int)c->unit) || modbus_connect(d->ctx)) {
        snprintf(err, errlen, "connect: %s", modbus_strerror(errno));
        device__close(d);
        return -1;
    }
    d->connected = 1;
    return 0;
}

static const char *fn_name(enum ot_reg_function fn)
{
    switch (fn) {
    case OT_FN_COIL:
        return "coils";
    case OT_FN_DISCRETE:
        return "discrete";
    case OT_FN_HOLDING:
        return "holding";
    default:
        return "input";
    }
}

void device__poll(struct gw_device *d, struct gw_dev_result *res)
{
    memset(res, 0, sizeof *res);
    if (!d->connected) {
        if (ot_time_mono_ms() < d->retry_at_mono) {
            res->skipped = 1;
            res->failed = (int)d->ngroups;
            return;
        }
        if (dev_connect(d, res->error, sizeof res->error)) {
            res->failed = (int)d->ngroups;
            fail_link(d);
            return;
        }
    }
    int timeouts = 0, linkerr = 0;
    for (size_t gi = 0; gi < d->ngroups; gi++) {
        const struct gw_group *g = &d->groups[gi];
        uint16_t regs[2000];
        uint8_t bits[2000];
        int rc;
        switch (g->fn) {
        case OT_FN_COIL:
            rc = modbus_read_bits(d->ctx, g->addr, g->count, bits);
            break;
        case OT_FN_DISCRETE:
            rc = modbus_read_input_bits(d->ctx, g->addr, g->count, bits);
            break;
        case OT_FN_HOLDING:
            rc = modbus_read_registers(d->ctx, g->addr, g->count, regs);
            break;
        default:
            rc = modbus_read_input_registers(d->ctx, g->addr, g->count, regs);
            break;
        }
        if (rc != g->count) {
            int e = rc < 0 ? errno : EMBBADDATA;
            if (!res->error[0])
                snprintf(res->error, sizeof res->error, "read %s %u+%u: %s", fn_name(g->fn),
                         g->addr, g->count, modbus_strerror(e));
            res->failed++;
            timeouts += e == ETIMEDOUT;
            linkerr += e == ETIMEDOUT || e == ECONNRESET || e == EPIPE || e == EBADF ||
                       e == ENOTCONN || e == EIO;
            if (e == ECONNRESET || e == EPIPE || e == EBADF || e == ENOTCONN ||
                (!d->conf->is_rtu && e == ETIMEDOUT))
                break; /* the link is gone or out of step: stop this cycle */
            if (d->conf->is_rtu)
                modbus_flush(d->ctx);
            continue;
        }
        if (g->fn == OT_FN_COIL || g->fn == OT_FN_DISCRETE)
            for (unsigned i = 0; i < g->count; i++)
                regs[i] = bits[i] ? 1 : 0;
        for (size_t k = 0; k < g->n; k++) {
            size_t ci = g->ch[k];
            const struct ot_profile_channel *c = &d->conf->profile.ch[ci];
            res->val[ci] = ot_profile_decode(c, regs + (c->address - g->addr));
            res->ok[ci] = 1;
        }
    }
    if (res->failed) {
        int all = 1;
        for (size_t i = 0; i < d->conf->profile.n; i++)
            all &= !res->ok[i];
        if (all && linkerr)
            fail_link(d); /* nothing answered at all: reconnect with backoff */
        else if (!d->conf->is_rtu && timeouts)
            device__close(d); /* reconnect next cycle, no stale answers */
    } else {
        d->backoff_ms = BACKOFF_MIN_MS;
    }
}

int device__write_outputs(struct gw_device *d, int value, char *err, size_t errlen)
{
    if (!d->noutputs)
        return 0;
    if (!d->connected) {
        if (ot_time_mono_ms() < d->retry_at_mono) {
            snprintf(err, errlen, "device not connected (reconnecting)");
            return -1;
        }
        if (dev_connect(d, err, errlen)) {
            fail_link(d);
            return -1;
        }
    }
    for (size_t i = 0; i < d->noutputs; i++) {
        const struct ot_profile_channel *c = &d->conf->profile.ch[d->outputs[i]];
        if (modbus_write_bit(d->ctx, c->address, value ? 1 : 0) == 1)
            continue;
        int e = errno;
        snprintf(err, errlen, "write coil %u: %s", c->address, modbus_strerror(e));
        if (e == ECONNRESET || e == EPIPE || e == EBADF || e == ENOTCONN ||
            (!d->conf->is_rtu && e == ETIMEDOUT))
            device__close(d); /* reconnect on the next cycle, no stale answers */
        else if (d->conf->is_rtu)
            modbus_flush(d->ctx);
        return -1;
    }
    return 0;
}
