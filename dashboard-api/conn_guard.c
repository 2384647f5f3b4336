/* conn_guard.c - keeps idle and slow connections from starving the API.
 *
 * How it works: libmicrohttpd tells us of every connection it accepts and
 * closes (MHD_OPTION_NOTIFY_CONNECTION). Each one is tracked here in accept
 * order with its client address and a state:
 *   WAITING   accepted, request headers not complete yet (could be junk)
 *   ACTIVE    headers complete, a request is being served (or a stream)
 *   KEEPALIVE a request finished, waiting for the next one
 * When a connection arrives and its address already holds per_ip_idle
 * WAITING/KEEPALIVE connections, or all addresses together hold total_idle
 * of them, the oldest such connection (of that address, else the oldest
 * anywhere) is shut down (shutdown(2); MHD sees EOF and closes it). A
 * client that sends its request at once is therefore never the victim: it
 * leaves WAITING within milliseconds, while a flood of idle or trickling
 * sockets only ever evicts itself. The sweep (main loop, every 200 ms)
 * shuts down WAITING connections older than the header deadline, however
 * many bytes they trickled (MHD's own timeout restarts on every byte).
 *
 * Guarantees: idle connections from one address never exceed per_ip_idle
 * + 1 and never push out an ACTIVE one; MHD's hard per-IP limit
 * (MHD_OPTION_PER_IP_CONNECTION_LIMIT) sits above per_ip_idle, so headroom
 * is left for real requests from that address (one NAT'ed hospital).
 * Locking: one mutex; the CLOSED notification removes an entry before MHD
 * closes the socket, so a shutdown never reaches a reused descriptor. */
#define _GNU_SOURCE /* memmem */
#include "conn_guard.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ot_log.h"

enum guard_state { G_WAITING, G_ACTIVE, G_KEEPALIVE };

struct guard_conn {
    struct guard_conn *prev, *next;
    int fd;
    unsigned char addr[16];
    size_t addr_len;
    enum guard_state state;
    int64_t since_ms; /* accepted, or entered KEEPALIVE */
    int shut;         /* shutdown already sent */
};

struct api_guard {
    pthread_mutex_t mu;
    struct guard_conn *head, *tail; /* accept order, oldest first */
    int64_t per_ip_idle, total_idle, header_deadline_ms;
    int64_t n_idle;
    uint64_t shed; /* connections shut down by this module */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum ot_err api__guard_new(int64_t per_ip_idle, int64_t total_idle, int64_t header_deadline_ms,
                           struct api_guard **out)
{
    struct api_guard *g = calloc(1, sizeof *g);
    if (!g)
        return OT_ERR_NOMEM;
    pthread_mutex_init(&g->mu, NULL);
    g->per_ip_idle = per_ip_idle;
    g->total_idle = total_idle;
    g->header_deadline_ms = header_deadline_ms;
    *out = g;
    return OT_OK;
}

void api__guard_free(struct api_guard *g)
{
    if (!g)
        return;
    struct guard_conn *c = g->head;
    while (c) {
        struct guard_conn *n = c->next;
        free(c);
        c = n;
    }
    pthread_mutex_destroy(&g->mu);
    free(g);
}

uint64_t api__guard_shed(struct api_guard *g)
{
    return g ? __atomic_load_n(&g->shed, __ATOMIC_RELAXED) : 0;
}

static int is_idle(const struct guard_conn *c)
{
    return !c->shut && c->state != G_ACTIVE;
}

/* mutex held */
static void shut(struct api_guard *g, struct guard_conn *c)
{
    c->shut = 1;
    g->n_idle--;
    (void)shutdown(c->fd, SHUT_RDWR);
    __atomic_fetch_add(&g->shed, 1, __ATOMIC_RELAXED);
}

/* A request whose header block is already in the socket buffer is waiting
 * for a worker thread, not trickling: never shed it. */
static int headers_pending(const struct guard_conn *c)
{
    char buf[4096];
    ssize_t n = recv(c->fd, buf, sizeof buf - 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 4)
        return 0;
    buf[n] = '\0';
    return memmem(buf, (size_t)n, "\r\n\r\n", 4) != NULL;
}

/* mutex held: make room before c joins, from its own address first */
static void make_room(struct api_guard *g, const struct guard_conn *nc)
{
    int64_t same = 0;
    struct guard_conn *oldest_same = NULL, *oldest = NULL;
    for (struct guard_conn *c = g->head; c; c = c->next) {
        if (!is_idle(c) || (c->state == G_WAITING && headers_pending(c)))
            continue;
        if (!oldest)
            oldest = c;
        if (c->addr_len == nc->addr_len && memcmp(c->addr, nc->addr, c->addr_len) == 0) {
            if (!oldest_same)
                oldest_same = c;
            same++;
        }
    }
    if (oldest_same && same >= g->per_ip_idle)
        shut(g, oldest_same);
    else if (oldest && g->n_idle >= g->total_idle)
        shut(g, oldest);
}

static void set_addr(struct guard_conn *c, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    c->addr_len = 0;
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        memcpy(c->addr, &in->sin_addr, 4);
        c->addr_len = 4;
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        memcpy(c->addr, &in6->sin6_addr, 16);
        c->addr_len = 16;
    }
}

void api__guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                       enum MHD_ConnectionNotificationCode toe)
{
    struct api_guard *g = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        struct guard_conn *c = calloc(1, sizeof *c);
        const union MHD_ConnectionInfo *fi =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!c || !fi) {
            free(c);
            *socket_context = NULL;
            return;
        }
        c->fd = fi->connect_fd;
        set_addr(c, conn);
        c->state = G_WAITING;
        c->since_ms = mono_ms();
        pthread_mutex_lock(&g->mu);
        make_room(g, c);
        c->prev = g->tail;
        if (g->tail)
            g->tail->next = c;
        else
            g->head = c;
        g->tail = c;
        g->n_idle++;
        pthread_mutex_unlock(&g->mu);
        *socket_context = c;
        return;
    }
    struct guard_conn *c = *socket_context;
    if (!c)
        return;
    pthread_mutex_lock(&g->mu);
    if (is_idle(c))
        g->n_idle--;
    if (c->prev)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        g->tail = c->prev;
    pthread_mutex_unlock(&g->mu);
    free(c);
    *socket_context = NULL;
}

static struct guard_conn *conn_entry(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

void api__guard_mark(struct api_guard *g, struct MHD_Connection *conn, int active)
{
    struct guard_conn *c = g ? conn_entry(conn) : NULL;
    if (!c)
        return;
    pthread_mutex_lock(&g->mu);
    if (!c->shut) {
        int was_idle = c->state != G_ACTIVE;
        c->state = active ? G_ACTIVE : G_KEEPALIVE;
        c->since_ms = mono_ms();
        g->n_idle += (active ? 0 : 1) - (was_idle ? 1 : 0);
    }
    pthread_mutex_unlock(&g->mu);
}

void api__guard_sweep(struct api_guard *g)
{
    if (!g)
        return;
    int64_t now = mono_ms();
    pthread_mutex_lock(&g->mu);
    for (struct guard_conn *c = g->head; c; c = c->next)
        if (!c->shut && c->state == G_WAITING && now - c->since_ms > g->header_deadline_ms)
            shut(g, c);
    pthread_mutex_unlock(&g->mu);
}
