/* log.c: one line a write(2) on stderr; dying and failed assertions. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void vlog(const char *fmt, va_list ap)
{
    char line[1024];
    int saved = errno;
    int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);

    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, (size_t)n) < 0) {
        /* Nowhere left to say it. */
    }
    errno = saved;
}

void log_line(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

void die(int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
    _exit(code);
}

void co_assert_fail(const char *expr, const char *file, int line)
{
    log_line("level=fatal event=assert file=%s line=%d expr=\"%s\"", file, line,
             expr);
    abort();
}
