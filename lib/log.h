/* log.h: logging, dying and assertions, with the exit codes every program
 * here shares (the worker, hitload, netdelay). */
#ifndef LIB_LOG_H
#define LIB_LOG_H

/* The exit codes the programs share, after tipidee's. Each program may
 * add its own above 111 (the worker's are in crashonly/constants.h), and
 * its README lists them. */
enum exit_code {
    EXIT_USAGE = 100,  /* bad arguments */
    EXIT_CONFIG = 102, /* a bad value in the environment or arguments */
    EXIT_SYSCALL = 111 /* a system call failed (bind, socket, open...) */
};

/* One line on stderr, logfmt-style, written with a single write(2); errno
 * is left as it was. */
void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Log one line, then _exit(code): nothing else runs, nothing is flushed. */
void die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* A broken invariant is a bug: log file:line:expression and abort(), in
 * release builds too (redis's serverAssert). */
#define co_assert(e) ((e) ? (void)0 : co_assert_fail(#e, __FILE__, __LINE__))
void co_assert_fail(const char *expr, const char *file, int line)
    __attribute__((noreturn));

#endif
