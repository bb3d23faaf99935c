/* main.c: the worker's unit tests, as one TAP stream (tests/unit.t). */
#include "unit.h"

#include <stdarg.h>
#include <time.h>

static int tests, failures;
struct http_parser parser;
struct http_req *const req = &parser.req;

int unit_ok_at(int pass, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    printf("%s %d - ", pass ? "ok" : "not ok", ++tests);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!pass) {
        failures++;
        printf("#   Failed at %s line %d\n", file, line);
    }
    return pass;
}

enum http_result feed(const char *s, size_t *used)
{
    size_t dummy;

    http_init(&parser);
    return http_feed(&parser, s, strlen(s), used ? used : &dummy);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    reply_set_date(time(NULL));
    test_ids();
    test_parse_int();
    test_parse_url();
    test_url_safe();
    test_parse_sentinels();
    test_load();
    test_routes();
    test_ids_in_requests();
    test_framing();
    test_limits();
    test_musts();
    test_responses();
    test_metrics();
    printf("1..%d\n", tests);
    return failures ? 1 : 0;
}
