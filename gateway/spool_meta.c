/* spool_meta.c - the spool's meta file: boot counter, acknowledged floor,
 * next seq, counters, pending lost ranges, and whether a gateway had the
 * spool open on which kernel boot. Text, one "key value" per line, replaced
 * atomically (durable.c). It is written at open, at a clean close, when a
 * loss is declared and before a segment is deleted: never per reading. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "durable.h"
#include "ot_log.h"
#include "ot_parse.h"
#include "spool_int.h"

#define META_MAGIC "organtrack-spool 1"

void meta__kernel_boot(char *buf, size_t len)
{
    buf[0] = '\0';
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char tmp[64];
    ssize_t n = read(fd, tmp, sizeof tmp - 1);
    close(fd);
    if (n <= 0)
        return;
    tmp[n] = '\0';
    tmp[strcspn(tmp, "\n")] = '\0';
    size_t k = strlen(tmp);
    for (size_t i = 0; i < k; i++) /* a uuid: hex digits and dashes only */
        if (!((tmp[i] >= '0' && tmp[i] <= '9') || (tmp[i] >= 'a' && tmp[i] <= 'f') ||
              tmp[i] == '-'))
            return;
    if (k > 0 && k < len)
        memcpy(buf, tmp, k + 1);
}

enum ot_err meta__write(struct spool *s, int open_flag)
{
    char buf[4096], kb[40];
    meta__kernel_boot(kb, sizeof kb);
    int n = snprintf(buf, sizeof buf,
                     META_MAGIC "\nboot %" PRId64 "\nacked %" PRId64 "\nnext %" PRId64
                                "\ntorn %" PRId64 "\ndropped %" PRId64 "\nlost_total %" PRId64
                                "\nopen %d\nkernel_boot %s\n",
                     s->boot, s->acked, s->next_seq, s->torn, s->dropped, s->lost_total, open_flag,
                     kb[0] ? kb : "unknown");
    for (size_t i = 0; i < s->nlost && n > 0 && (size_t)n < sizeof buf; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "lost %" PRId64 " %" PRId64 "\n",
                      s->lost[i].from, s->lost[i].to);
    if (n < 0 || (size_t)n >= sizeof buf)
        return OT_ERR_TOOBIG;
    enum ot_err rc = durable__write(s->dirfd, s->dir, "meta", buf, (size_t)n);
    if (rc == OT_OK)
        s->meta_dirty = 0;
    return rc;
}

int meta__read(struct spool *s, struct spool_meta *m)
{
    char path[600], line[128];
    memset(m, 0, sizeof *m);
    m->open = 1; /* a meta without the flag: assume the worst */
    snprintf(path, sizeof path, "%s/meta", s->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 1 : -1;
    int rc = 0, first = 1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (first) {
            first = 0;
            if (strcmp(line, META_MAGIC)) {
                rc = -1;
                break;
            }
            continue;
        }
        char *key = line, *v1 = strchr(line, ' ');
        if (!v1) {
            rc = -1;
            break;
        }
        *v1++ = '\0';
        if (!strcmp(key, "kernel_boot")) {
            snprintf(m->kernel_boot, sizeof m->kernel_boot, "%s", v1);
            continue;
        }
        char *v2 = strchr(v1, ' ');
        if (v2)
            *v2++ = '\0';
        int64_t a = 0, b = 0;
        if (ot_parse_i64(v1, 0, OT_SEQ_MAX, &a) || (v2 && ot_parse_i64(v2, 0, OT_SEQ_MAX, &b))) {
            rc = -1;
            break;
        }
        if (!strcmp(key, "boot"))
            s->boot = a;
        else if (!strcmp(key, "acked"))
            s->acked = a;
        else if (!strcmp(key, "next"))
            m->next = a;
        else if (!strcmp(key, "torn"))
            s->torn = a;
        else if (!strcmp(key, "dropped"))
            s->dropped = a;
        else if (!strcmp(key, "lost_total"))
            s->lost_total = a;
        else if (!strcmp(key, "open"))
            m->open = a != 0;
        else if (!strcmp(key, "lost") && v2 && a <= b)
            lost__add(s, a, b);
    }
    if (first)
        rc = -1;
    fclose(f);
    return rc;
}
