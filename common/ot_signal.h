/* ot_signal.h - SIGINT/SIGTERM only set a flag; main loops poll it. */
#ifndef OT_SIGNAL_H
#define OT_SIGNAL_H

#include <signal.h>

extern volatile sig_atomic_t ot_signal_stop;

/* Installs SIGINT/SIGTERM handlers and ignores SIGPIPE. */
void ot_signal_install(void);

#endif
