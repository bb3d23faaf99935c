/* http.c: llhttp callbacks that keep only what the worker needs of a
 * request: its path, its id, the headers that change the answer, and the
 * faults that make it a 4xx or 5xx. */
#include "http.h"
#include "syntax.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum {
    H_OTHER,
    H_REQUEST_ID,
    H_IDEMPOTENCY_KEY,
    H_ACCEPT,
    H_HOST,
    H_EXPECT,
    H_IF_MATCH,
    H_IF_NONE_MATCH
};

/* Where the request target is read up to: origin-form ("/path?query") goes
 * straight to U_PATH; absolute-form ("http://host/path"), which a server
 * must accept too (RFC 9112 3.2.2), passes the scheme and authority first:
 * a scheme other than http is a resource this plain-TCP server cannot
 * answer for (421, RFC 9110 7.4), an empty host is invalid (400, 4.2.1),
 * and so is userinfo (400, 4.2.4). */
enum { U_START, U_SCHEME, U_SLASH1, U_SLASH2, U_AUTHORITY, U_PATH, U_DONE };

static llhttp_settings_t settings;

/* The parser that llhttp's p belongs to, and the two halves of it. */
#define PARSER(p)  ((struct http_parser *)(p)->data)
#define SCRATCH(p) (&PARSER(p)->scratch)
#define REQUEST(p) (&PARSER(p)->req)

static int fail(struct http_req *r, int status)
{
    r->status = status;
    return -1;
}

static int add_head(llhttp_t *p, size_t n)
{
    struct http_scratch *s = SCRATCH(p);

    s->head_bytes += n;
    return s->head_bytes > HTTP_HEAD_MAX ? fail(REQUEST(p), 431) : 0;
}

/* A new request: both halves start again, whole. */
static int on_message_begin(llhttp_t *p)
{
    struct http_parser *h = PARSER(p);

    h->scratch = (struct http_scratch){.url_state = U_START};
    h->req = (struct http_req){0};
    h->begun = 1;
    return 0;
}

static void path_add(struct http_req *r, char c)
{
    if (r->path_len++ < HTTP_PATH_MAX)
        r->path[r->path_len - 1] = c;
}

/* Keep the target's path, without query or fragment. */
static int on_url(llhttp_t *p, const char *at, size_t n)
{
    struct http_scratch *s = SCRATCH(p);
    struct http_req *r = REQUEST(p);

    s->url_len += n;
    if (s->url_len > HTTP_URL_MAX)
        return fail(r, 414);
    if (llhttp_get_method(p) == HTTP_CONNECT) /* authority-form: 501 */
        s->url_state = U_DONE;
    for (size_t i = 0; i < n && s->url_state != U_DONE; i++) {
        char c = at[i];
        int end = c == '?' || c == '#';

        switch (s->url_state) {
        case U_START:
            s->url_state = c == '/' ? U_PATH : U_SCHEME;
            if (c == '/')
                path_add(r, c);
            s->scheme_http = (c | 0x20) == 'h';
            s->scheme_len = 1;
            break;
        case U_SCHEME:
            if (c != ':') {
                s->scheme_http = s->scheme_http && s->scheme_len < 4 &&
                                 (c | 0x20) == "http"[s->scheme_len];
                s->scheme_len++;
            } else if (!s->scheme_http || s->scheme_len != 4) {
                return fail(r, 421);
            } else {
                s->url_state = U_SLASH1;
            }
            break;
        case U_SLASH1:
        case U_SLASH2:
            s->url_state = c != '/' ? U_DONE : s->url_state + 1;
            break;
        case U_AUTHORITY:
            if (c == '@' ||
                (s->authority_len == 0 && (c == ':' || c == '/' || end)))
                return fail(r, 400);
            s->authority_len++;
            if (c == '/' || end) {
                path_add(r, '/');
                s->url_state = end ? U_DONE : U_PATH;
            }
            break;
        case U_PATH:
            if (end)
                s->url_state = U_DONE;
            else
                path_add(r, c);
            break;
        }
    }
    return add_head(p, n);
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
    struct http_scratch *s = SCRATCH(p);

    for (size_t i = 0; i < n; i++) {
        if (s->field_len < sizeof(s->field))
            s->field[s->field_len] = (char)(at[i] | 0x20);
        s->field_len++;
    }
    return add_head(p, n);
}

static int is_field(const struct http_scratch *s, const char *name)
{
    size_t n = strlen(name);

    return s->field_len == n && memcmp(s->field, name, n) == 0;
}

static int on_header_field_complete(llhttp_t *p)
{
    struct http_scratch *s = SCRATCH(p);

    if (++s->headers > HTTP_HEADERS_MAX)
        return fail(REQUEST(p), 431);
    /* Trailer fields are never merged into the header section (RFC 9112
     * 7.1.2): an id, a Host or a precondition sent there is not read. */
    s->which = s->trailers                      ? H_OTHER
               : is_field(s, "x-request-id")    ? H_REQUEST_ID
               : is_field(s, "idempotency-key") ? H_IDEMPOTENCY_KEY
               : is_field(s, "accept")          ? H_ACCEPT
               : is_field(s, "host")            ? H_HOST
               : is_field(s, "expect")          ? H_EXPECT
               : is_field(s, "if-match")        ? H_IF_MATCH
               : is_field(s, "if-none-match")   ? H_IF_NONE_MATCH
                                                : H_OTHER;
    s->field_len = 0;
    s->value_len = 0;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
    struct http_scratch *s = SCRATCH(p);

    if (s->which != H_OTHER) {
        if (s->value_len < HTTP_VALUE_MAX) {
            size_t room = HTTP_VALUE_MAX - s->value_len;

            memcpy(s->value + s->value_len, at, n < room ? n : room);
        }
        s->value_len += n;
    }
    return add_head(p, n);
}

/* Take an id header: Idempotency-Key wins over X-Request-Id; a repeated
 * or invalid one makes the request a 400. */
static void take_id(struct http_scratch *s, struct http_req *r,
                    enum http_id_from from)
{
    if ((s->id_seen & from) || !http_id_ok(s->value, s->value_len))
        r->id_bad = 1;
    s->id_seen |= from;
    if (r->id_bad || from < s->id_from)
        return;
    memcpy(r->id, s->value, s->value_len);
    r->id[s->value_len] = '\0';
    r->id_len = s->value_len;
    s->id_from = from;
}

/* True when the Expect value s[0..len), a list (RFC 9110 5.6.1: empty
 * members ignored), holds 100-continue. */
static int expects_continue(const char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t a, b;

        while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
            i++;
        a = i;
        while (i < len && s[i] != ',')
            i++;
        b = i;
        while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
            b--;
        if (b - a == 12 && strncasecmp(s + a, "100-continue", 12) == 0)
            return 1;
    }
    return 0;
}

/* A precondition's value: "*", or entity tags (there are none to match
 * here). Several If-Match lines hold "*" only if each does; one "*" in
 * If-None-Match makes it "*". */
static enum http_cond cond(enum http_cond was, const struct http_scratch *s,
                           int none_match)
{
    int star = s->value_len == 1 && s->value[0] == '*';

    if (none_match)
        return star || was == COND_ANY ? COND_ANY : COND_TAGS;
    return star && was != COND_TAGS ? COND_ANY : COND_TAGS;
}

static int on_header_value_complete(llhttp_t *p)
{
    struct http_scratch *s = SCRATCH(p);
    struct http_req *r = REQUEST(p);

    /* llhttp leaves the value's trailing whitespace in: it is not part of
     * the value (RFC 9110 5.5). A value longer than we keep is left as
     * it is: over-long for every header we read. */
    if (s->which != H_OTHER && s->value_len <= HTTP_VALUE_MAX)
        while (s->value_len > 0 && (s->value[s->value_len - 1] == ' ' ||
                                    s->value[s->value_len - 1] == '\t'))
            s->value_len--;
    switch (s->which) {
    case H_REQUEST_ID:
        take_id(s, r, ID_REQUEST_ID);
        break;
    case H_IDEMPOTENCY_KEY:
        take_id(s, r, ID_IDEMPOTENCY_KEY);
        break;
    case H_ACCEPT: {
        size_t n =
            s->value_len < HTTP_VALUE_MAX ? s->value_len : HTTP_VALUE_MAX;

        s->value[n] = '\0';
        if (strcasestr(s->value, "application/json") != NULL)
            r->json = 1;
        break;
    }
    case H_HOST:
        s->hosts++;
        if (s->value_len > HTTP_VALUE_MAX ||
            !syntax_host(s->value, s->value_len))
            s->host_bad = 1;
        break;
    case H_EXPECT:
        if (s->value_len <= HTTP_VALUE_MAX &&
            expects_continue(s->value, s->value_len))
            s->expect = 1;
        break;
    case H_IF_MATCH:
        r->if_match = cond(r->if_match, s, 0);
        break;
    case H_IF_NONE_MATCH:
        r->if_none_match = cond(r->if_none_match, s, 1);
        break;
    }
    s->which = H_OTHER;
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    struct http_scratch *s = SCRATCH(p);
    struct http_req *r = REQUEST(p);
    int body = (p->flags & F_CHUNKED) ||
               ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0);

    if (s->url_state == U_AUTHORITY) { /* http://host: the path is "/" */
        if (s->authority_len == 0)
            return fail(r, 400);
        path_add(r, '/');
    }
    /* HTTP/0.9 has no headers to carry an id; 2 and up is not this
     * protocol. A higher 1.x is taken as 1.1 (RFC 9110 2.5). */
    if (p->http_major != 1)
        return fail(r, 505);
    r->method = llhttp_get_method(p);
    r->http10 = p->http_minor == 0;
    s->trailers = 1;               /* whatever fields come now */
    if (r->method == HTTP_CONNECT) /* no tunnels here */
        return fail(r, 501);
    /* RFC 9112 3.2: no Host in HTTP/1.1, two, or an invalid one. */
    if (s->hosts > 1 || s->host_bad || (!r->http10 && s->hosts == 0))
        return fail(r, 400);
    /* RFC 9112 6.1: HTTP/1.0 framing with Transfer-Encoding is faulty. */
    if (r->http10 && (p->flags & F_TRANSFER_ENCODING))
        return fail(r, 400);
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > HTTP_BODY_MAX)
        return fail(r, 413);
    s->upgrade = p->upgrade;
    /* RFC 9110 10.1.1: a 100 (Continue) before the body is read, or the
     * final answer now; never to HTTP/1.0 (15.2). */
    r->continue_due = s->expect && !r->http10 && body;
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
    struct http_scratch *s = SCRATCH(p);

    (void)at;
    s->body_len += n;
    return s->body_len > HTTP_BODY_MAX ? fail(REQUEST(p), 413) : 0;
}

static int on_message_complete(llhttp_t *p)
{
    struct http_req *r = REQUEST(p);

    /* After an upgrade llhttp parses nothing more: answer, then close (we
     * switch to no protocol, RFC 9110 7.8). */
    r->keepalive = llhttp_should_keep_alive(p) && !SCRATCH(p)->upgrade;
    r->continue_due = 0;
    return HPE_PAUSED;
}

void http_init(struct http_parser *h)
{
    if (settings.on_message_complete == NULL) {
        llhttp_settings_init(&settings);
        settings.on_message_begin = on_message_begin;
        settings.on_url = on_url;
        settings.on_header_field = on_header_field;
        settings.on_header_field_complete = on_header_field_complete;
        settings.on_header_value = on_header_value;
        settings.on_header_value_complete = on_header_value_complete;
        settings.on_headers_complete = on_headers_complete;
        settings.on_body = on_body;
        settings.on_message_complete = on_message_complete;
    }
    memset(h, 0, sizeof(*h));
    llhttp_init(&h->llhttp, HTTP_REQUEST, &settings);
    /* Any version parses; on_headers_complete answers 505 but for 1.x. */
    llhttp_set_lenient_version(&h->llhttp, 1);
    h->llhttp.data = h;
}

enum http_result http_feed(struct http_parser *h, const char *data,
                           size_t len, size_t *used)
{
    struct http_req *r = &h->req;
    llhttp_errno_t e = llhttp_execute(&h->llhttp, data, len);

    if (e == HPE_OK) {
        *used = len;
        return HTTP_MORE;
    }
    if (e == HPE_PAUSED) {
        *used = (size_t)(llhttp_get_error_pos(&h->llhttp) - data);
        return HTTP_DONE;
    }
    *used = len;
    /* Any version parses (lenient): a version error is its syntax, or
     * what ends its line (a bare LF: RFC 9112 2.2 allows 400), not a
     * version we lack. The HTTP/2 preface is one. */
    if (r->status == 0)
        r->status = e == HPE_PAUSED_H2_UPGRADE ? 505 : 400;
    r->keepalive = 0;
    return HTTP_BAD;
}

void http_next(struct http_parser *h)
{
    h->begun = 0;
    llhttp_resume(&h->llhttp);
}

int http_id_ok(const char *s, size_t len)
{
    return len <= HTTP_ID_MAX && syntax_token(s, len);
}

