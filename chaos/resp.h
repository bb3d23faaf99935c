/* resp.h: llhttp glue that reads one HTTP/1.1 response at a time and keeps
 * only what hitload records: status, X-Hits, X-Worker. No I/O. */
#ifndef HITLOAD_RESP_H
#define HITLOAD_RESP_H

#include <llhttp.h>
#include <stddef.h>

#define RESP_WORKER_MAX 64 /* X-Worker bytes kept; longer is cut */
#define RESP_FIELD_MAX  16 /* header name bytes compared, lower-cased */

enum resp_result {
    RESP_MORE = 0, /* all input used; the response is not whole yet */
    RESP_DONE = 1, /* a whole response; *used says where it ended */
    RESP_BAD = -1  /* not HTTP: the connection is useless */
};

struct resp {
    llhttp_t parser;
    int status;     /* the status code, 0 before the headers */
    long long hits; /* X-Hits, -1 when absent or not a number */
    char worker[RESP_WORKER_MAX + 1]; /* X-Worker, "" when absent */
    size_t worker_len;
    int keep_alive;             /* the connection may carry the next request */
    char field[RESP_FIELD_MAX]; /* the header name being read */
    size_t field_len;           /* its whole length, even past the room */
    int which;     /* the header whose value is being read (enum in .c) */
    int hits_bad;  /* X-Hits had something other than digits */
    int hits_seen; /* X-Hits had at least one digit */
};

/* Ready r for a new connection's responses. */
void resp_init(struct resp *r);

/* Feed n bytes. On RESP_DONE, r holds the response and *used the bytes it
 * took; the parser is ready for the next response. */
enum resp_result resp_feed(struct resp *r, const char *p, size_t n,
                           size_t *used);

/* The peer closed: RESP_DONE when that ends a whole response (a body read
 * to EOF), RESP_BAD otherwise. */
enum resp_result resp_eof(struct resp *r);

#endif
