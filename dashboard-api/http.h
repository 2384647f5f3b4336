/* http.h - libmicrohttpd-specific internals of organtrack-api. */
#ifndef OT_API_HTTP_H
#define OT_API_HTTP_H

#include <microhttpd.h>
#include <stdint.h>
#include <sys/types.h>

#include "api.h"

/* Sets the response of a request (replaces any earlier one). */
void api__reply_set(struct api_req *r, unsigned status, struct MHD_Response *resp);
/* Runs the server until SIGINT/SIGTERM. */
enum ot_err api__http_run(struct api_ctx *ctx);

#endif
