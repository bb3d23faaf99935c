/* util.h: exit codes, logging, assertions and allocation for the worker. */
#ifndef CRASHONLY_UTIL_H
#define CRASHONLY_UTIL_H

#include <stddef.h>

#define CRASHONLY_VERSION "0.1.0"

/* The worker never exits on purpose with 0: every exit is one of these, and
 * the supervisor restarts it. README.md lists them for operators. */
enum exit_code {
    EXIT_USAGE = 100,        /* arguments given: the worker takes none */
    EXIT_CONFIG = 102,       /* a bad value in the environment */
    EXIT_SYSCALL = 111,      /* a system call failed at start-up (bind...) */
    EXIT_REDIS_LOST = 112,   /* Redis could not be reached, or went away */
    EXIT_REDIS_SLOW = 113,   /* Redis did not answer within its timeout */
    EXIT_REDIS_REFUSED = 114 /* Redis refused AUTH, SELECT or FUNCTION LOAD */
};

/* One line on stderr, logfmt-style, written with a single write(2). */
void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Log one line, then _exit(code): nothing else runs, nothing is flushed. */
void die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* A broken invariant is a bug: log file:line:expression and abort(), in
 * release builds too (redis's serverAssert). */
#define co_assert(e) ((e) ? (void)0 : co_assert_fail(#e, __FILE__, __LINE__))
void co_assert_fail(const char *expr, const char *file, int line)
    __attribute__((noreturn));

/* True when s[0..len) is a token of ids and names: 1 or more of
 * [A-Za-z0-9._:-]. Callers bound the length. */
int token_ok(const char *s, size_t len);

/* True when s[0..len) is a Host field value: uri-host [ ":" port ]
 * (RFC 9112 3.2): an IP-literal in brackets or a reg-name, then an
 * optional port; the host not empty (an http URI's never is). */
int host_ok(const char *s, size_t len);

/* Allocation failure aborts, so callers never test for NULL. */
void *xmalloc(size_t size);
void *xrealloc(void *p, size_t size);

/* Send b[*off..len) on a non-blocking socket, advancing *off. Returns 1
 * when all is sent, 0 when the socket is full (wait for EV_WRITE), or -1
 * on an error, with errno set. Never raises SIGPIPE. */
int send_some(int fd, const char *b, size_t len, size_t *off);

/* A growable byte buffer; the owner frees p (never at exit). */
struct buf {
    char *p;
    size_t len; /* bytes in use */
    size_t cap; /* bytes allocated */
};
void buf_put(struct buf *b, const char *s, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putll(struct buf *b, long long v);

#endif
