/* request.c: request parsing and routing: routes and methods, ids in
 * headers, framing (pipelining, chunks, byte by byte) and the limits. */
#include "unit.h"

#include <stdlib.h>

/* Parse one complete request; returns its status per route_plan (or
 * r->status when BAD, or -1 when the parser wants more). */
static int route(const char *s, enum route_action *act)
{
    int status;
    enum http_result r = feed(s, NULL);

    *act = ROUTE_REPLY;
    if (r == HTTP_BAD)
        return req->status;
    if (r != HTTP_DONE)
        return -1;
    *act = route_plan(req, &status);
    return status;
}

void test_routes(void)
{
    enum route_action a;
    char big[300];

    is_int(route("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &a), 200, "GET / 200");
    is_int(a, ROUTE_HIT, "GET / counts a hit");
    ok(req->id_len == 0 && !req->json && req->keepalive, "GET /: no id, text, "
                                                      "keep-alive");
    route("GET /hits HTTP/1.1\r\nHost: x\r\n\r\n", &a);
    is_int(a, ROUTE_HITS, "GET /hits reads totals");
    is_int(route("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", &a), 200,
           "GET /healthz");
    is_int(a, ROUTE_REPLY, "/healthz answers at once");
    route("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", &a);
    is_int(a, ROUTE_READY, "GET /readyz asks Redis");
    route("GET /?a=1&b=/hits HTTP/1.1\r\nHost: x\r\n\r\n", &a);
    is_int(a, ROUTE_HIT, "query string ignored on /");
    route("GET /hits?x HTTP/1.1\r\nHost: x\r\n\r\n", &a);
    is_int(a, ROUTE_HITS, "query string ignored on /hits");
    route("GET /#frag HTTP/1.1\r\nHost: x\r\n\r\n", &a);
    is_int(a, ROUTE_HIT, "fragment ignored");
    route("GET http://example.com:8080/hits?x HTTP/1.1\r\nHost: x\r\n\r\n", &a);
    is_int(a, ROUTE_HITS, "absolute-form: the path after the authority");
    route("GET http://example.com HTTP/1.1\r\nHost: x\r\n\r\n", &a);
    is_int(a, ROUTE_HIT, "absolute-form with no path: /");
    route("GET http://h?q HTTP/1.1\r\nHost: x\r\n\r\n", &a);
    is_int(a, ROUTE_HIT, "absolute-form with a query and no path: /");
    is_int(route("GET http:/hits HTTP/1.1\r\nHost: x\r\n\r\n", &a), 400,
           "a broken absolute URL is bad HTTP");
    is_int(route("GET * HTTP/1.1\r\nHost: x\r\n\r\n", &a), 404, "GET * 404");
    is_int(route("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", &a), 404, "404");
    is_int(a, ROUTE_REPLY, "404 answered at once");
    is_int(route("GET /hitsx HTTP/1.1\r\nHost: x\r\n\r\n", &a), 404,
           "/hitsx 404");
    is_int(route("GET /hit HTTP/1.1\r\nHost: x\r\n\r\n", &a), 404, "/hit 404");
    is_int(route("GET // HTTP/1.1\r\nHost: x\r\n\r\n", &a), 404, "// 404");
    memset(big, 'a', sizeof(big));
    memcpy(big, "GET /", 5);
    strcpy(big + 200, " HTTP/1.1\r\nHost: x\r\n\r\n");
    is_int(route(big, &a), 404, "long path 404");
    is_int(route("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", &a),
           405, "POST / 405");
    is_int(route("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", &a), 405, "HEAD / 405");
    is_int(
        route("POST /hits HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab",
              &a),
        405, "POST /hits 405");
    is_int(route("DELETE /readyz HTTP/1.1\r\nHost: x\r\n\r\n", &a), 405,
           "DELETE /readyz 405");
    is_int(route("PUT /nope HTTP/1.1\r\nHost: x\r\n\r\n", &a), 404,
           "PUT /nope 404");
}

void test_ids_in_requests(void)
{
    enum route_action a;
    char s[400], id[200];

    route("GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: r-1\r\n\r\n", &a);
    ok(a == ROUTE_HIT && strcmp(req->id, "r-1") == 0 && req->id_len == 3,
       "X-Request-Id taken");
    route("GET / HTTP/1.1\r\nHost: x\r\nidempotency-KEY: k.1\r\n\r\n", &a);
    ok(a == ROUTE_HIT && strcmp(req->id, "k.1") == 0, "Idempotency-Key taken, "
                                                   "any case");
    route("GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: r-1\r\nIdempotency-Key: "
          "k-2\r\n\r\n",
          &a);
    ok(a == ROUTE_HIT && strcmp(req->id, "k-2") == 0,
       "Idempotency-Key beats an earlier X-Request-Id");
    route("GET / HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k-2\r\nX-Request-Id: "
          "r-1\r\n\r\n",
          &a);
    ok(a == ROUTE_HIT && strcmp(req->id, "k-2") == 0,
       "Idempotency-Key beats a later X-Request-Id");
    is_int(
        route("GET / HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a b\r\n\r\n", &a),
        400, "invalid id 400");
    is_int(a, ROUTE_REPLY, "invalid id counts nothing");
    is_int(route("GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: a/b\r\n\r\n", &a),
           400, "invalid X-Request-Id 400");
    is_int(route("GET / HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a\r\n"
                 "Idempotency-Key: a\r\n\r\n",
                 &a),
           400, "repeated Idempotency-Key 400");
    is_int(route("GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: "
                 "a\r\nX-Request-Id: b\r\n\r\n",
                 &a),
           400, "repeated X-Request-Id 400");
    is_int(route("GET / HTTP/1.1\r\nHost: x\r\nIdempotency-Key:\r\n\r\n", &a),
           400, "empty id 400");
    is_int(
        route("GET / HTTP/1.1\r\nHost: x\r\nIdempotency-Key:   \r\n\r\n", &a),
        400, "blank id 400");
    memset(id, 'i', 129);
    id[129] = '\0';
    snprintf(s, sizeof(s),
             "GET / HTTP/1.1\r\nHost: x\r\nIdempotency-Key: %s\r\n\r\n", id);
    is_int(route(s, &a), 400, "129-char id 400");
    id[128] = '\0';
    snprintf(s, sizeof(s),
             "GET / HTTP/1.1\r\nHost: x\r\nIdempotency-Key: %s\r\n\r\n", id);
    is_int(route(s, &a), 200, "128-char id 200");
    ok(a == ROUTE_HIT && req->id_len == 128 && strcmp(req->id, id) == 0,
       "128-char id kept whole");
    memset(id, 'v', 199);
    id[199] = '\0';
    snprintf(s, sizeof(s),
             "GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: %s\r\n\r\n", id);
    is_int(route(s, &a), 400, "199-char id 400");

    route("GET / HTTP/1.1\r\nHost: x\r\nAccept: text/html, "
          "application/json;q=0.9\r\n"
          "\r\n",
          &a);
    ok(req->json, "Accept: application/json sets json");
    route("GET / HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\n\r\n", &a);
    ok(!req->json, "Accept: text/plain does not");
}

/* Feed s one byte per call; returns the result of the last call and
 * how many bytes were fed. */
static enum http_result feed_bytes(const char *s, size_t *fed)
{
    enum http_result r = HTTP_MORE;
    size_t i, used;

    http_init(&parser);
    for (i = 0; s[i] != '\0' && r == HTTP_MORE; i++)
        r = http_feed(&parser, s + i, 1, &used);
    *fed = i;
    return r;
}

void test_framing(void)
{
    const char *one = "GET /hits?q=1 HTTP/1.1\r\nHost: h\r\n"
                      "X-Request-Id: r.9\r\nAccept: application/json\r\n"
                      "Idempotency-Key: k:9\r\n\r\n";
    const char *two =
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    enum http_result r;
    size_t used, fed;
    int status;

    r = feed_bytes(one, &fed);
    is_int(r, HTTP_DONE, "byte by byte: done");
    is_int(fed, strlen(one), "byte by byte: done at the last byte");
    ok(route_plan(req, &status) == ROUTE_HITS && req->json &&
           strcmp(req->id, "k:9") == 0 && req->keepalive,
       "byte by byte: same request as in one piece");
    r = feed_bytes("GET / HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a b\r\n\r\n",
                   &fed);
    ok(r == HTTP_DONE && route_plan(req, &status) == ROUTE_REPLY &&
           status == 400,
       "byte by byte: invalid id still 400");

    r = feed(two, &used);
    is_int(r, HTTP_DONE, "pipelined: first done");
    ok(used > 0 && used < strlen(two), "pipelined: used < len");
    is_int(used, strlen("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
           "pipelined: used ends at the first request");
    ok(route_plan(req, &status) == ROUTE_REPLY && status == 200 &&
           req->keepalive,
       "pipelined: first is /healthz, keep-alive");
    http_next(&parser);
    {
        size_t used2;
        r = http_feed(&parser, two + used, strlen(two) - used, &used2);
        is_int(r, HTTP_DONE, "pipelined: second done");
        is_int(used2, strlen(two) - used, "pipelined: second used the rest");
    }
    ok(route_plan(req, &status) == ROUTE_READY && !req->keepalive,
       "pipelined: second is /readyz, Connection: close");

    feed("GET / HTTP/1.0\r\n\r\n", NULL);
    ok(req->http10 && !req->keepalive, "HTTP/1.0: no keep-alive by default");
    feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", NULL);
    ok(req->http10 && req->keepalive, "HTTP/1.0: keep-alive when asked");
    feed("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", NULL);
    ok(!req->http10 && !req->keepalive, "HTTP/1.1: Connection: close");
    r = feed("GET / HTTP/1.1\r\nHost: a\r\n", &used);
    ok(r == HTTP_MORE && used == strlen("GET / HTTP/1.1\r\nHost: a\r\n"),
       "incomplete request: MORE, all used");
}

/* Write head, n bytes of c, then tail into s; returns s. */
static char *padded(char *s, const char *head, int c, size_t n,
                    const char *tail)
{
    size_t len = strlen(head);

    memcpy(s, head, len);
    memset(s + len, c, n);
    strcpy(s + len + n, tail);
    return s;
}

/* Write a request with Host and n more headers into s; returns s. */
static char *headers(char *s, int n)
{
    size_t len = (size_t)sprintf(s, "GET / HTTP/1.1\r\nHost: x\r\n");

    for (int i = 0; i < n; i++)
        len += (size_t)sprintf(s + len, "X-H%d: v\r\n", i);
    strcpy(s + len, "\r\n");
    return s;
}

/* The request line's and the header section's limits: 414 and 431. */
static void test_head_limits(char *s)
{
    enum http_result r;

    r = feed(padded(s, "GET /", 'u', 5000, " HTTP/1.1\r\nHost: x\r\n\r\n"),
             NULL);
    ok(r == HTTP_BAD && req->status == 414, "oversize URL: 414 (%d)",
       req->status);
    ok(!req->keepalive, "bad request: no keep-alive");
    r = feed(padded(s, "GET /", 'u', 4000, " HTTP/1.1\r\nHost: x\r\n\r\n"),
             NULL);
    ok(r == HTTP_DONE, "4000-byte URL accepted");
    r = feed(padded(s, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ", 'h', 9000,
                    "\r\n\r\n"),
             NULL);
    ok(r == HTTP_BAD && req->status == 431, "oversize headers: 431 (%d)",
       req->status);
    r = feed(headers(s, 64), NULL);
    ok(r == HTTP_BAD && req->status == 431, "65 headers: 431 (%d)",
       req->status);
    ok(feed(headers(s, 63), NULL) == HTTP_DONE,
       "64 headers accepted");
}

/* The body's limit (413), and framing the parser refuses (400, 505). */
static void test_body_limits(char *s)
{
    enum http_result r;

    r = feed("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n", NULL);
    ok(r == HTTP_BAD && req->status == 413, "Content-Length 1025: 413 (%d)",
       req->status);
    r = feed(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n",
        NULL);
    ok(r == HTTP_BAD && req->status == 413, "huge Content-Length: 413 (%d)",
       req->status);
    r = feed(padded(s,
                    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                    "chunked\r\n\r\n800\r\n",
                    'b', 2048, "\r\n0\r\n\r\n"),
             NULL);
    ok(r == HTTP_BAD && req->status == 413, "chunked body 2048: 413 (%d)",
       req->status);
    r = feed("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
             "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
             NULL);
    ok(r == HTTP_BAD && req->status == 400, "CL and TE together: 400 (%d)",
       req->status);
    r = feed("GARBAGE\r\n\r\n", NULL);
    ok(r == HTTP_BAD && req->status == 400, "garbage: 400 (%d)", req->status);
    r = feed("GET / HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", NULL);
    ok(r == HTTP_BAD && req->status == 400, "header without colon: 400 (%d)",
       req->status);
    r = feed(
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2"
        "\r\n\r\n",
        NULL);
    ok(r == HTTP_BAD && req->status == 400, "two Content-Lengths: 400 (%d)",
       req->status);
    r = feed("GET / HTTP/9.1\r\n\r\n", NULL);
    ok(r == HTTP_BAD && (req->status == 505 || req->status == 400),
       "HTTP/9.1: refused (%d)", req->status);
}

void test_limits(void)
{
    char *s = xmalloc(20000);

    test_head_limits(s);
    test_body_limits(s);
    free(s);
}

/* One request's status: route_plan's, or the parser's when it is bad. */
static int status_of(const char *s)
{
    enum route_action a;

    return route(s, &a);
}

/* RFC 9112 3.2: Host, its count and its grammar. */
static void test_host(void)
{
    char s[600];

    is_int(status_of("GET / HTTP/1.1\r\n\r\n"), 400, "1.1 with no Host: 400");
    is_int(status_of("GET / HTTP/1.0\r\n\r\n"), 200,
           "1.0 with no Host: served");
    is_int(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400,
           "two Host lines: 400");
    is_int(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400,
           "two Host lines, the same: 400");
    is_int(status_of("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), 400,
           "two Host lines in 1.0: 400");
    {
        static const char *bad[] = {
            "a b",    "a/b",  "u@h",  "h:8x", "h:80:80", "[::1", "[]",
            "[::1]x", "a%zz", "a\"b", "h?q",  "a,b c",   "",     ":80"};
        static const char *good[] = {
            "h.example", "h.example:8080",  "127.0.0.1:80",
            "[::1]",     "[::1]:80",        "h:",
            "a%41b",     "x_~!$&'()*+,;=y", "trailing-space "};

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n",
                     bad[i]);
            is_int(status_of(s), 400, "Host: %s: 400", bad[i]);
        }
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
            snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n",
                     good[i]);
            is_int(status_of(s), 200, "Host: '%s' is valid", good[i]);
        }
        memset(s, 0, sizeof(s));
        strcpy(s, "GET / HTTP/1.1\r\nHost: ");
        memset(s + strlen(s), 'h', 300);
        strcat(s, "\r\n\r\n");
        is_int(status_of(s), 400, "a Host of 300 bytes: 400");
    }
}

/* RFC 9112 3.2.2: absolute-form is accepted and its host wins over Host;
 * RFC 9110 4.2.1, 4.2.4, 7.4: no empty host, no userinfo, no scheme but
 * http on this plain-TCP server. */
static void test_target(void)
{
    enum route_action a;

    route("GET HTTP://A/hits HTTP/1.1\r\nHost: b\r\n\r\n", &a);
    is_int(a, ROUTE_HITS, "absolute-form: scheme in any case, Host ignored");
    is_int(status_of("GET https://h/ HTTP/1.1\r\nHost: h\r\n\r\n"), 421,
           "an https target over plain TCP: 421");
    is_int(status_of("GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n"), 421,
           "another scheme: 421");
    is_int(status_of("GET http:///hits HTTP/1.1\r\nHost: h\r\n\r\n"), 400,
           "an http target with an empty host: 400");
    is_int(status_of("GET http://:80/ HTTP/1.1\r\nHost: h\r\n\r\n"), 400,
           "an http target with only a port: 400");
    is_int(status_of("GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n"), 400,
           "userinfo in the target: 400");
}

/* RFC 9112 2.2, 2.3: line ends and the version. */
static void test_request_line(void)
{
    is_int(status_of("GET / HTTP/1.1\nHost: x\n\n"), 400,
           "bare LF line ends: 400, not 505");
    is_int(status_of("GET / HTTP/1.1\r\nHost: x\n\r\n"), 400,
           "a bare LF after a header: 400");
    is_int(status_of("GET / HTTP/1.1 \r\nHost: x\r\n\r\n"), 400,
           "a space after the version: 400");
    is_int(status_of("GET / HTTP/x.1\r\nHost: x\r\n\r\n"), 400,
           "a version that is no version: 400");
    is_int(status_of("GET / HTTP/11.1\r\nHost: x\r\n\r\n"), 400,
           "a two-digit major: 400");
    is_int(status_of("GET / HTTP/1.2\r\nHost: x\r\n\r\n"), 200,
           "HTTP/1.2 is taken as 1.1");
    ok(req->keepalive && !req->http10, "HTTP/1.2: keep-alive, as 1.1");
    is_int(status_of("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), 505,
           "HTTP/2.0: 505");
    is_int(status_of("GET / HTTP/9.9\r\nHost: x\r\n\r\n"), 505,
           "HTTP/9.9: 505");
    is_int(status_of("GET / HTTP/1.1\r\n Host: x\r\n\r\n"), 400,
           "whitespace before the first header: 400");
}

/* RFC 9110 5.5: whitespace around a value is not part of it; RFC 9112
 * 7.1.1, 7.1.2: chunk extensions ignored, trailers never merged into the
 * header section; 6.1: Transfer-Encoding in HTTP/1.0 is faulty framing;
 * RFC 9110 9.3.6, 7.8: no tunnels, no protocol switch. */
static void test_fields(void)
{
    enum route_action a;

    route("GET / HTTP/1.1\r\nHost: x\r\nIdempotency-Key:  k-1 \t\r\n\r\n", &a);
    ok(a == ROUTE_HIT && strcmp(req->id, "k-1") == 0,
       "an id with whitespace around it: taken without (%s)", req->id);
    is_int(
        status_of("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  "\r\n3;foo=bar\r\nabc\r\n0\r\n\r\n"),
        200, "a chunk extension is ignored");
    route("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          "0\r\nIdempotency-Key: tr-1\r\nHost: y\r\nIf-Match: \"t\"\r\n\r\n",
          &a);
    ok(a == ROUTE_HIT && req->id_len == 0, "an id, a Host, a precondition in "
                                        "trailers: none of them read");
    is_int(
        status_of("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  "\r\nffffffffffffffffffff\r\n"),
        400, "a chunk size past 64 bits: 400");
    is_int(status_of("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: "
                     "99999999999999999999999\r\n\r\n"),
           400, "a Content-Length past 64 bits: 400");
    is_int(status_of("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "0\r\n\r\n"),
           400, "Transfer-Encoding in HTTP/1.0: 400");
    is_int(status_of("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"), 501,
           "CONNECT: 501");
    route("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
          "Upgrade: websocket\r\n\r\n",
          &a);
    ok(a == ROUTE_HIT && !req->keepalive,
       "an Upgrade is not taken: served, then the connection closes");
    route("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n\r\n", &a);
    ok(a == ROUTE_HIT && req->keepalive, "Upgrade without Connection: upgrade: "
                                      "served, kept alive");
}

/* RFC 9110 10.1.1, 15.2: 100 (Continue) is owed to an HTTP/1.1 request
 * that waits to send its body, to no other. */
static void test_expect(void)
{
    ok(feed("GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            "Content-Length: 5\r\n\r\n",
            NULL) == HTTP_MORE &&
           req->continue_due,
       "Expect: 100-continue, body not sent: a 100 is owed");
    ok(feed("GET / HTTP/1.1\r\nHost: x\r\nExpect: , foo, 100-continue ,\r\n"
            "Content-Length: 5\r\n\r\n",
            NULL) == HTTP_MORE &&
           req->continue_due,
       "Expect is a list: 100-continue among other members and empty ones");
    ok(feed("GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continued\r\n"
            "Content-Length: 5\r\n\r\n",
            NULL) == HTTP_MORE &&
           !req->continue_due,
       "Expect: 100-continued is not 100-continue");
    ok(feed("GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n"
            "Content-Length: 5\r\n\r\nhello",
            NULL) == HTTP_DONE &&
           !req->continue_due,
       "the body came with it: none is owed");
    ok(feed("GET / HTTP/1.0\r\nExpect: 100-continue\r\n"
            "Content-Length: 5\r\n\r\n",
            NULL) == HTTP_MORE &&
           !req->continue_due,
       "HTTP/1.0: the expectation is ignored");
    ok(feed("GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n",
            NULL) == HTTP_DONE &&
           !req->continue_due,
       "no body: none is owed");
    ok(feed("GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            "Content-Length: 2000\r\n\r\n",
            NULL) == HTTP_BAD &&
           req->status == 413,
       "a body too large: the final 413 at once");
}

/* RFC 9110 7.6.1: Connection is a list; 3.3: nothing of a request is
 * taken for the next on the same connection (nginx sends many clients'
 * over one). */
static void test_connection(void)
{
    feed("GET / HTTP/1.1\r\nHost: x\r\nConnection: , close,\r\n\r\n", NULL);
    ok(!req->keepalive, "Connection is a list: close among empty members");
    {
        const char *two =
            "GET / HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k-1\r\n"
            "Accept: application/json\r\nIf-Match: \"t\"\r\n\r\n"
            "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        size_t used, used2;
        int status;

        feed(two, &used);
        http_next(&parser);
        http_feed(&parser, two + used, strlen(two) - used, &used2);
        ok(route_plan(req, &status) == ROUTE_HIT && req->id_len == 0 &&
               !req->json,
           "the second request on a connection has its own id, Accept and "
           "preconditions: none");
    }
}

/* RFC 9110 13: preconditions, with no entity tags to match. */
static void test_preconditions(void)
{
    enum route_action a;

    is_int(status_of("GET / HTTP/1.1\r\nHost: x\r\nIf-Match: \"t\"\r\n\r\n"),
           412, "If-Match with a tag: 412, not counted");
    is_int(status_of("GET / HTTP/1.1\r\nHost: x\r\nIf-Match: *\r\n\r\n"), 200,
           "If-Match: *: counted");
    is_int(status_of("GET / HTTP/1.1\r\nHost: x\r\nIf-Match: *\r\n"
                     "If-Match: \"t\"\r\n\r\n"),
           412, "If-Match: * and a tag: 412");
    is_int(
        status_of("GET /hits HTTP/1.1\r\nHost: x\r\nIf-None-Match: *\r\n\r\n"),
        304, "If-None-Match: *: 304");
    is_int(status_of(
               "GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: W/\"t\"\r\n\r\n"),
           200, "If-None-Match with a tag: counted");
    is_int(
        status_of("GET /nope HTTP/1.1\r\nHost: x\r\nIf-Match: \"t\"\r\n\r\n"),
        404, "a precondition on a 404: ignored");
    is_int(status_of("POST / HTTP/1.1\r\nHost: x\r\nIf-None-Match: *\r\n"
                     "Content-Length: 0\r\n\r\n"),
           405, "a precondition on a 405: ignored");
    route("GET / HTTP/1.1\r\nHost: x\r\nIf-Unmodified-Since: "
          "Sun, 06 Nov 1994 08:49:37 GMT\r\nIf-Modified-Since: "
          "Sun, 06 Nov 2094 08:49:37 GMT\r\nRange: bytes=0-1\r\n"
          "If-Range: \"t\"\r\n\r\n",
          &a);
    is_int(a, ROUTE_HIT,
           "dates, Range and If-Range, with no dates or ranges "
           "here: ignored");
}

/* What RFC 9112 and RFC 9110 require of a server reading a request, one
 * case each (docs/http.md names them), in the RFCs' order. */
void test_musts(void)
{
    test_host();
    test_target();
    test_request_line();
    test_fields();
    test_expect();
    test_connection();
    test_preconditions();
}
