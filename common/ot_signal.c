#include "ot_signal.h"

#include <string.h>

volatile sig_atomic_t ot_signal_stop = 0;

static void on_stop(int sig)
{
    (void)sig;
    ot_signal_stop = 1;
}

void ot_signal_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}
