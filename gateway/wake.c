/* wake.c - the main loop sleeps in poll(2) on one eventfd (and the status
 * socket); poll threads and Paho's callback thread wake it by writing to
 * the eventfd. A wake that arrives while the loop is busy is remembered
 * (the eventfd counter), and one that is already pending costs no syscall
 * (an atomic flag), so a burst of hand-overs wakes the loop once. */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "gateway.h"
#include "ot_log.h"

static int wake_fd = -1;
static atomic_int wake_pending;

enum ot_err wake__init(void)
{
    if (wake_fd >= 0)
        return OT_OK;
    wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd < 0) {
        ot_error("eventfd failed error=\"%s\"", strerror(errno));
        return OT_ERR_IO;
    }
    return OT_OK;
}

void wake__signal(void)
{
    if (wake_fd < 0 || atomic_exchange(&wake_pending, 1))
        return; /* already pending: the loop will look anyway */
    uint64_t one = 1;
    while (write(wake_fd, &one, sizeof one) < 0 && errno == EINTR)
        ;
}

int wake__wait(int64_t ms, int fd)
{
    if (ms < 0)
        ms = 0;
    if (ms > 60000)
        ms = 60000;
    struct pollfd p[2] = {{.fd = wake_fd, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
    int n = poll(p, fd >= 0 ? 2 : 1, (int)ms);
    /* cleared before the caller looks at what was handed over: a wake that
     * comes after this writes the eventfd again */
    atomic_store(&wake_pending, 0);
    if (n > 0 && (p[0].revents & POLLIN)) {
        uint64_t v;
        while (read(wake_fd, &v, sizeof v) < 0 && errno == EINTR)
            ;
    }
    return n > 0 && fd >= 0 && (p[1].revents & POLLIN);
}
