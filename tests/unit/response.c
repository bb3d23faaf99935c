/* response.c: the responses the worker builds: status lines, headers,
 * bodies and their Content-Length. */
#include "unit.h"

#include <ctype.h>
#include <strings.h>
#include <stdlib.h>

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

/* A NUL after the response, not counted in its length, for the string
 * functions. */
static void terminate(struct buf *b)
{
    buf_put(b, "", 1);
    b->len--;
}

/* The hit's body is counted, then written, into the response's own
 * buffer: any name and the longest number fit, and Content-Length says
 * their length (no room on the stack to outgrow). */
static void test_name_bound(void)
{
    char name[201];
    struct buf b = BUF_EMPTY;

    memset(name, 'n', 200);
    name[200] = '\0';
    for (int json = 0; json <= 1; json++) {
        feed(json ? "GET / HTTP/1.1\r\nHost: x\r\nAccept: application/json"
                    "\r\n\r\n"
                  : "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
             NULL);
        reset(&b);
        reply_hit(&b, req, name, -1234567890123456789LL);
        terminate(&b);
        ok(length_ok(&b) && strstr(b.p, "-1234567890123456789") != NULL,
           "hit: a 200-byte name and the longest number, %s: "
           "Content-Length right",
           json ? "JSON" : "text");
    }
}

/* The head of the response in b is what RFC 9112 and 9110 let a server
 * send: a status line "HTTP/1.1 NNN reason" (the space there even with no
 * reason, 9112 4), then lines "name: value" with a token name, no bare
 * CR or LF, none folded (9112 2.2, 5.2), no name twice (9110 5.3), no
 * Transfer-Encoding (9112 6.1), a Date in IMF-fixdate (9110 5.6.7,
 * 6.6.1). Returns what is wrong, or NULL. */
static const char *head_wrong(const struct buf *b)
{
    const char *p = b->p, *end = memmem(b->p, b->len, "\r\n\r\n", 4);
    char names[32][40];
    int n = 0, date = 0;

    if (end == NULL)
        return "no end of head";
    for (const char *q = p; q < end + 4; q++)
        if ((*q == '\r' && q[1] != '\n') ||
            (*q == '\n' && (q == p || q[-1] != '\r')))
            return "a bare CR or LF";
    if (!(b->len > 13 && memcmp(p, "HTTP/1.1 ", 9) == 0 &&
          isdigit((unsigned char)p[9]) && isdigit((unsigned char)p[10]) &&
          isdigit((unsigned char)p[11]) && p[12] == ' '))
        return "a bad status line";
    for (p = strstr(p, "\r\n") + 2; p < end + 2; p = strstr(p, "\r\n") + 2) {
        size_t len = (size_t)(strstr(p, "\r\n") - p), name = strcspn(p, ":");

        if (len == 0)
            break;
        if (p[0] == ' ' || p[0] == '\t')
            return "a folded line";
        if (name >= len || name >= sizeof(names[0]) || p[name + 1] != ' ')
            return "a line that is not 'name: value'";
        for (size_t i = 0; i < name; i++)
            if (!isalnum((unsigned char)p[i]) && p[i] != '-')
                return "a name that is no token";
        for (int i = 0; i < n; i++)
            if (strncasecmp(names[i], p, name) == 0 && names[i][name] == '\0')
                return "a name twice";
        if (n < 32) {
            memcpy(names[n], p, name);
            names[n++][name] = '\0';
        }
        if (strncasecmp(p, "Transfer-Encoding:", 18) == 0)
            return "a Transfer-Encoding";
        if (strncasecmp(p, "Date: ", 6) == 0) {
            char wd[4], mon[4];
            int d, y, hh, mm, ss, used = 0;

            if (len != 35 ||
                sscanf(p + 6, "%3[A-Za-z], %2d %3s %4d %2d:%2d:%2d GMT%n", wd,
                       &d, mon, &y, &hh, &mm, &ss, &used) != 7 ||
                used != 29 || p[9] != ',')
                return "a Date that is no IMF-fixdate";
            date = 1;
        }
    }
    return date ? NULL : "no Date";
}

/* Every status the worker sends, for each kind of request, is well-formed. */
static void test_heads(void)
{
    static const int statuses[] = {200, 304, 400, 404, 405, 412, 413,
                                   414, 421, 431, 501, 503, 505};
    static const char *reqs[] = {
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET / HTTP/1.0\r\n\r\n",
        "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"};
    struct buf b = {0};
    const char *wrong = NULL;
    int count = 0;

    for (size_t r = 0; r < sizeof(reqs) / sizeof(reqs[0]); r++) {
        for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
            feed(reqs[r], NULL);
            reset(&b);
            reply_status(&b, req, statuses[i]);
            terminate(&b);
            if ((wrong = head_wrong(&b)) != NULL)
                break;
            count++;
        }
        reset(&b);
        reply_hit(&b, req, "w1", 7);
        reply_json(&b, req, "{}", 2);
        if (wrong == NULL && (wrong = head_wrong(&b)) == NULL)
            count++;
        if (wrong != NULL)
            break;
    }
    ok(wrong == NULL, "every response head is well-formed (%d of them)%s%s",
       count, wrong ? ": " : "", wrong ? wrong : "");
    reset(&b);
    reply_continue(&b);
    ok(b.len == 25 && memcmp(b.p, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0,
       "100 Continue: a status line and nothing else");
    feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n", NULL);
    reset(&b);
    reply_status(&b, req, 304);
    terminate(&b);
    ok(strncmp(b.p, "HTTP/1.1 304 Not Modified\r\n", 27) == 0 &&
           header(&b, "Content-Length")[0] == '\0' &&
           header(&b, "Content-Type")[0] == '\0' &&
           strcmp(header(&b, "Cache-Control"), "no-store") == 0 &&
           body(&b)[0] == '\0',
       "304: no content, no Content-Length or Content-Type, its Cache-Control");
    free(b.p);
}

/* The hit's answers: text or JSON, and what they say of the connection. */
static void test_hits(struct buf *b)
{
    feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n", NULL);
    reply_hit(b, req, "w7", 42);
    terminate(b);
    ok(strncmp(b->p, "HTTP/1.1 200 OK\r\n", 17) == 0, "hit: status line");
    ok(length_ok(b), "hit: Content-Length is the body's length (%s)",
       header(b, "Content-Length"));
    is_str(header(b, "X-Hits"), "42", "hit: X-Hits");
    is_str(header(b, "X-Worker"), "w7", "hit: X-Worker");
    is_str(body(b), "Hello World! I am w7, seen 42 times.\n", "hit: body");
    ok(strncmp(header(b, "Content-Type"), "text/plain", 10) == 0,
       "hit: text/plain");
    ok(strstr(header(b, "Date"), " GMT") != NULL &&
           strstr(header(b, "Date"), "1970") == NULL,
       "hit: Date is now (%s)", header(b, "Date"));
    is_str(header(b, "Connection"), "",
           "hit: no Connection header on 1.1 "
           "keep-alive");

    reset(b);
    feed("GET / HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n"
         "Connection: close\r\n\r\n",
         NULL);
    reply_hit(b, req, "w-2", 1234567890123LL);
    terminate(b);
    is_str(body(b), "{\"worker\":\"w-2\",\"hits\":1234567890123}\n",
           "hit: JSON body");
    is_str(header(b, "Content-Type"), "application/json", "hit: JSON type");
    ok(length_ok(b), "hit: JSON Content-Length right");
    is_str(header(b, "Connection"), "close",
           "hit: Connection: close when "
           "not keep-alive");

    reset(b);
    feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", NULL);
    reply_hit(b, req, "w1", 1);
    terminate(b);
    is_str(header(b, "Connection"), "keep-alive",
           "hit: HTTP/1.0 "
           "keep-alive said");
}

/* The answers with a status and no count: 200, 405, 503, 400; and the
 * totals' JSON. */
static void test_statuses(struct buf *b)
{
    reset(b);
    feed("GET / HTTP/1.0\r\n\r\n", NULL);
    reply_status(b, req, 200);
    terminate(b);
    is_str(header(b, "Connection"), "close", "HTTP/1.0: Connection: close");

    reset(b);
    feed("POST / HTTP/1.1\r\nHost: x\r\n\r\n", NULL);
    reply_status(b, req, 405);
    terminate(b);
    ok(strncmp(b->p, "HTTP/1.1 405 Method Not Allowed\r\n", 33) == 0,
       "405: status line");
    is_str(header(b, "Allow"), "GET", "405: Allow: GET");
    ok(length_ok(b), "405: Content-Length right");
    is_str(header(b, "Retry-After"), "", "405: no Retry-After");

    reset(b);
    feed("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", NULL);
    reply_status(b, req, 503);
    terminate(b);
    ok(strncmp(b->p, "HTTP/1.1 503 ", 13) == 0, "503: status line");
    is_str(header(b, "Retry-After"), "1", "503: Retry-After");
    is_str(header(b, "Allow"), "", "503: no Allow");
    ok(length_ok(b), "503: Content-Length right");

    reset(b);
    feed("GARBAGE\r\n\r\n", NULL);
    reply_status(b, req, req->status);
    terminate(b);
    ok(strncmp(b->p, "HTTP/1.1 400 Bad Request\r\n", 26) == 0 &&
           strcmp(header(b, "Connection"), "close") == 0,
       "400 for garbage says Connection: close");

    reset(b);
    feed("GET /hits HTTP/1.1\r\nHost: x\r\n\r\n", NULL);
    reply_json(b, req, "{\"total\":3}", 11);
    terminate(b);
    is_str(body(b), "{\"total\":3}\n", "json: body and newline");
    ok(length_ok(b), "json: Content-Length right");
}

void test_responses(void)
{
    struct buf b = {0};

    buf_put(&b, "", 0);
    test_hits(&b);
    test_statuses(&b);
    free(b.p);
    test_name_bound();
    test_heads();
}
