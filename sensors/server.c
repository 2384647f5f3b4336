/* server.c - serves every configured device from one select() loop.
 *
 * How it works: TCP devices listen with modbus_tcp_listen and accept any
 * number of reconnecting clients (up to SENSORS_MAX_CLIENTS each; the oldest
 * is dropped for a new one, since a gateway that reconnects may leave a
 * half-open socket behind). RTU devices open the given serial device (in
 * tests the slave end of a pty) with modbus_new_rtu; their requests are
 * framed here (see handle_rtu). One libmodbus context per device:
 * modbus_set_socket() points it at the client that has data.
 *
 * Replies are never written straight to the client: libmodbus writes them
 * into a socketpair, we read the bytes back and queue them with a due time.
 * That one indirection gives every fault without blocking other devices:
 * "slow" queues the reply delay_ms later, "dropout" discards the request,
 * "crc_noise" (RTU) XORs one byte of the frame (payload or CRC, chosen by
 * the seeded generator) so the master's CRC check fails. Replies to one
 * client leave in request order. The registers are refreshed from the
 * scenario every tick_ms. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ot_log.h"
#include "ot_signal.h"
#include "ot_time.h"
#include "sensors.h"

static double sim_time(const struct sensors_server *srv, const struct sensors_device *d,
                       int64_t mono)
{
    return d->start_at_s + (double)(mono - srv->mono0) / 1000.0 * d->time_scale;
}

static int serial_open(struct sensors_device *d)
{
    if (modbus_connect(d->ctx) != 0)
        return -1;
    d->serial_fd = modbus_get_socket(d->ctx);
    int fl = fcntl(d->serial_fd, F_GETFL);
    if (fl < 0 || fcntl(d->serial_fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        modbus_close(d->ctx);
        d->serial_fd = -1;
        return -1;
    }
    return 0;
}

static void serial_retry(struct sensors_device *d, int64_t now)
{
    if (!d->url.rtu || d->serial_fd >= 0 || now < d->reopen_ms)
        return;
    if (serial_open(d) == 0)
        ot_info("serial line reopened device=%s tty=%s", d->name, d->url.tty);
    else
        d->reopen_ms = now + 1000;
}

static enum ot_err open_device(struct sensors_server *srv, struct sensors_device *d)
{
    enum ot_err rc = sensors__device_map(d);
    if (rc)
        return rc;
    scenario__model_init(&d->model, &d->sc);
    sensors__device_update(d, sim_time(srv, d, srv->mono0));
    if (d->url.rtu) {
        d->ctx = modbus_new_rtu(d->url.tty, d->url.baud, d->url.parity, d->url.data_bits,
                                d->url.stop_bits);
        if (!d->ctx || modbus_set_slave(d->ctx, d->unit) != 0 || serial_open(d) != 0) {
            ot_error("cannot open serial device device=%s tty=%s error=\"%s\"", d->name, d->url.tty,
                     modbus_strerror(errno));
            return OT_ERR_MODBUS;
        }
        ot_info("serving device=%s profile=%s url=rtu:%s baud=%d unit=%d scenario=%s", d->name,
                d->prof.name, d->url.tty, d->url.baud, d->unit, d->sc.name);
    } else {
        d->ctx = modbus_new_tcp(d->url.host, d->url.port);
        if (!d->ctx) {
            ot_error("cannot create TCP context device=%s error=\"%s\"", d->name,
                     modbus_strerror(errno));
            return OT_ERR_MODBUS;
        }
        d->listen_fd = modbus_tcp_listen(d->ctx, 16);
        if (d->listen_fd < 0) {
            ot_error("cannot listen device=%s url=tcp://%s:%d error=\"%s\"", d->name, d->url.host,
                     d->url.port, modbus_strerror(errno));
            return OT_ERR_MODBUS;
        }
        ot_info("serving device=%s profile=%s url=tcp://%s:%d unit=%d scenario=%s", d->name,
                d->prof.name, d->url.host, d->url.port, d->unit, d->sc.name);
    }
    /* a request split across reads must not stall the loop for long */
    modbus_set_byte_timeout(d->ctx, 0, 200000);
    modbus_set_indication_timeout(d->ctx, 1, 0);
    return OT_OK;
}

enum ot_err sensors__server_open(struct sensors_server *srv)
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, srv->pair) != 0) {
        ot_error("socketpair failed error=\"%s\"", strerror(errno));
        return OT_ERR_IO;
    }
    int fl = fcntl(srv->pair[1], F_GETFL);
    if (fl < 0 || fcntl(srv->pair[1], F_SETFL, fl | O_NONBLOCK) != 0) {
        ot_error("fcntl failed error=\"%s\"", strerror(errno));
        return OT_ERR_IO;
    }
    srv->mono0 = ot_time_mono_ms();
    for (size_t i = 0; i < srv->n; i++) {
        enum ot_err rc = open_device(srv, &srv->dev[i]);
        if (rc)
            return rc;
    }
    return OT_OK;
}

void sensors__server_close(struct sensors_server *srv)
{
    for (size_t i = 0; srv->dev && i < srv->n; i++) {
        struct sensors_device *d = &srv->dev[i];
        for (int k = 0; k < SENSORS_MAX_CLIENTS; k++)
            if (d->clients[k] >= 0) {
                close(d->clients[k]);
                d->clients[k] = -1;
            }
        if (d->listen_fd >= 0)
            close(d->listen_fd);
        d->listen_fd = -1;
        if (d->ctx) {
            if (d->url.rtu && d->serial_fd >= 0)
                modbus_close(d->ctx);
            modbus_free(d->ctx);
        }
        d->ctx = NULL;
        modbus_mapping_free(d->map);
        d->map = NULL;
        if (d->n_req)
            ot_info("device stats device=%s requests=%llu replies=%llu dropped=%llu "
                    "corrupted=%llu writes=%llu",
                    d->name, (unsigned long long)d->n_req, (unsigned long long)d->n_reply,
                    (unsigned long long)d->n_dropped, (unsigned long long)d->n_corrupted,
                    (unsigned long long)d->n_writes);
    }
    for (int k = 0; k < 2; k++)
        if (srv->pair[k] >= 0) {
            close(srv->pair[k]);
            srv->pair[k] = -1;
        }
}

static void drop_client(struct sensors_device *d, int k, const char *why)
{
    int fd = d->clients[k];
    size_t j = 0;
    for (size_t i = 0; i < d->nq; i++) /* its pending replies go with it */
        if (d->q[i].fd != fd)
            d->q[j++] = d->q[i];
    d->nq = j;
    close(fd);
    d->clients[k] = -1;
    ot_info("client closed device=%s fd=%d reason=%s", d->name, fd, why);
}

static void accept_client(struct sensors_device *d)
{
    int fd = accept(d->listen_fd, NULL, NULL);
    if (fd < 0) {
        ot_warn("accept failed device=%s error=\"%s\"", d->name, strerror(errno));
        return;
    }
    int slot = -1;
    for (int k = 0; k < SENSORS_MAX_CLIENTS; k++)
        if (d->clients[k] < 0) {
            slot = k;
            break;
        }
    if (slot < 0) {
        drop_client(d, 0, "too_many_clients_oldest_dropped");
        memmove(&d->clients[0], &d->clients[1], sizeof(int) * (SENSORS_MAX_CLIENTS - 1));
        slot = SENSORS_MAX_CLIENTS - 1;
    }
    d->clients[slot] = fd;
    ot_info("client connected device=%s fd=%d", d->name, fd);
}

static void send_reply(struct sensors_device *d, const struct sensors_reply *r)
{
    size_t off = 0;
    while (off < r->len) {
        ssize_t n = write(r->fd, r->buf + off, r->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ot_warn("reply write failed device=%s fd=%d error=\"%s\"", d->name, r->fd,
                    strerror(errno));
            return;
        }
        off += (size_t)n;
    }
    d->n_reply++;
}

static void flush_due(struct sensors_device *d, int64_t now)
{
    size_t j = 0;
    for (size_t i = 0; i < d->nq; i++) {
        if (d->q[i].due_ms <= now)
            send_reply(d, &d->q[i]);
        else
            d->q[j++] = d->q[i];
    }
    d->nq = j;
}

/* Answers one complete request (ADU as received) from fd. */
static void process_request(struct sensors_server *srv, struct sensors_device *d, int fd,
                            const uint8_t *req, int len)
{
    d->n_req++;
    double t = d->t_s;
    if (scenario__active(&d->sc, EV_DROPOUT, t)) {
        d->n_dropped++;
        return;
    }
    modbus_set_socket(d->ctx, srv->pair[0]);
    int unit = d->url.rtu ? req[0] : req[6];
    int rc;
    if (!d->url.rtu && unit != d->unit && unit != 0 && unit != 0xFF)
        rc = modbus_reply_exception(d->ctx, req, MODBUS_EXCEPTION_GATEWAY_TARGET);
    else
        rc = modbus_reply(d->ctx, req, len, d->map);
    modbus_set_socket(d->ctx, d->url.rtu ? d->serial_fd : fd);
    if (rc < 0) {
        ot_warn("reply failed device=%s error=\"%s\"", d->name, modbus_strerror(errno));
        return;
    }
    int fc = d->url.rtu ? req[1] : req[7];
    if (fc == MODBUS_FC_WRITE_SINGLE_COIL || fc == MODBUS_FC_WRITE_MULTIPLE_COILS) {
        d->n_writes++;
        sensors__device_outputs(d);
    }
    struct sensors_reply r;
    ssize_t n = read(srv->pair[1], r.buf, sizeof r.buf);
    if (n <= 0 || (d->url.rtu && unit == 0))
        return; /* nothing to send; never answer an RTU broadcast */
    r.len = (size_t)n;
    r.fd = fd;
    const struct scenario_event *cn = scenario__active(&d->sc, EV_CRC_NOISE, t);
    if (cn && d->url.rtu) {
        uint64_t c = d->noise_counter++;
        if (scenario__uniform(d->sc.seed, c, 0xC4C) < cn->probability) {
            uint64_t h = scenario__hash(d->sc.seed, c, 0xC4D);
            size_t at = (size_t)(h % r.len);
            r.buf[at] ^= (uint8_t)(1u + (h >> 32) % 255u); /* never XOR with 0 */
            d->n_corrupted++;
        }
    }
    int64_t now = ot_time_mono_ms();
    const struct scenario_event *sl = scenario__active(&d->sc, EV_SLOW, t);
    r.due_ms = now + (sl ? (int64_t)sl->delay_ms : 0);
    for (size_t i = 0; i < d->nq; i++) /* keep per-client order */
        if (d->q[i].fd == fd && d->q[i].due_ms > r.due_ms)
            r.due_ms = d->q[i].due_ms;
    if (r.due_ms <= now && d->nq == 0) {
        send_reply(d, &r);
        return;
    }
    if (d->nq == SENSORS_REPLY_QUEUE) {
        d->n_dropped++;
        ot_warn("reply queue full, request dropped device=%s", d->name);
        return;
    }
    d->q[d->nq++] = r;
}

static void handle_tcp(struct sensors_server *srv, struct sensors_device *d, int k)
{
    uint8_t req[MODBUS_TCP_MAX_ADU_LENGTH];
    int fd = d->clients[k];
    modbus_set_socket(d->ctx, fd);
    int len = modbus_receive(d->ctx, req);
    if (len < 0) {
        drop_client(d, k, errno == ECONNRESET ? "peer_closed" : "receive_error");
        return;
    }
    if (len > 0)
        process_request(srv, d, fd, req, len);
}

static uint16_t crc16(const uint8_t *p, size_t n)
{
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
    }
    return crc;
}

/* Length of the RTU request at the start of buf: > 0 complete length, 0
 * need more bytes, -1 unknown function (resynchronise). */
static int rtu_frame_len(const uint8_t *b, size_t n)
{
    if (n < 2)
        return 0;
    switch (b[1]) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 8:
        return 8;
    case 7:
    case 11:
    case 12:
    case 17:
        return 4;
    case 15:
    case 16:
        return n < 7 ? 0 : 9 + b[6];
    case 22:
        return 10;
    case 23:
        return n < 11 ? 0 : 13 + b[10];
    case 43:
        return 7;
    default:
        return -1;
    }
}

/* RTU requests are framed here rather than by modbus_receive(): libmodbus,
 * on a request for another unit, treats the NEXT frame as that unit's
 * answer and swallows it, which on a point-to-point line (a pty, a single
 * sensor) eats a request meant for us. */
static void handle_rtu(struct sensors_server *srv, struct sensors_device *d)
{
    int64_t now = ot_time_mono_ms();
    if (d->rx_len && (now - d->rx_last_ms > 100 || d->rx_len == sizeof d->rx)) {
        ot_warn("partial RTU frame discarded device=%s bytes=%zu", d->name, d->rx_len);
        d->rx_len = 0;
    }
    ssize_t n = read(d->serial_fd, d->rx + d->rx_len, sizeof d->rx - d->rx_len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        /* adapter unplugged, pty peer gone: close, retry once a second */
        ot_warn("serial line lost device=%s tty=%s error=\"%s\"", d->name, d->url.tty,
                n < 0 ? strerror(errno) : "end of file");
        modbus_close(d->ctx);
        d->serial_fd = -1;
        d->rx_len = 0;
        d->reopen_ms = now + 1000;
        return;
    }
    d->rx_len += (size_t)n;
    d->rx_last_ms = now;
    for (;;) {
        int fl = rtu_frame_len(d->rx, d->rx_len);
        if (fl == 0 || (fl > 0 && (size_t)fl > d->rx_len)) {
            if (fl > (int)sizeof d->rx)
                d->rx_len = 0;
            return; /* wait for the rest */
        }
        if (fl < 0) {
            ot_warn("unknown RTU function, input discarded device=%s function=%u", d->name,
                    (unsigned)d->rx[1]);
            d->rx_len = 0;
            return;
        }
        size_t len = (size_t)fl;
        uint16_t crc = (uint16_t)(d->rx[len - 2] | (d->rx[len - 1] << 8));
        if (crc16(d->rx, len - 2) != crc) {
            ot_warn("bad CRC in request, input discarded device=%s", d->name);
            d->rx_len = 0;
            return;
        }
        if (d->rx[0] == d->unit || d->rx[0] == 0)
            process_request(srv, d, d->serial_fd, d->rx, fl);
        memmove(d->rx, d->rx + len, d->rx_len - len);
        d->rx_len -= len;
    }
}

enum ot_err sensors__server_run(struct sensors_server *srv)
{
    int64_t next_tick = ot_time_mono_ms();
    while (!ot_signal_stop) {
        int64_t now = ot_time_mono_ms();
        if (now >= next_tick) {
            for (size_t i = 0; i < srv->n; i++) {
                sensors__device_update(&srv->dev[i], sim_time(srv, &srv->dev[i], now));
                serial_retry(&srv->dev[i], now);
            }
            next_tick = now + srv->tick_ms;
        }
        for (size_t i = 0; i < srv->n; i++)
            flush_due(&srv->dev[i], now);

        fd_set rd;
        FD_ZERO(&rd);
        int maxfd = -1;
        int64_t wake = next_tick;
        for (size_t i = 0; i < srv->n; i++) {
            struct sensors_device *d = &srv->dev[i];
            int fds[SENSORS_MAX_CLIENTS + 2];
            int nf = 0;
            if (d->listen_fd >= 0)
                fds[nf++] = d->listen_fd;
            if (d->serial_fd >= 0)
                fds[nf++] = d->serial_fd;
            for (int k = 0; k < SENSORS_MAX_CLIENTS; k++)
                if (d->clients[k] >= 0)
                    fds[nf++] = d->clients[k];
            for (int f = 0; f < nf; f++) {
                FD_SET(fds[f], &rd);
                if (fds[f] > maxfd)
                    maxfd = fds[f];
            }
            for (size_t q = 0; q < d->nq; q++)
                if (d->q[q].due_ms < wake)
                    wake = d->q[q].due_ms;
        }
        int64_t wait = wake - now;
        if (wait < 0)
            wait = 0;
        struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)((wait % 1000) * 1000)};
        int n = select(maxfd + 1, &rd, NULL, NULL, &tv);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            ot_error("select failed error=\"%s\"", strerror(errno));
            return OT_ERR_IO;
        }
        if (n == 0)
            continue;
        for (size_t i = 0; i < srv->n; i++) {
            struct sensors_device *d = &srv->dev[i];
            if (d->serial_fd >= 0 && FD_ISSET(d->serial_fd, &rd))
                handle_rtu(srv, d);
            for (int k = 0; k < SENSORS_MAX_CLIENTS; k++)
                if (d->clients[k] >= 0 && FD_ISSET(d->clients[k], &rd))
                    handle_tcp(srv, d, k);
            /* last: a new client may reuse the number of one closed above */
            if (d->listen_fd >= 0 && FD_ISSET(d->listen_fd, &rd))
                accept_client(d);
        }
    }
    return OT_OK;
}
