/* unit.h: what the unit tests share: TAP assertions, and the request
 * parser they feed. Each tests/unit/NAME.c tests one part of the worker. */
#ifndef CRASHONLY_UNIT_H
#define CRASHONLY_UNIT_H

#include "buf.h"
#include "log.h"
#include "mem.h"
#include "http.h"
#include "reply.h"
#include "route.h"

#include <stdio.h>
#include <string.h>

/* ok(cond, name...): one TAP line. is_int and is_str say what differed. */
int unit_ok_at(int pass, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define ok(c, ...) unit_ok_at(!!(c), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...)                               \
    do {                                                     \
        long long g_ = (got), w_ = (want);                   \
        if (!ok(g_ == w_, __VA_ARGS__))                      \
            printf("#   got %lld, expected %lld\n", g_, w_); \
    } while (0)
#define is_str(got, want, ...)                               \
    do {                                                     \
        const char *g_ = (got), *w_ = (want);                \
        if (!ok(strcmp(g_, w_) == 0, __VA_ARGS__))           \
            printf("#   got '%s', expected '%s'\n", g_, w_); \
    } while (0)

/* The parser the tests parse into, its request (&parser.req), and
 * feed(): parse the whole of s as fresh input into it; *used (if not
 * NULL) gets what was taken. */
extern struct http_parser parser;
extern struct http_req *const req;
enum http_result feed(const char *s, size_t *used);

/* The tests, by part: config.c, request.c, response.c, metrics.c. */
void test_ids(void);
void test_parse_int(void);
void test_parse_url(void);
void test_url_safe(void);
void test_parse_sentinels(void);
void test_load(void);
void test_routes(void);
void test_ids_in_requests(void);
void test_framing(void);
void test_limits(void);
void test_musts(void);
void test_responses(void);
void test_metrics(void);

#endif
