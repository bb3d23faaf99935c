/* http.c: llhttp callbacks that keep only what the worker needs, and the
 * responses it sends. */
#include "http.h"
#include "config.h"

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
static char date[40] = "Thu, 01 Jan 1970 00:00:00 GMT";
static time_t date_now = -1;

#define REQ(p) ((struct http_req *)(p)->data)

static int fail(struct http_req *r, int status)
{
    r->status = status;
    return -1;
}

static int add_head(struct http_req *r, size_t n)
{
    r->head_bytes += n;
    return r->head_bytes > HTTP_HEAD_MAX ? fail(r, 431) : 0;
}

static int on_message_begin(llhttp_t *p)
{
    struct http_req *r = REQ(p);

    r->path_len = r->url_len = r->head_bytes = r->body_len = 0;
    r->url_state = U_START;
    r->headers = r->json = 0;
    r->hosts = r->host_bad = r->upgrade = r->expect = r->continue_due = 0;
    r->if_match = r->if_none_match = COND_NONE;
    r->trailers = 0;
    r->scheme_len = r->authority_len = 0;
    r->scheme_http = 0;
    r->id_from = ID_NONE;
    r->id_seen = r->id_bad = 0;
    r->field_len = r->value_len = r->id_len = 0;
    r->which = H_OTHER;
    r->status = 0;
    r->busy = 1;
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
    struct http_req *r = REQ(p);

    r->url_len += n;
    if (r->url_len > HTTP_URL_MAX)
        return fail(r, 414);
    if (llhttp_get_method(p) == HTTP_CONNECT) /* authority-form: 501 */
        r->url_state = U_DONE;
    for (size_t i = 0; i < n && r->url_state != U_DONE; i++) {
        char c = at[i];
        int end = c == '?' || c == '#';

        switch (r->url_state) {
        case U_START:
            r->url_state = c == '/' ? U_PATH : U_SCHEME;
            if (c == '/')
                path_add(r, c);
            r->scheme_http = (c | 0x20) == 'h';
            r->scheme_len = 1;
            break;
        case U_SCHEME:
            if (c != ':') {
                r->scheme_http = r->scheme_http && r->scheme_len < 4 &&
                                 (c | 0x20) == "http"[r->scheme_len];
                r->scheme_len++;
            } else if (!r->scheme_http || r->scheme_len != 4) {
                return fail(r, 421);
            } else {
                r->url_state = U_SLASH1;
            }
            break;
        case U_SLASH1:
        case U_SLASH2:
            r->url_state = c != '/' ? U_DONE : r->url_state + 1;
            break;
        case U_AUTHORITY:
            if (c == '@' ||
                (r->authority_len == 0 && (c == ':' || c == '/' || end)))
                return fail(r, 400);
            r->authority_len++;
            if (c == '/' || end) {
                path_add(r, '/');
                r->url_state = end ? U_DONE : U_PATH;
            }
            break;
        case U_PATH:
            if (end)
                r->url_state = U_DONE;
            else
                path_add(r, c);
            break;
        }
    }
    return add_head(r, n);
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
    struct http_req *r = REQ(p);

    for (size_t i = 0; i < n; i++) {
        if (r->field_len < sizeof(r->field))
            r->field[r->field_len] = (char)(at[i] | 0x20);
        r->field_len++;
    }
    return add_head(r, n);
}

static int is_field(const struct http_req *r, const char *name)
{
    size_t n = strlen(name);

    return r->field_len == n && memcmp(r->field, name, n) == 0;
}

static int on_header_field_complete(llhttp_t *p)
{
    struct http_req *r = REQ(p);

    if (++r->headers > HTTP_HEADERS_MAX)
        return fail(r, 431);
    /* Trailer fields are never merged into the header section (RFC 9112
     * 7.1.2): an id, a Host or a precondition sent there is not read. */
    r->which = r->trailers                      ? H_OTHER
               : is_field(r, "x-request-id")    ? H_REQUEST_ID
               : is_field(r, "idempotency-key") ? H_IDEMPOTENCY_KEY
               : is_field(r, "accept")          ? H_ACCEPT
               : is_field(r, "host")            ? H_HOST
               : is_field(r, "expect")          ? H_EXPECT
               : is_field(r, "if-match")        ? H_IF_MATCH
               : is_field(r, "if-none-match")   ? H_IF_NONE_MATCH
                                                : H_OTHER;
    r->field_len = 0;
    r->value_len = 0;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
    struct http_req *r = REQ(p);

    if (r->which != H_OTHER) {
        if (r->value_len < HTTP_VALUE_MAX) {
            size_t room = HTTP_VALUE_MAX - r->value_len;

            memcpy(r->value + r->value_len, at, n < room ? n : room);
        }
        r->value_len += n;
    }
    return add_head(r, n);
}

/* Take an id header: Idempotency-Key wins over X-Request-Id; a repeated
 * or invalid one makes the request a 400. */
static void take_id(struct http_req *r, enum http_id_from from)
{
    if ((r->id_seen & from) || !http_id_ok(r->value, r->value_len))
        r->id_bad = 1;
    r->id_seen |= from;
    if (r->id_bad || from < r->id_from)
        return;
    memcpy(r->id, r->value, r->value_len);
    r->id[r->value_len] = '\0';
    r->id_len = r->value_len;
    r->id_from = from;
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
static enum http_cond cond(enum http_cond was, const struct http_req *r,
                           int none_match)
{
    int star = r->value_len == 1 && r->value[0] == '*';

    if (none_match)
        return star || was == COND_ANY ? COND_ANY : COND_TAGS;
    return star && was != COND_TAGS ? COND_ANY : COND_TAGS;
}

static int on_header_value_complete(llhttp_t *p)
{
    struct http_req *r = REQ(p);

    /* llhttp leaves the value's trailing whitespace in: it is not part of
     * the value (RFC 9110 5.5). A value longer than we keep is left as
     * it is: over-long for every header we read. */
    if (r->which != H_OTHER && r->value_len <= HTTP_VALUE_MAX)
        while (r->value_len > 0 && (r->value[r->value_len - 1] == ' ' ||
                                    r->value[r->value_len - 1] == '\t'))
            r->value_len--;
    switch (r->which) {
    case H_REQUEST_ID:
        take_id(r, ID_REQUEST_ID);
        break;
    case H_IDEMPOTENCY_KEY:
        take_id(r, ID_IDEMPOTENCY_KEY);
        break;
    case H_ACCEPT: {
        size_t n =
            r->value_len < HTTP_VALUE_MAX ? r->value_len : HTTP_VALUE_MAX;

        r->value[n] = '\0';
        if (strcasestr(r->value, "application/json") != NULL)
            r->json = 1;
        break;
    }
    case H_HOST:
        r->hosts++;
        if (r->value_len > HTTP_VALUE_MAX || !host_ok(r->value, r->value_len))
            r->host_bad = 1;
        break;
    case H_EXPECT:
        if (r->value_len <= HTTP_VALUE_MAX &&
            expects_continue(r->value, r->value_len))
            r->expect = 1;
        break;
    case H_IF_MATCH:
        r->if_match = cond(r->if_match, r, 0);
        break;
    case H_IF_NONE_MATCH:
        r->if_none_match = cond(r->if_none_match, r, 1);
        break;
    }
    r->which = H_OTHER;
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    struct http_req *r = REQ(p);

    int body = (p->flags & F_CHUNKED) ||
               ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0);

    if (r->url_state == U_AUTHORITY) { /* http://host: the path is "/" */
        if (r->authority_len == 0)
            return fail(r, 400);
        path_add(r, '/');
    }
    /* HTTP/0.9 has no headers to carry an id; 2 and up is not this
     * protocol. A higher 1.x is taken as 1.1 (RFC 9110 2.5). */
    if (p->http_major != 1)
        return fail(r, 505);
    r->method = llhttp_get_method(p);
    r->http10 = p->http_minor == 0;
    r->trailers = 1;               /* whatever fields come now */
    if (r->method == HTTP_CONNECT) /* no tunnels here */
        return fail(r, 501);
    /* RFC 9112 3.2: no Host in HTTP/1.1, two, or an invalid one. */
    if (r->hosts > 1 || r->host_bad || (!r->http10 && r->hosts == 0))
        return fail(r, 400);
    /* RFC 9112 6.1: HTTP/1.0 framing with Transfer-Encoding is faulty. */
    if (r->http10 && (p->flags & F_TRANSFER_ENCODING))
        return fail(r, 400);
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > HTTP_BODY_MAX)
        return fail(r, 413);
    r->upgrade = p->upgrade;
    /* RFC 9110 10.1.1: a 100 (Continue) before the body is read, or the
     * final answer now; never to HTTP/1.0 (15.2). */
    r->continue_due = r->expect && !r->http10 && body;
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
    struct http_req *r = REQ(p);

    (void)at;
    r->body_len += n;
    return r->body_len > HTTP_BODY_MAX ? fail(r, 413) : 0;
}

static int on_message_complete(llhttp_t *p)
{
    struct http_req *r = REQ(p);

    /* After an upgrade llhttp parses nothing more: answer, then close (we
     * switch to no protocol, RFC 9110 7.8). */
    r->keepalive = llhttp_should_keep_alive(p) && !r->upgrade;
    r->continue_due = 0;
    return HPE_PAUSED;
}

void http_init(struct http_req *r)
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
    memset(r, 0, sizeof(*r));
    llhttp_init(&r->parser, HTTP_REQUEST, &settings);
    /* Any version parses; on_headers_complete answers 505 but for 1.x. */
    llhttp_set_lenient_version(&r->parser, 1);
    r->parser.data = r;
}

enum http_result http_feed(struct http_req *r, const char *data, size_t len,
                           size_t *used)
{
    llhttp_errno_t e = llhttp_execute(&r->parser, data, len);

    if (e == HPE_OK) {
        *used = len;
        return HTTP_MORE;
    }
    if (e == HPE_PAUSED) {
        *used = (size_t)(llhttp_get_error_pos(&r->parser) - data);
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

void http_next(struct http_req *r)
{
    r->busy = 0;
    llhttp_resume(&r->parser);
}

/* The endpoints: a new one goes here. All of them take GET only. */
static const struct route {
    const char *path;
    enum http_action action;
} routes[] = {
    {"/", ACT_HIT},
    {"/hits", ACT_HITS},
    {"/healthz", ACT_REPLY}, /* 200: we are alive to say so */
    {"/readyz", ACT_READY},
};

enum http_action http_plan(const struct http_req *r, int *status)
{
    const struct route *route = NULL;

    /* Every route fits in path, so a path longer than that (path_len past
     * HTTP_PATH_MAX) matches none. */
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (strlen(routes[i].path) == r->path_len &&
            memcmp(routes[i].path, r->path, r->path_len) == 0) {
            route = &routes[i];
            break;
        }
    }
    *status = 200;
    if (route == NULL)
        return *status = 404, ACT_REPLY;
    if (r->method != HTTP_GET)
        return *status = 405, ACT_REPLY;
    if (route->action == ACT_HIT && r->id_bad)
        return *status = 400, ACT_REPLY;
    /* RFC 9110 13.2: preconditions, evaluated once the request is known
     * good and before its action. No representation here has an entity
     * tag: If-Match holds for "*" only, If-None-Match for tags only. */
    if (r->if_match == COND_TAGS)
        return *status = 412, ACT_REPLY;
    if (r->if_none_match == COND_ANY)
        return *status = 304, ACT_REPLY;
    return route->action;
}

int http_id_ok(const char *s, size_t len)
{
    return len <= HTTP_ID_MAX && token_ok(s, len);
}

void http_set_date(time_t now)
{
    struct tm tm;

    if (now == date_now)
        return;
    date_now = now;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 421:
        return "Misdirected Request";
    case 431:
        return "Request Header Fields Too Large";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}

/* The status line and the headers every response has, up to the headers
 * particular to it; the caller ends the head with "\r\n". type NULL: no
 * content, and no Content-Type or Content-Length (a 304). */
static void head(struct buf *b, const struct http_req *r, int status,
                 const char *type, size_t length)
{
    buf_puts(b, "HTTP/1.1 ");
    buf_putll(b, status);
    buf_puts(b, " ");
    buf_puts(b, reason(status));
    buf_puts(b, "\r\nDate: ");
    buf_puts(b, date);
    if (type != NULL) {
        buf_puts(b, "\r\nContent-Type: ");
        buf_puts(b, type);
        buf_puts(b, "\r\nContent-Length: ");
        buf_putll(b, (long long)length);
    }
    buf_puts(b, "\r\nCache-Control: no-store\r\n");
    if (!r->keepalive)
        buf_puts(b, "Connection: close\r\n");
    else if (r->http10)
        buf_puts(b, "Connection: keep-alive\r\n");
}

void http_reply_hit(struct buf *b, const struct http_req *r, const char *worker,
                    long long n)
{
    /* The longest body: its text, a name, a number's 20 digits and sign
     * (the JSON's text is shorter). */
    char room[sizeof("Hello World! I am , seen  times.\n") +
              CONFIG_NAME_MAX + 21];
    struct buf body = {room, 0, sizeof(room)};

    /* Checked before a byte is written: a body that did not fit would
     * make buf_put realloc room, which is on the stack. */
    co_assert(strlen(worker) <= CONFIG_NAME_MAX);
    /* No snprintf: this runs for every hit. */
    buf_puts(&body, r->json ? "{\"worker\":\"" : "Hello World! I am ");
    buf_puts(&body, worker);
    buf_puts(&body, r->json ? "\",\"hits\":" : ", seen ");
    buf_putll(&body, n);
    buf_puts(&body, r->json ? "}\n" : " times.\n");
    head(b, r, 200, r->json ? "application/json" : "text/plain; charset=utf-8",
         body.len);
    buf_puts(b, "X-Hits: ");
    buf_putll(b, n);
    buf_puts(b, "\r\nX-Worker: ");
    buf_puts(b, worker);
    buf_puts(b, "\r\n\r\n");
    buf_put(b, body.p, body.len);
}

void http_reply_json(struct buf *b, const struct http_req *r, const char *json,
                     size_t len)
{
    head(b, r, 200, "application/json", len + 1);
    buf_puts(b, "\r\n");
    buf_put(b, json, len);
    buf_puts(b, "\n");
}

void http_reply_status(struct buf *b, const struct http_req *r, int status)
{
    const char *text = status == 200 ? "ok" : reason(status);
    size_t len = strlen(text) + 1;

    /* A 304 has no content, and no Content-Length: that of the 200 it
     * stands for is not known (RFC 9110 8.6, 15.4.5). */
    if (status == 304) {
        head(b, r, 304, NULL, 0);
        buf_puts(b, "\r\n");
        return;
    }
    head(b, r, status, "text/plain; charset=utf-8", len);
    if (status == 405)
        buf_puts(b, "Allow: GET\r\n");
    if (status == 503)
        buf_puts(b, "Retry-After: 1\r\n");
    buf_puts(b, "\r\n");
    buf_puts(b, text);
    buf_puts(b, "\n");
}

void http_reply_continue(struct buf *b)
{
    buf_puts(b, "HTTP/1.1 100 Continue\r\n\r\n");
}
