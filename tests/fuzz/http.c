/* http.c (fuzz): the whole request path short of I/O, as a libFuzzer
 * target: parse (in chunks the input chooses), route, validate ids, build
 * the response, and check that every response is well-formed. */
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "reply.h"
#include "route.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A response's Content-Length must equal the bytes after its head; a 304
 * has neither (RFC 9110 15.4.5). A 100 (Continue) before it stands alone. */
static void check_response(const struct buf *b, size_t from)
{
    const char *p = b->p + from, *end = b->p + b->len;
    const char *cl, *body;

    co_assert(b->len - from > 9 && memcmp(p, "HTTP/1.1 ", 9) == 0);
    body = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
    co_assert(body != NULL);
    body += 4;
    cl = memmem(p, (size_t)(body - p), "Content-Length: ", 16);
    if (memcmp(p + 9, "304 ", 4) == 0) {
        co_assert(cl == NULL && body == end);
        return;
    }
    co_assert(cl != NULL);
    co_assert((size_t)strtoul(cl + 16, NULL, 10) == (size_t)(end - body));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct buf out;
    struct http_parser p;
    struct http_req *r = &p.req;
    size_t chunk;

    if (size < 1)
        return 0;
    chunk = data[0] % 64 + 1; /* the input picks how it is cut */
    data++;
    size--;
    reply_set_date(0);
    http_init(&p);
    while (size > 0) {
        size_t n = size < chunk ? size : chunk, used;
        enum http_result res = http_feed(&p, (const char *)data, n, &used);
        int status;

        co_assert(used <= n);
        data += used;
        size -= used;
        out.len = 0;
        if (res == HTTP_BAD) {
            co_assert(r->status >= 400 && r->status < 600);
            reply_status(&out, r, r->status);
            check_response(&out, 0);
            return 0;
        }
        if (r->continue_due) { /* as conn.c: the 100, then the rest */
            reply_continue(&out);
            co_assert(out.len == 25);
            r->continue_due = 0;
            out.len = 0;
        }
        if (res == HTTP_MORE)
            continue;
        switch (route_plan(r, &status)) {
        case ROUTE_HIT:
            co_assert(r->id_len == 0 || http_id_ok(r->id, r->id_len));
            reply_hit(&out, r, "fuzz", 42);
            break;
        case ROUTE_HITS:
            reply_json(&out, r, "{}", 2);
            break;
        case ROUTE_METRICS: /* as conn.c, a body of the metrics' type */
            reply_body(&out, r, METRICS_CONTENT_TYPE, "x 1\n", 4);
            break;
        case ROUTE_READY:
        case ROUTE_REPLY:
            reply_status(&out, r, status);
            break;
        }
        check_response(&out, 0);
        http_next(&p);
    }
    return 0;
}
