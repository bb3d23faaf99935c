/* response.c: the responses the worker builds: status lines, headers,
 * bodies and their Content-Length. */
#include "unit.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- responses -------------------------------------------------------- */

/* The value of header name in the response in b, or "" (a static copy). */
static const char *header(const struct buf *b, const char *name)
{
    static char v[200];
    char key[64];
    const char *p, *end;
    size_t n;

    snprintf(key, sizeof(key), "\r\n%s: ", name);
    v[0] = '\0';
    p = memmem(b->p, b->len, key, strlen(key));
    end = memmem(b->p, b->len, "\r\n\r\n", 4);
    if (p == NULL || end == NULL || p > end)
        return v;
    p += strlen(key);
    n = strcspn(p, "\r");
    if (n >= sizeof(v))
        n = sizeof(v) - 1;
    memcpy(v, p, n);
    v[n] = '\0';
    return v;
}

/* The body of the response in b, NUL-terminated (a static copy). */
static const char *body(const struct buf *b)
{
    static char s[400];
    const char *end = memmem(b->p, b->len, "\r\n\r\n", 4);
    size_t n;

    if (end == NULL)
        return "";
    end += 4;
    n = (size_t)(b->p + b->len - end);
    if (n >= sizeof(s))
        n = sizeof(s) - 1;
    memcpy(s, end, n);
    s[n] = '\0';
    return s;
}

/* Content-Length says exactly how many bytes follow the head. */
static int length_ok(const struct buf *b)
{
    const char *end = memmem(b->p, b->len, "\r\n\r\n", 4);
    long cl = atol(header(b, "Content-Length"));

    return end != NULL && header(b, "Content-Length")[0] != '\0' &&
           cl == (long)(b->p + b->len - (end + 4));
}

static void reset(struct buf *b)
{
    b->len = 0;
}

/* A hit's body for a name of n bytes, built in a child: returns the
 * child's wait status, and what it wrote on stderr in log. */
static int hit_in_child(size_t n, char *log, size_t loglen)
{
    char name[200];
    int fds[2], st;
    ssize_t got;
    pid_t pid;

    memset(name, 'n', n);
    name[n] = '\0';
    if (pipe(fds) < 0 || (pid = fork()) < 0)
        return -1;
    if (pid == 0) {
        struct buf b = {0};

        dup2(fds[1], STDERR_FILENO);
        http_reply_hit(&b, &req, name, -1234567890123456789LL);
        _exit(b.len > 0 ? 0 : 1);
    }
    close(fds[1]);
    got = read(fds[0], log, loglen - 1);
    log[got > 0 ? got : 0] = '\0';
    log[strcspn(log, "\n")] = '\0';
    close(fds[0]);
    waitpid(pid, &st, 0);
    return st;
}

/* A worker name too long for the body's room is a broken invariant: the
 * assert fires before a byte is written, not a stack buffer realloc'd. */
static void test_name_bound(void)
{
    char log[512];
    int st;

    feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n", NULL);
    st = hit_in_child(64, log, sizeof(log));
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
       "hit: a 64-byte name and the longest number fit");
    st = hit_in_child(65, log, sizeof(log));
    ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT &&
           strstr(log, "event=assert") != NULL,
       "hit: a 65-byte name is an assert, before anything is written (%s)",
       log);
}

void test_responses(void)
{
    struct buf b = {0};

    feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n", NULL);
    buf_put(&b, "", 0);
    http_reply_hit(&b, &req, "w7", 42);
    buf_put(&b, "", 1); /* a NUL after it, for the string functions */
    b.len--;
    ok(strncmp(b.p, "HTTP/1.1 200 OK\r\n", 17) == 0, "hit: status line");
    ok(length_ok(&b), "hit: Content-Length is the body's length (%s)",
       header(&b, "Content-Length"));
    is_str(header(&b, "X-Hits"), "42", "hit: X-Hits");
    is_str(header(&b, "X-Worker"), "w7", "hit: X-Worker");
    is_str(body(&b), "Hello World! I am w7, seen 42 times.\n", "hit: body");
    ok(strncmp(header(&b, "Content-Type"), "text/plain", 10) == 0,
       "hit: text/plain");
    ok(strstr(header(&b, "Date"), " GMT") != NULL &&
           strstr(header(&b, "Date"), "1970") == NULL,
       "hit: Date is now (%s)", header(&b, "Date"));
    is_str(header(&b, "Connection"), "",
           "hit: no Connection header on 1.1 "
           "keep-alive");

    reset(&b);
    feed("GET / HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n"
         "Connection: close\r\n\r\n",
         NULL);
    http_reply_hit(&b, &req, "w-2", 1234567890123LL);
    buf_put(&b, "", 1);
    b.len--;
    is_str(body(&b), "{\"worker\":\"w-2\",\"hits\":1234567890123}\n",
           "hit: JSON body");
    is_str(header(&b, "Content-Type"), "application/json", "hit: JSON type");
    ok(length_ok(&b), "hit: JSON Content-Length right");
    is_str(header(&b, "Connection"), "close",
           "hit: Connection: close when "
           "not keep-alive");

    reset(&b);
    feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", NULL);
    http_reply_hit(&b, &req, "w1", 1);
    buf_put(&b, "", 1);
    b.len--;
    is_str(header(&b, "Connection"), "keep-alive",
           "hit: HTTP/1.0 "
           "keep-alive said");

    reset(&b);
    feed("GET / HTTP/1.0\r\n\r\n", NULL);
    http_reply_status(&b, &req, 200);
    buf_put(&b, "", 1);
    b.len--;
    is_str(header(&b, "Connection"), "close", "HTTP/1.0: Connection: close");

    reset(&b);
    feed("POST / HTTP/1.1\r\nHost: x\r\n\r\n", NULL);
    http_reply_status(&b, &req, 405);
    buf_put(&b, "", 1);
    b.len--;
    ok(strncmp(b.p, "HTTP/1.1 405 Method Not Allowed\r\n", 33) == 0,
       "405: status line");
    is_str(header(&b, "Allow"), "GET", "405: Allow: GET");
    ok(length_ok(&b), "405: Content-Length right");
    is_str(header(&b, "Retry-After"), "", "405: no Retry-After");

    reset(&b);
    feed("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", NULL);
    http_reply_status(&b, &req, 503);
    buf_put(&b, "", 1);
    b.len--;
    ok(strncmp(b.p, "HTTP/1.1 503 ", 13) == 0, "503: status line");
    is_str(header(&b, "Retry-After"), "1", "503: Retry-After");
    is_str(header(&b, "Allow"), "", "503: no Allow");
    ok(length_ok(&b), "503: Content-Length right");

    reset(&b);
    feed("GARBAGE\r\n\r\n", NULL);
    http_reply_status(&b, &req, req.status);
    buf_put(&b, "", 1);
    b.len--;
    ok(strncmp(b.p, "HTTP/1.1 400 Bad Request\r\n", 26) == 0 &&
           strcmp(header(&b, "Connection"), "close") == 0,
       "400 for garbage says Connection: close");

    reset(&b);
    feed("GET /hits HTTP/1.1\r\nHost: x\r\n\r\n", NULL);
    http_reply_json(&b, &req, "{\"total\":3}", 11);
    buf_put(&b, "", 1);
    b.len--;
    is_str(body(&b), "{\"total\":3}\n", "json: body and newline");
    ok(length_ok(&b), "json: Content-Length right");
    free(b.p);
    test_name_bound();
}
