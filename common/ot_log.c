#include "ot_log.h"
#include "ot_time.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char log_component[32] = "organtrack";
static enum ot_log_level log_min = OT_LOG_INFO;

void ot_log_init(const char *component, enum ot_log_level min_level)
{
    snprintf(log_component, sizeof log_component, "%s", component ? component : "organtrack");
    log_min = min_level;
}

void ot_log_set_level(enum ot_log_level min_level)
{
    log_min = min_level;
}

int ot_log_level_parse(const char *s)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

void ot_log(enum ot_log_level level, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    char line[2048];
    char ts[32];
    if (level < log_min)
        return;
    ot_time_format_iso(ot_time_now_ms(), ts, sizeof ts);
    int n = snprintf(line, sizeof line, "%s %s %s ", ts, names[level], log_component);
    if (n < 0 || (size_t)n >= sizeof line)
        return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    /* one event, one line: fold any newline a caller let through */
    for (size_t i = (size_t)n; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
