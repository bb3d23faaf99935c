/* unit.c: TAP unit tests for the worker's I/O-free parts: ids, the
 * configuration, request parsing and routing, and response building. */
#include "config.h"
#include "http.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int tests, failures;

/* ok(cond, name...): one TAP line. is_int and is_str say what differed. */
static int ok_at(int pass, const char *file, int line, const char *fmt, ...)
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
#define ok(c, ...) ok_at(!!(c), __FILE__, __LINE__, __VA_ARGS__)
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

/* ---- ids and names ---------------------------------------------------- */

static void test_ids(void)
{
    char s[200];
    const char *good = "abcxyzABCXYZ0189._:-";
    const char *bad[] = {" ", "/", "%", "\xc3\xa9", "a b", "\"",
                         "+", "@", "=", "\t",       "~",   ","};

    ok(!http_id_ok("", 0), "id: empty refused");
    ok(http_id_ok("a", 1), "id: one char");
    memset(s, 'k', sizeof(s));
    ok(http_id_ok(s, 128), "id: 128 chars");
    ok(!http_id_ok(s, 129), "id: 129 chars refused");
    for (const char *c = good; *c; c++)
        ok(http_id_ok(c, 1), "id: '%c' allowed", *c);
    ok(http_id_ok(good, strlen(good)), "id: every class at once");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(s, sizeof(s), "ab%scd", bad[i]);
        ok(!http_id_ok(s, strlen(s)), "id: 'ab%scd' refused", bad[i]);
    }
    ok(!http_id_ok("ab\0cd", 5), "id: NUL inside refused");
    ok(!http_id_ok("abc\n", 4), "id: newline refused");

    ok(config_name_ok("w1"), "name: w1");
    ok(config_name_ok("web-1.example:8080_x"), "name: all classes");
    memset(s, 'n', 64);
    s[64] = '\0';
    ok(config_name_ok(s), "name: 64 chars");
    s[64] = 'n';
    s[65] = '\0';
    ok(!config_name_ok(s), "name: 65 chars refused");
    ok(!config_name_ok(""), "name: empty refused");
    ok(!config_name_ok("a b"), "name: space refused");
    ok(!config_name_ok("a/b"), "name: slash refused");
    ok(!config_name_ok("a\"b"), "name: quote refused");
}

/* ---- configuration ---------------------------------------------------- */

static void test_parse_int(void)
{
    int v = -7;

    ok(config_parse_int("42", 1, 100, &v) == 0 && v == 42, "int: 42");
    ok(config_parse_int("1", 1, 100, &v) == 0 && v == 1, "int: min");
    ok(config_parse_int("100", 1, 100, &v) == 0 && v == 100, "int: max");
    ok(config_parse_int("0", 0, 5, &v) == 0 && v == 0, "int: 0");
    v = -7;
    ok(config_parse_int("0", 1, 100, &v) < 0 && v == -7,
       "int: below min refused, out untouched");
    ok(config_parse_int("101", 1, 100, &v) < 0, "int: above max refused");
    ok(config_parse_int("-1", -5, 5, &v) < 0, "int: sign refused");
    ok(config_parse_int("+1", 0, 5, &v) < 0, "int: plus refused");
    ok(config_parse_int("", 0, 5, &v) < 0, "int: empty refused");
    ok(config_parse_int(NULL, 0, 5, &v) < 0, "int: NULL refused");
    ok(config_parse_int(" 1", 0, 5, &v) < 0, "int: leading space refused");
    ok(config_parse_int("1 ", 0, 5, &v) < 0, "int: trailing space refused");
    ok(config_parse_int("1x", 0, 5, &v) < 0, "int: junk refused");
    ok(config_parse_int("abc", 0, 5, &v) < 0, "int: letters refused");
    ok(config_parse_int("99999999999999999999999", 0, 2147483647, &v) < 0,
       "int: overflow refused");
}

/* Parse s; returns the result, the url in *u, the error in err. */
static int url(const char *s, struct redis_url *u, char *err)
{
    err[0] = '\0';
    return config_parse_url(s, u, err, CONFIG_ERR_MAX);
}

static void test_parse_url(void)
{
    struct redis_url u;
    char err[CONFIG_ERR_MAX];
    const char *bad[] = {
        "rediss://h:6379",  /* TLS */
        "h:6379",           /* no scheme */
        "http://h",         /* another scheme */
        "REDIS://h",        /* the scheme is lower case */
        "redis://h:0",      /* port 0 */
        "redis://h:65536",  /* port too big */
        "redis://h:abc",    /* port not a number */
        "redis://h:",       /* empty port */
        "redis://h:-1",     /* signed port */
        "redis://",         /* no host */
        "redis://:6379",    /* empty host */
        "redis://u:p@",     /* credentials, no host */
        "redis://u:p@:1",   /* credentials, empty host */
        "redis://h/1x",     /* junk after db */
        "redis://h/x",      /* db not a number */
        "redis://h/-1",     /* negative db */
        "redis://h?x=1",    /* query */
        "redis://h#f",      /* fragment */
        "redis://user@h",   /* user@ without colon */
        "redis://user:@h",  /* empty password */
        ":@h",              /* nothing useful */
        "redis://:@h",      /* empty password, no user */
        "redis://:ab%4@h",  /* cut %XX */
        "redis://:ab%@h",   /* bare % */
        "redis://:a%zzb@h", /* not hex */
        "redis://:a%00b@h", /* NUL */
        "redis://[::1",     /* unclosed [ */
        "redis://[]:1",     /* empty [] */
        "redis://[::1]x:1", /* junk after ] */
    };

    ok(url("redis://h", &u, err) == 0, "url: host only");
    is_str(u.host, "h", "url: host");
    is_int(u.port, 6379, "url: default port");
    is_int(u.db, 0, "url: default db");
    is_str(u.user, "", "url: no user");
    is_str(u.pass, "", "url: no password");

    ok(url("redis://127.0.0.1:16379", &u, err) == 0, "url: host:port");
    is_str(u.host, "127.0.0.1", "url: host:port host");
    is_int(u.port, 16379, "url: host:port port");
    ok(url("redis://h:1", &u, err) == 0 && u.port == 1, "url: port 1");
    ok(url("redis://h:65535", &u, err) == 0 && u.port == 65535,
       "url: port 65535");

    ok(url("redis://h:7000/3", &u, err) == 0, "url: /db");
    is_int(u.db, 3, "url: db 3");
    is_int(u.port, 7000, "url: port with db");
    ok(url("redis://h/", &u, err) == 0 && u.db == 0, "url: trailing /");
    ok(url("redis://h/15", &u, err) == 0 && u.db == 15 && u.port == 6379,
       "url: /db without port");

    ok(url("redis://alice:s3cret@h:1/2", &u, err) == 0, "url: user:pass@");
    is_str(u.user, "alice", "url: user");
    is_str(u.pass, "s3cret", "url: password");
    is_str(u.host, "h", "url: host after credentials");
    ok(u.port == 1 && u.db == 2, "url: port and db after credentials");
    ok(url("redis://u:p@ss@h", &u, err) == 0, "url: @ in the password");
    is_str(u.pass, "p@ss", "url: the password holds the @");
    is_str(u.host, "h", "url: the host follows the last @");

    ok(url("redis://:only@h", &u, err) == 0, "url: :pass@");
    is_str(u.user, "", "url: :pass@ has no user");
    is_str(u.pass, "only", "url: :pass@ password");

    ok(url("redis://a%40b:p%40ss%3A%2f@h", &u, err) == 0, "url: %%XX");
    is_str(u.user, "a@b", "url: %%40 in user");
    is_str(u.pass, "p@ss:/", "url: %%40 %%3A %%2f in password");

    ok(url("redis://[::1]:6380", &u, err) == 0, "url: [::1]:6380");
    is_str(u.host, "::1", "url: IPv6 host without brackets");
    is_int(u.port, 6380, "url: IPv6 port");
    ok(url("redis://[fe80::1]/4", &u, err) == 0 && u.port == 6379 &&
           u.db == 4 && strcmp(u.host, "fe80::1") == 0,
       "url: [v6]/db");

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ok(url(bad[i], &u, err) < 0 && strncmp(err, "REDIS_URL: ", 11) == 0,
           "url: '%s' refused (%s)", bad[i], err);
    url("rediss://h", &u, err);
    ok(strstr(err, "TLS") != NULL, "url: rediss:// says TLS");
    url("redis://h:65536", &u, err);
    ok(strstr(err, "port") != NULL, "url: bad port says port");
}

static void test_url_safe(void)
{
    struct redis_url u;
    char err[CONFIG_ERR_MAX], out[400];

    url("redis://alice:hunter2@h:7/1", &u, err);
    config_url_safe(&u, out, sizeof(out));
    ok(strstr(out, "hunter2") == NULL, "safe: password hidden (%s)", out);
    is_str(out, "redis://alice:***@h:7/1", "safe: user:pass@");
    url("redis://:hunter2@h", &u, err);
    config_url_safe(&u, out, sizeof(out));
    is_str(out, "redis://:***@h:6379/0", "safe: :pass@");
    url("redis://h", &u, err);
    config_url_safe(&u, out, sizeof(out));
    is_str(out, "redis://h:6379/0", "safe: no credentials");
    url("redis://[::1]:6380", &u, err);
    config_url_safe(&u, out, sizeof(out));
    is_str(out, "redis://[::1]:6380/0", "safe: IPv6 in brackets");
}

static const char *vars[] = {"PORT",
                             "DEDUPE_SECONDS",
                             "REDIS_TIMEOUT_MS",
                             "IDLE_TIMEOUT_MS",
                             "HEADER_TIMEOUT_MS",
                             "MAX_CONNS",
                             "BIND",
                             "WORKER_NAME",
                             "REDIS_URL"};

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
}

/* Load with name=value set (and the rest unset); expect failure naming it. */
static void load_bad(const char *name, const char *value)
{
    struct config c;
    char err[CONFIG_ERR_MAX] = "";

    clear_env();
    setenv(name, value, 1);
    ok(config_load(&c, err, sizeof(err)) < 0 &&
           strncmp(err, name, strlen(name)) == 0 && err[strlen(name)] == ':',
       "load: %s='%.20s' refused, named (%s)", name, value, err);
}

static void test_load(void)
{
    struct config c;
    char err[CONFIG_ERR_MAX], long_bind[300];

    clear_env();
    ok(config_load(&c, err, sizeof(err)) == 0, "load: defaults");
    is_int(c.port, 8080, "load: PORT default");
    is_int(c.dedupe_seconds, 300, "load: DEDUPE_SECONDS default");
    is_int(c.redis_timeout_ms, 2000, "load: REDIS_TIMEOUT_MS default");
    is_int(c.idle_timeout_ms, 60000, "load: IDLE_TIMEOUT_MS default");
    is_int(c.header_timeout_ms, 10000, "load: HEADER_TIMEOUT_MS default");
    is_int(c.max_conns, 10000, "load: MAX_CONNS default");
    is_str(c.bind, "0.0.0.0", "load: BIND default");
    ok(config_name_ok(c.worker) && strchr(c.worker, '.') == NULL,
       "load: WORKER_NAME defaults to the short hostname (%s)", c.worker);
    is_str(c.redis.host, "127.0.0.1", "load: REDIS_URL default host");
    is_int(c.redis.port, 6379, "load: REDIS_URL default port");

    setenv("PORT", "9000", 1);
    setenv("DEDUPE_SECONDS", "60", 1);
    setenv("REDIS_TIMEOUT_MS", "300", 1);
    setenv("IDLE_TIMEOUT_MS", "1000", 1);
    setenv("HEADER_TIMEOUT_MS", "500", 1);
    setenv("MAX_CONNS", "7", 1);
    setenv("BIND", "127.0.0.1", 1);
    setenv("WORKER_NAME", "w9", 1);
    setenv("REDIS_URL", "redis://:pw@10.0.0.1:1234/2", 1);
    ok(config_load(&c, err, sizeof(err)) == 0, "load: all set");
    ok(c.port == 9000 && c.dedupe_seconds == 60 && c.redis_timeout_ms == 300 &&
           c.idle_timeout_ms == 1000 && c.header_timeout_ms == 500 &&
           c.max_conns == 7,
       "load: all numbers taken");
    is_str(c.bind, "127.0.0.1", "load: BIND taken");
    is_str(c.worker, "w9", "load: WORKER_NAME taken");
    ok(strcmp(c.redis.host, "10.0.0.1") == 0 && c.redis.port == 1234 &&
           c.redis.db == 2 && strcmp(c.redis.pass, "pw") == 0,
       "load: REDIS_URL taken");

    clear_env();
    setenv("PORT", "", 1);
    ok(config_load(&c, err, sizeof(err)) == 0 && c.port == 8080,
       "load: empty PORT keeps the default");

    load_bad("PORT", "abc");
    load_bad("PORT", "0");
    load_bad("PORT", "65536");
    load_bad("DEDUPE_SECONDS", "0");
    load_bad("REDIS_TIMEOUT_MS", "5");
    load_bad("IDLE_TIMEOUT_MS", "x");
    load_bad("HEADER_TIMEOUT_MS", "99");
    load_bad("MAX_CONNS", "-3");
    load_bad("WORKER_NAME", "bad name");
    load_bad("WORKER_NAME", "w/1");
    load_bad("REDIS_URL", "http://x");
    load_bad("REDIS_URL", "redis://h:0");
    memset(long_bind, 'b', sizeof(long_bind) - 1);
    long_bind[sizeof(long_bind) - 1] = '\0';
    load_bad("BIND", long_bind);
    clear_env();
}

/* ---- request parsing and routing -------------------------------------- */

static struct http_req req;

/* Parse the whole of s as fresh input; *used gets what was taken. */
static enum http_result feed(const char *s, size_t *used)
{
    size_t dummy;

    http_init(&req);
    return http_feed(&req, s, strlen(s), used ? used : &dummy);
}

/* Parse one complete request; returns its status per http_plan (or
 * r->status when BAD, or -1 when the parser wants more). */
static int route(const char *s, enum http_action *act)
{
    int status;
    enum http_result r = feed(s, NULL);

    *act = ACT_REPLY;
    if (r == HTTP_BAD)
        return req.status;
    if (r != HTTP_DONE)
        return -1;
    *act = http_plan(&req, &status);
    return status;
}

static void test_routes(void)
{
    enum http_action a;
    char big[300];

    is_int(route("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &a), 200, "GET / 200");
    is_int(a, ACT_HIT, "GET / counts a hit");
    ok(req.id_len == 0 && !req.json && req.keepalive, "GET /: no id, text, "
                                                      "keep-alive");
    route("GET /hits HTTP/1.1\r\n\r\n", &a);
    is_int(a, ACT_HITS, "GET /hits reads totals");
    is_int(route("GET /healthz HTTP/1.1\r\n\r\n", &a), 200, "GET /healthz");
    is_int(a, ACT_REPLY, "/healthz answers at once");
    route("GET /readyz HTTP/1.1\r\n\r\n", &a);
    is_int(a, ACT_READY, "GET /readyz asks Redis");
    route("GET /?a=1&b=/hits HTTP/1.1\r\n\r\n", &a);
    is_int(a, ACT_HIT, "query string ignored on /");
    route("GET /hits?x HTTP/1.1\r\n\r\n", &a);
    is_int(a, ACT_HITS, "query string ignored on /hits");
    route("GET /#frag HTTP/1.1\r\n\r\n", &a);
    is_int(a, ACT_HIT, "fragment ignored");
    route("GET http://example.com:8080/hits?x HTTP/1.1\r\n\r\n", &a);
    is_int(a, ACT_HITS, "absolute-form: the path after the authority");
    route("GET http://example.com HTTP/1.1\r\n\r\n", &a);
    is_int(a, ACT_HIT, "absolute-form with no path: /");
    route("GET https://h?q HTTP/1.1\r\n\r\n", &a);
    is_int(a, ACT_HIT, "absolute-form with a query and no path: /");
    is_int(route("GET http:/hits HTTP/1.1\r\n\r\n", &a), 400,
           "a broken absolute URL is bad HTTP");
    is_int(route("GET * HTTP/1.1\r\n\r\n", &a), 404, "GET * 404");
    is_int(route("GET /nope HTTP/1.1\r\n\r\n", &a), 404, "404");
    is_int(a, ACT_REPLY, "404 answered at once");
    is_int(route("GET /hitsx HTTP/1.1\r\n\r\n", &a), 404, "/hitsx 404");
    is_int(route("GET /hit HTTP/1.1\r\n\r\n", &a), 404, "/hit 404");
    is_int(route("GET // HTTP/1.1\r\n\r\n", &a), 404, "// 404");
    memset(big, 'a', sizeof(big));
    memcpy(big, "GET /", 5);
    strcpy(big + 200, " HTTP/1.1\r\n\r\n");
    is_int(route(big, &a), 404, "long path 404");
    is_int(route("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &a), 405,
           "POST / 405");
    is_int(route("HEAD / HTTP/1.1\r\n\r\n", &a), 405, "HEAD / 405");
    is_int(route("POST /hits HTTP/1.1\r\nContent-Length: 2\r\n\r\nab", &a), 405,
           "POST /hits 405");
    is_int(route("DELETE /readyz HTTP/1.1\r\n\r\n", &a), 405,
           "DELETE /readyz 405");
    is_int(route("PUT /nope HTTP/1.1\r\n\r\n", &a), 404, "PUT /nope 404");
}

static void test_ids_in_requests(void)
{
    enum http_action a;
    char s[400], id[200];

    route("GET / HTTP/1.1\r\nX-Request-Id: r-1\r\n\r\n", &a);
    ok(a == ACT_HIT && strcmp(req.id, "r-1") == 0 && req.id_len == 3,
       "X-Request-Id taken");
    route("GET / HTTP/1.1\r\nidempotency-KEY: k.1\r\n\r\n", &a);
    ok(a == ACT_HIT && strcmp(req.id, "k.1") == 0, "Idempotency-Key taken, "
                                                   "any case");
    route("GET / HTTP/1.1\r\nX-Request-Id: r-1\r\nIdempotency-Key: k-2\r\n\r\n",
          &a);
    ok(a == ACT_HIT && strcmp(req.id, "k-2") == 0,
       "Idempotency-Key beats an earlier X-Request-Id");
    route("GET / HTTP/1.1\r\nIdempotency-Key: k-2\r\nX-Request-Id: r-1\r\n\r\n",
          &a);
    ok(a == ACT_HIT && strcmp(req.id, "k-2") == 0,
       "Idempotency-Key beats a later X-Request-Id");
    is_int(route("GET / HTTP/1.1\r\nIdempotency-Key: a b\r\n\r\n", &a), 400,
           "invalid id 400");
    is_int(a, ACT_REPLY, "invalid id counts nothing");
    is_int(route("GET / HTTP/1.1\r\nX-Request-Id: a/b\r\n\r\n", &a), 400,
           "invalid X-Request-Id 400");
    is_int(route("GET / HTTP/1.1\r\nIdempotency-Key: a\r\n"
                 "Idempotency-Key: a\r\n\r\n",
                 &a),
           400, "repeated Idempotency-Key 400");
    is_int(route("GET / HTTP/1.1\r\nX-Request-Id: a\r\nX-Request-Id: b\r\n\r\n",
                 &a),
           400, "repeated X-Request-Id 400");
    is_int(route("GET / HTTP/1.1\r\nIdempotency-Key:\r\n\r\n", &a), 400,
           "empty id 400");
    is_int(route("GET / HTTP/1.1\r\nIdempotency-Key:   \r\n\r\n", &a), 400,
           "blank id 400");
    memset(id, 'i', 129);
    id[129] = '\0';
    snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nIdempotency-Key: %s\r\n\r\n", id);
    is_int(route(s, &a), 400, "129-char id 400");
    id[128] = '\0';
    snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nIdempotency-Key: %s\r\n\r\n", id);
    is_int(route(s, &a), 200, "128-char id 200");
    ok(a == ACT_HIT && req.id_len == 128 && strcmp(req.id, id) == 0,
       "128-char id kept whole");
    memset(id, 'v', 199);
    id[199] = '\0';
    snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nX-Request-Id: %s\r\n\r\n", id);
    is_int(route(s, &a), 400, "199-char id 400");

    route("GET / HTTP/1.1\r\nAccept: text/html, application/json;q=0.9\r\n"
          "\r\n",
          &a);
    ok(req.json, "Accept: application/json sets json");
    route("GET / HTTP/1.1\r\nAccept: text/plain\r\n\r\n", &a);
    ok(!req.json, "Accept: text/plain does not");
}

/* Feed s one byte per call; returns the result of the last call and
 * how many bytes were fed. */
static enum http_result feed_bytes(const char *s, size_t *fed)
{
    enum http_result r = HTTP_MORE;
    size_t i, used;

    http_init(&req);
    for (i = 0; s[i] != '\0' && r == HTTP_MORE; i++)
        r = http_feed(&req, s + i, 1, &used);
    *fed = i;
    return r;
}

static void test_framing(void)
{
    const char *one = "GET /hits?q=1 HTTP/1.1\r\nHost: h\r\n"
                      "X-Request-Id: r.9\r\nAccept: application/json\r\n"
                      "Idempotency-Key: k:9\r\n\r\n";
    const char *two = "GET /healthz HTTP/1.1\r\n\r\n"
                      "GET /readyz HTTP/1.1\r\nConnection: close\r\n\r\n";
    enum http_result r;
    size_t used, fed;
    int status;

    r = feed_bytes(one, &fed);
    is_int(r, HTTP_DONE, "byte by byte: done");
    is_int(fed, strlen(one), "byte by byte: done at the last byte");
    ok(http_plan(&req, &status) == ACT_HITS && req.json &&
           strcmp(req.id, "k:9") == 0 && req.keepalive,
       "byte by byte: same request as in one piece");
    r = feed_bytes("GET / HTTP/1.1\r\nIdempotency-Key: a b\r\n\r\n", &fed);
    ok(r == HTTP_DONE && http_plan(&req, &status) == ACT_REPLY && status == 400,
       "byte by byte: invalid id still 400");

    r = feed(two, &used);
    is_int(r, HTTP_DONE, "pipelined: first done");
    ok(used > 0 && used < strlen(two), "pipelined: used < len");
    is_int(used, strlen("GET /healthz HTTP/1.1\r\n\r\n"),
           "pipelined: used ends at the first request");
    ok(http_plan(&req, &status) == ACT_REPLY && status == 200 && req.keepalive,
       "pipelined: first is /healthz, keep-alive");
    http_next(&req);
    {
        size_t used2;
        r = http_feed(&req, two + used, strlen(two) - used, &used2);
        is_int(r, HTTP_DONE, "pipelined: second done");
        is_int(used2, strlen(two) - used, "pipelined: second used the rest");
    }
    ok(http_plan(&req, &status) == ACT_READY && !req.keepalive,
       "pipelined: second is /readyz, Connection: close");

    feed("GET / HTTP/1.0\r\n\r\n", NULL);
    ok(req.http10 && !req.keepalive, "HTTP/1.0: no keep-alive by default");
    feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", NULL);
    ok(req.http10 && req.keepalive, "HTTP/1.0: keep-alive when asked");
    feed("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", NULL);
    ok(!req.http10 && !req.keepalive, "HTTP/1.1: Connection: close");
    r = feed("GET / HTTP/1.1\r\nHost: a\r\n", &used);
    ok(r == HTTP_MORE && used == strlen("GET / HTTP/1.1\r\nHost: a\r\n"),
       "incomplete request: MORE, all used");
}

static void test_limits(void)
{
    enum http_result r;
    char *s = xmalloc(20000);
    size_t n = 0;

    /* URL of 5000 bytes */
    n = (size_t)sprintf(s, "GET /");
    memset(s + n, 'u', 5000);
    n += 5000;
    strcpy(s + n, " HTTP/1.1\r\n\r\n");
    r = feed(s, NULL);
    ok(r == HTTP_BAD && req.status == 414, "oversize URL: 414 (%d)",
       req.status);
    ok(!req.keepalive, "bad request: no keep-alive");

    /* URL of 4000 bytes is fine: a 404 */
    n = (size_t)sprintf(s, "GET /");
    memset(s + n, 'u', 4000);
    n += 4000;
    strcpy(s + n, " HTTP/1.1\r\n\r\n");
    ok(feed(s, NULL) == HTTP_DONE, "4000-byte URL accepted");

    /* one 9000-byte header */
    n = (size_t)sprintf(s, "GET / HTTP/1.1\r\nX-Big: ");
    memset(s + n, 'h', 9000);
    n += 9000;
    strcpy(s + n, "\r\n\r\n");
    r = feed(s, NULL);
    ok(r == HTTP_BAD && req.status == 431, "oversize headers: 431 (%d)",
       req.status);

    /* 65 small headers */
    n = (size_t)sprintf(s, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 65; i++)
        n += (size_t)sprintf(s + n, "X-H%d: v\r\n", i);
    strcpy(s + n, "\r\n");
    r = feed(s, NULL);
    ok(r == HTTP_BAD && req.status == 431, "65 headers: 431 (%d)", req.status);

    /* 64 are fine */
    n = (size_t)sprintf(s, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 64; i++)
        n += (size_t)sprintf(s + n, "X-H%d: v\r\n", i);
    strcpy(s + n, "\r\n");
    ok(feed(s, NULL) == HTTP_DONE, "64 headers accepted");

    r = feed("GET / HTTP/1.1\r\nContent-Length: 1025\r\n\r\n", NULL);
    ok(r == HTTP_BAD && req.status == 413, "Content-Length 1025: 413 (%d)",
       req.status);
    r = feed("POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", NULL);
    ok(r == HTTP_BAD && req.status == 413, "huge Content-Length: 413 (%d)",
       req.status);
    n = (size_t)sprintf(s, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked"
                           "\r\n\r\n800\r\n");
    memset(s + n, 'b', 2048);
    n += 2048;
    strcpy(s + n, "\r\n0\r\n\r\n");
    r = feed(s, NULL);
    ok(r == HTTP_BAD && req.status == 413, "chunked body 2048: 413 (%d)",
       req.status);
    r = feed("POST / HTTP/1.1\r\nContent-Length: 4\r\n"
             "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
             NULL);
    ok(r == HTTP_BAD && req.status == 400, "CL and TE together: 400 (%d)",
       req.status);
    r = feed("GARBAGE\r\n\r\n", NULL);
    ok(r == HTTP_BAD && req.status == 400, "garbage: 400 (%d)", req.status);
    r = feed("GET / HTTP/1.1\r\nNoColonHere\r\n\r\n", NULL);
    ok(r == HTTP_BAD && req.status == 400, "header without colon: 400 (%d)",
       req.status);
    r = feed("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2"
             "\r\n\r\n",
             NULL);
    ok(r == HTTP_BAD && req.status == 400, "two Content-Lengths: 400 (%d)",
       req.status);
    r = feed("GET / HTTP/9.1\r\n\r\n", NULL);
    ok(r == HTTP_BAD && (req.status == 505 || req.status == 400),
       "HTTP/9.1: refused (%d)", req.status);
    free(s);
}

/* ---- responses -------------------------------------------------------- */

/* The value of header name in the response in b, or "" (a static copy). */
static const char *header(const struct buf *b, const char *name)
{
    static char v[200];
    char key[64];
    const char *p, *end;
    size_t n;

    snprintf(key, sizeof(key), "\r\n%s: ", name);
    v[0] = '\0';
    p = memmem(b->p, b->len, key, strlen(key));
    end = memmem(b->p, b->len, "\r\n\r\n", 4);
    if (p == NULL || end == NULL || p > end)
        return v;
    p += strlen(key);
    n = strcspn(p, "\r");
    if (n >= sizeof(v))
        n = sizeof(v) - 1;
    memcpy(v, p, n);
    v[n] = '\0';
    return v;
}

/* The body of the response in b, NUL-terminated (a static copy). */
static const char *body(const struct buf *b)
{
    static char s[400];
    const char *end = memmem(b->p, b->len, "\r\n\r\n", 4);
    size_t n;

    if (end == NULL)
        return "";
    end += 4;
    n = (size_t)(b->p + b->len - end);
    if (n >= sizeof(s))
        n = sizeof(s) - 1;
    memcpy(s, end, n);
    s[n] = '\0';
    return s;
}

/* Content-Length says exactly how many bytes follow the head. */
static int length_ok(const struct buf *b)
{
    const char *end = memmem(b->p, b->len, "\r\n\r\n", 4);
    long cl = atol(header(b, "Content-Length"));

    return end != NULL && header(b, "Content-Length")[0] != '\0' &&
           cl == (long)(b->p + b->len - (end + 4));
}

static void reset(struct buf *b)
{
    b->len = 0;
}

static void test_responses(void)
{
    struct buf b = {0};

    feed("GET / HTTP/1.1\r\n\r\n", NULL);
    buf_put(&b, "", 0);
    http_reply_hit(&b, &req, "w7", 42);
    buf_put(&b, "", 1); /* a NUL after it, for the string functions */
    b.len--;
    ok(strncmp(b.p, "HTTP/1.1 200 OK\r\n", 17) == 0, "hit: status line");
    ok(length_ok(&b), "hit: Content-Length is the body's length (%s)",
       header(&b, "Content-Length"));
    is_str(header(&b, "X-Hits"), "42", "hit: X-Hits");
    is_str(header(&b, "X-Worker"), "w7", "hit: X-Worker");
    is_str(body(&b), "Hello World! I am w7, seen 42 times.\n", "hit: body");
    ok(strncmp(header(&b, "Content-Type"), "text/plain", 10) == 0,
       "hit: text/plain");
    ok(strstr(header(&b, "Date"), " GMT") != NULL &&
           strstr(header(&b, "Date"), "1970") == NULL,
       "hit: Date is now (%s)", header(&b, "Date"));
    is_str(header(&b, "Connection"), "",
           "hit: no Connection header on 1.1 "
           "keep-alive");

    reset(&b);
    feed("GET / HTTP/1.1\r\nAccept: application/json\r\n"
         "Connection: close\r\n\r\n",
         NULL);
    http_reply_hit(&b, &req, "w-2", 1234567890123LL);
    buf_put(&b, "", 1);
    b.len--;
    is_str(body(&b), "{\"worker\":\"w-2\",\"hits\":1234567890123}\n",
           "hit: JSON body");
    is_str(header(&b, "Content-Type"), "application/json", "hit: JSON type");
    ok(length_ok(&b), "hit: JSON Content-Length right");
    is_str(header(&b, "Connection"), "close",
           "hit: Connection: close when "
           "not keep-alive");

    reset(&b);
    feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", NULL);
    http_reply_hit(&b, &req, "w1", 1);
    buf_put(&b, "", 1);
    b.len--;
    is_str(header(&b, "Connection"), "keep-alive",
           "hit: HTTP/1.0 "
           "keep-alive said");

    reset(&b);
    feed("GET / HTTP/1.0\r\n\r\n", NULL);
    http_reply_status(&b, &req, 200);
    buf_put(&b, "", 1);
    b.len--;
    is_str(header(&b, "Connection"), "close", "HTTP/1.0: Connection: close");

    reset(&b);
    feed("POST / HTTP/1.1\r\n\r\n", NULL);
    http_reply_status(&b, &req, 405);
    buf_put(&b, "", 1);
    b.len--;
    ok(strncmp(b.p, "HTTP/1.1 405 Method Not Allowed\r\n", 33) == 0,
       "405: status line");
    is_str(header(&b, "Allow"), "GET", "405: Allow: GET");
    ok(length_ok(&b), "405: Content-Length right");
    is_str(header(&b, "Retry-After"), "", "405: no Retry-After");

    reset(&b);
    feed("GET /readyz HTTP/1.1\r\n\r\n", NULL);
    http_reply_status(&b, &req, 503);
    buf_put(&b, "", 1);
    b.len--;
    ok(strncmp(b.p, "HTTP/1.1 503 ", 13) == 0, "503: status line");
    is_str(header(&b, "Retry-After"), "1", "503: Retry-After");
    is_str(header(&b, "Allow"), "", "503: no Allow");
    ok(length_ok(&b), "503: Content-Length right");

    reset(&b);
    feed("GARBAGE\r\n\r\n", NULL);
    http_reply_status(&b, &req, req.status);
    buf_put(&b, "", 1);
    b.len--;
    ok(strncmp(b.p, "HTTP/1.1 400 Bad Request\r\n", 26) == 0 &&
           strcmp(header(&b, "Connection"), "close") == 0,
       "400 for garbage says Connection: close");

    reset(&b);
    feed("GET /hits HTTP/1.1\r\n\r\n", NULL);
    http_reply_json(&b, &req, "{\"total\":3}", 11);
    buf_put(&b, "", 1);
    b.len--;
    is_str(body(&b), "{\"total\":3}\n", "json: body and newline");
    ok(length_ok(&b), "json: Content-Length right");
    free(b.p);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    http_set_date(time(NULL));
    test_ids();
    test_parse_int();
    test_parse_url();
    test_url_safe();
    test_load();
    test_routes();
    test_ids_in_requests();
    test_framing();
    test_limits();
    test_responses();
    printf("1..%d\n", tests);
    return failures ? 1 : 0;
}
