/* The per-handle log hook: bounded formatting on the stack. */
#include <stdarg.h>
#include <stdio.h>

#include "core/internal.h"

void hre__log(hre_log_fn fn, void *user_data, int level, const char *fmt, ...)
{
    char msg[HRE__LOG_MAX];
    va_list ap;
    if (!fn) return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fn(user_data, level, msg);
}
