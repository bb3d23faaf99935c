/* http.h: HTTP/1.1 requests in, through llhttp: what the worker needs of
 * each. No I/O here, so all of it can be unit-tested and fuzzed; route.h
 * says what a request asks for, reply.h writes the answers. */
#ifndef CRASHONLY_HTTP_H
#define CRASHONLY_HTTP_H

#include <llhttp.h>
#include <stddef.h>
#include <time.h>


#define HTTP_PATH_MAX    32   /* longer paths are never ours: 404 */
#define HTTP_URL_MAX     4096 /* longer: 414 */
#define HTTP_HEAD_MAX    8192 /* request line and headers: 431 past it */
#define HTTP_HEADERS_MAX 64   /* header lines: 431 past it */
#define HTTP_BODY_MAX    1024 /* we take no bodies: 413 past it */
#define HTTP_ID_MAX      128  /* Idempotency-Key and X-Request-Id */
#define HTTP_VALUE_MAX   256  /* the header values we keep */

/* Where a request's id came from; Idempotency-Key wins over X-Request-Id.
 * Each is a bit too, for the headers seen. */
enum http_id_from {
    ID_NONE = 0,
    ID_REQUEST_ID = 1,     /* X-Request-Id: nginx's, or the client's */
    ID_IDEMPOTENCY_KEY = 2 /* Idempotency-Key: the client's */
};

/* What a request's If-Match or If-None-Match said. The resources here
 * have no entity tags, so no listed tag ever matches. */
enum http_cond {
    COND_NONE = 0, /* no such header */
    COND_ANY,      /* "*": true for If-Match, false for If-None-Match */
    COND_TAGS      /* entity tags: false for If-Match, true otherwise */
};

/* What a complete request asked: the parser's result, read by route.c,
 * reply.c and conn.c. Reset as a whole when a request begins. */
struct http_req {
    char path[HTTP_PATH_MAX + 1]; /* path without query, when it fits */
    size_t path_len;              /* may exceed HTTP_PATH_MAX: then not ours */
    char id[HTTP_ID_MAX + 1];     /* the request id, when there is one */
    size_t id_len;
    int id_bad; /* an id header was invalid or repeated */
    int json;   /* Accept names application/json */
    enum http_cond if_match, if_none_match; /* the preconditions */
    int continue_due; /* a 100 (Continue) is owed before the body: the
                         request is HTTP/1.1, says a body follows, and
                         has not sent it yet (conn.c sends it) */
    int method;       /* llhttp_method_t */
    int keepalive;    /* the connection may carry another request */
    int http10;       /* HTTP/1.0: keep-alive must be said */
    int status;       /* an error our callbacks found: 400, 413, 414, 421,
                         431, 501, 505 */
};

/* The parser's own state within a request, which no one else reads.
 * Reset as a whole when a request begins. */
struct http_scratch {
    int url_state;     /* where on_url is in the target: U_* */
    size_t url_len;
    size_t head_bytes; /* request line and headers so far */
    int headers;       /* header lines so far */
    size_t body_len;
    char field[20]; /* current header name, lowercased, cut short */
    size_t field_len;
    char value[HTTP_VALUE_MAX + 1]; /* current header value, if ours */
    size_t value_len;
    int which;                 /* which header value is being read: H_* */
    enum http_id_from id_from; /* the header the id came from */
    int id_seen;  /* the id headers seen, as http_id_from bits */
    int hosts;    /* Host header lines */
    int host_bad; /* a Host value that is no uri-host [":" port] */
    int upgrade;  /* CONNECT, or Upgrade with Connection: upgrade: llhttp
                     parses nothing after it, so the connection closes */
    int expect;   /* Expect: 100-continue */
    int trailers; /* the fields now read are trailers: never ours */
    size_t scheme_len;    /* absolute-form: the scheme's bytes so far */
    int scheme_http;      /* ... and they spell "http" so far */
    size_t authority_len; /* its authority's bytes so far */
};

/* One client connection's parser: llhttp's state, ours, and the request
 * it fills. */
struct http_parser {
    llhttp_t llhttp;
    int begun; /* a request has begun and http_next() was not called */
    struct http_scratch scratch;
    struct http_req req;
};

enum http_result {
    HTTP_MORE, /* all input used, no complete request yet */
    HTTP_DONE, /* a request is complete: handle it, then http_next() */
    HTTP_BAD   /* the input is not acceptable HTTP: answer r->status, close */
};

void http_init(struct http_parser *p);

/* Parse len bytes; *used tells how many were taken (all, unless DONE).
 * The request is in p->req: complete when DONE, its status when BAD. */
enum http_result http_feed(struct http_parser *p, const char *data,
                           size_t len, size_t *used);

/* After a DONE request was answered: get ready for the next one. */
void http_next(struct http_parser *p);

/* True when s[0..len) is a valid id: 1-128 of [A-Za-z0-9._:-]. */
int http_id_ok(const char *s, size_t len);

#endif
