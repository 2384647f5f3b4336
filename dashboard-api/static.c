/* static.c - the web dashboard's files, for every path outside /api and
 * /metrics (GET and HEAD only). Files are served from the realpath of
 * web_root only: the URL path is checked segment by segment
 * (api__static_path in validate.c: no "..", no hidden files) and the
 * resolved file must still lie under web_root, so a symlink out of the tree
 * is refused too. Files go out with sendfile; index.html is not cached,
 * assets briefly. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "http.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void api__h_static(struct api_req *r)
{
    char rel[1100], full[8192], real[4096];
    const char *root = r->ctx->web_root_real;
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        api__reply_error(r, 405, "method_not_allowed", "%s: only GET and HEAD serve files",
                         r->method);
        return;
    }
    if (api__static_path(r->url, rel, sizeof rel)) {
        api__reply_error(r, 404, "not_found", "%.200s: no such file", r->url);
        return;
    }
    if (!root[0]) {
        api__reply_error(r, 404, "not_found", "%.200s: the web dashboard is not built", r->url);
        return;
    }
    snprintf(full, sizeof full, "%s/%s", root, rel);
    size_t rl = strlen(root);
    /* resolve symlinks and make sure we are still below the root */
    if (!realpath(full, real) || strncmp(real, root, rl) != 0 || real[rl] != '/') {
        api__reply_error(r, 404, "not_found", "%.200s: no such file", r->url);
        return;
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0)
            close(fd);
        api__reply_error(r, 404, "not_found", "%.200s: no such file", r->url);
        return;
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((size_t)sb.st_size, fd);
    if (!resp) {
        close(fd);
        api__reply_error(r, 500, "internal", "cannot serve file");
        return;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, api__content_type(rel));
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            strcmp(rel, "index.html") == 0 ? "no-cache" : "public, max-age=300");
    api__reply_set(r, 200, resp);
}
