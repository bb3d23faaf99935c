/* response.h: llhttp glue that reads one HTTP/1.1 response at a time and keeps
 * only what hitload records: status, X-Hits, X-Worker. No I/O. */
#ifndef HITLOAD_RESPONSE_H
#define HITLOAD_RESPONSE_H

#include <llhttp.h>
#include <stddef.h>

#define RESPONSE_WORKER_MAX 64 /* X-Worker bytes kept; longer is cut */
#define RESPONSE_FIELD_MAX  16 /* header name bytes compared, lower-cased */

enum response_result {
    RESPONSE_MORE = 0, /* all input used; the response is not whole yet */
    RESPONSE_DONE = 1, /* a whole response; *used says where it ended */
    RESPONSE_BAD = -1  /* not HTTP: the connection is useless */
};

struct response {
    llhttp_t parser;
    int status;     /* the status code, 0 before the headers */
    long long hits; /* X-Hits, -1 when absent or not a number */
    char worker[RESPONSE_WORKER_MAX + 1]; /* X-Worker, "" when absent */
    size_t worker_len;
    int keep_alive;             /* the connection may carry the next request */
    char field[RESPONSE_FIELD_MAX]; /* the header name being read */
    size_t field_len;           /* its whole length, even past the room */
    int which;     /* the header whose value is being read (enum in .c) */
    int hits_bad;  /* X-Hits had something other than digits */
    int hits_seen; /* X-Hits had at least one digit */
};

/* Ready r for a new connection's responses. */
void response_init(struct response *r);

/* Feed n bytes. On RESPONSE_DONE, r holds the response and *used the bytes it
 * took; the parser is ready for the next response. */
enum response_result response_feed(struct response *r, const char *p, size_t n,
                           size_t *used);

/* The peer closed: RESPONSE_DONE when that ends a whole response (a body read
 * to EOF), RESPONSE_BAD otherwise. */
enum response_result response_eof(struct response *r);

#endif
