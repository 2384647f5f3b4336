/* wake.c - the main loop sleeps on one condition variable; poll threads and
 * Paho's callback thread signal it when they hand over work. A signal that
 * arrives while the loop is busy is remembered (pending flag). */
#include <errno.h>
#include <time.h>

#include "gateway.h"

static pthread_mutex_t wake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cv;
static pthread_once_t wake_once = PTHREAD_ONCE_INIT;
static int wake_pending;

static void wake_init(void)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&wake_cv, &a);
    pthread_condattr_destroy(&a);
}

void wake__signal(void)
{
    pthread_once(&wake_once, wake_init);
    pthread_mutex_lock(&wake_mu);
    wake_pending = 1;
    pthread_cond_signal(&wake_cv);
    pthread_mutex_unlock(&wake_mu);
}

void wake__wait(int64_t ms)
{
    pthread_once(&wake_once, wake_init);
    if (ms <= 0)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&wake_mu);
    while (!wake_pending) {
        if (pthread_cond_timedwait(&wake_cv, &wake_mu, &ts) == ETIMEDOUT)
            break;
    }
    wake_pending = 0;
    pthread_mutex_unlock(&wake_mu);
}
