/* util.c: logging, assertions, allocation, byte buffers, and the token
 * and Host syntax that config and http share. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

int token_ok(const char *s, size_t len)
{
    if (len < 1)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
              c == '-'))
            return 0;
    }
    return 1;
}

/* True when s[0..len) is a Host field value: uri-host [ ":" port ]
 * (RFC 9112 3.2, RFC 3986 3.2.2): an IP-literal in brackets, or a
 * reg-name of unreserved, sub-delims and %XX (IPv4 addresses are
 * reg-names here), then an optional port of digits. The host may not be
 * empty: every target here is an http URI, whose host never is (RFC 9110
 * 4.2.1). */
int host_ok(const char *s, size_t len)
{
    size_t i = 0;

    if (len > 0 && s[0] == '[') {
        for (i = 1; i < len && s[i] != ']'; i++)
            if (!(isxdigit((unsigned char)s[i]) || s[i] == ':' || s[i] == '.' ||
                  s[i] == 'v' || s[i] == 'V'))
                return 0;
        if (i == len || i == 1)
            return 0;
        i++;
    } else {
        if (len == 0 || s[0] == ':')
            return 0;
        for (; i < len && s[i] != ':'; i++) {
            char c = s[i];

            if (c == '%') {
                if (i + 2 >= len || !isxdigit((unsigned char)s[i + 1]) ||
                    !isxdigit((unsigned char)s[i + 2]))
                    return 0;
                i += 2;
            } else if (!isalnum((unsigned char)c) &&
                       strchr("-._~!$&'()*+,;=", c) == NULL) {
                return 0;
            }
        }
    }
    if (i < len && s[i++] != ':')
        return 0;
    for (; i < len; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

void *xmalloc(size_t size)
{
    void *p = malloc(size);

    if (p == NULL) {
        log_line("level=fatal event=oom size=%zu", size);
        abort();
    }
    return p;
}

void *xrealloc(void *p, size_t size)
{
    p = realloc(p, size);
    if (p == NULL) {
        log_line("level=fatal event=oom size=%zu", size);
        abort();
    }
    return p;
}

void buf_put(struct buf *b, const char *s, size_t len)
{
    if (len == 0)
        return;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 256;

        while (cap < b->len + len)
            cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, len);
    b->len += len;
}

void buf_puts(struct buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

void buf_putll(struct buf *b, long long v)
{
    char tmp[24];
    char *p = tmp + sizeof(tmp);
    unsigned long long u =
        v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    buf_put(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

int send_some(int fd, const char *b, size_t len, size_t *off)
{
    while (*off < len) {
        ssize_t n = send(fd, b + *off, len - *off, MSG_NOSIGNAL);

        if (n > 0)
            *off += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        else
            return -1;
    }
    return 1;
}
