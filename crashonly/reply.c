/* reply.c: status lines, the headers every answer has, and the bodies. */
#include "reply.h"

#include <string.h>

static char date[40] = "Thu, 01 Jan 1970 00:00:00 GMT";
static time_t date_now = -1;

void reply_set_date(time_t now)
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

/* A string literal and its length. */
#define TEXT(s) {s, sizeof(s) - 1}

/* The hit's body around its worker's name and number: text, or JSON when
 * the client accepts it. */
static const struct {
    const char *s;
    size_t len;
} hit_text[2][3] = {
    {TEXT("Hello World! I am "), TEXT(", seen "), TEXT(" times.\n")},
    {TEXT("{\"worker\":\""), TEXT("\",\"hits\":"), TEXT("}\n")},
};

/* No snprintf: this runs for every hit. The body's length is summed
 * first, for the head, then its parts are appended. */
void reply_hit(struct buf *b, const struct http_req *r, const char *worker,
               long long n)
{
    char digits[BUF_LL_MAX];
    size_t digits_len = buf_ll_text(digits, n);
    size_t worker_len = strlen(worker);
    int json = r->json != 0;

    head(b, r, 200, json ? "application/json" : "text/plain; charset=utf-8",
         hit_text[json][0].len + worker_len + hit_text[json][1].len +
             digits_len + hit_text[json][2].len);
    buf_puts(b, "X-Hits: ");
    buf_put(b, digits, digits_len);
    buf_puts(b, "\r\nX-Worker: ");
    buf_put(b, worker, worker_len);
    buf_puts(b, "\r\n\r\n");
    buf_put(b, hit_text[json][0].s, hit_text[json][0].len);
    buf_put(b, worker, worker_len);
    buf_put(b, hit_text[json][1].s, hit_text[json][1].len);
    buf_put(b, digits, digits_len);
    buf_put(b, hit_text[json][2].s, hit_text[json][2].len);
}

void reply_json(struct buf *b, const struct http_req *r, const char *json,
                size_t len)
{
    head(b, r, 200, "application/json", len + 1);
    buf_puts(b, "\r\n");
    buf_put(b, json, len);
    buf_puts(b, "\n");
}

void reply_body(struct buf *b, const struct http_req *r, const char *type,
                const char *body, size_t len)
{
    head(b, r, 200, type, len);
    buf_puts(b, "\r\n");
    buf_put(b, body, len);
}

void reply_status(struct buf *b, const struct http_req *r, int status)
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

void reply_continue(struct buf *b)
{
    buf_puts(b, "HTTP/1.1 100 Continue\r\n\r\n");
}
