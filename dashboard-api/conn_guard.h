/* conn_guard.h - sheds idle and slow connections so that health checks and
 * real requests are served under a connection flood (conn_guard.c). */
#ifndef OT_API_CONN_GUARD_H
#define OT_API_CONN_GUARD_H

#include <microhttpd.h>
#include <stdint.h>

#include "ot_err.h"

struct api_guard;

/* per_ip_idle: idle connections one address may hold; total_idle: all
 * addresses together; header_deadline_ms: time to complete the request
 * headers. *out is freed with api__guard_free (accepts NULL). */
enum ot_err api__guard_new(int64_t per_ip_idle, int64_t total_idle, int64_t header_deadline_ms,
                           struct api_guard **out);
void api__guard_free(struct api_guard *g);
/* MHD_OPTION_NOTIFY_CONNECTION callback; cls is the guard. */
void api__guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                       enum MHD_ConnectionNotificationCode toe);
/* active=1: request headers complete; 0: request done, keep-alive idle. */
void api__guard_mark(struct api_guard *g, struct MHD_Connection *conn, int active);
/* Shuts down connections past the header deadline (call every ~200 ms). */
void api__guard_sweep(struct api_guard *g);
/* Connections shed so far (for /metrics). */
uint64_t api__guard_shed(struct api_guard *g);

#endif
