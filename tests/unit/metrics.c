/* metrics.c: GET /metrics: its route, the counters moving as answers and
 * calls are counted, and every line of its text in Prometheus's format. */
#include "unit.h"
#include "metrics.h"
#include "version.h"

#include <ctype.h>
#include <stdlib.h>

/* True when line (no newline) is one line of the text format 0.0.4: a
 * "# HELP name text" or "# TYPE name type", or a sample: a name
 * ([a-zA-Z_:][a-zA-Z0-9_:]*), optional {label="value",...} and a number. */
static int line_ok(const char *line)
{
    const char *p = line;
    char *end;

    if (strncmp(p, "# HELP ", 7) == 0 || strncmp(p, "# TYPE ", 7) == 0)
        p += 7;
    if (!(isalpha((unsigned char)*p) || *p == '_' || *p == ':'))
        return 0;
    while (isalnum((unsigned char)*p) || *p == '_' || *p == ':')
        p++;
    if (line[0] == '#')
        return *p == ' ' && p[1] != '\0';
    if (*p == '{') {
        do {
            p++;
            if (!(isalpha((unsigned char)*p) || *p == '_'))
                return 0;
            while (isalnum((unsigned char)*p) || *p == '_')
                p++;
            if (p[0] != '=' || p[1] != '"')
                return 0;
            for (p += 2; *p != '"'; p++)
                if (*p == '\0' || *p == '\\' || *p == '\n')
                    return 0;
            p++;
        } while (*p == ',');
        if (*p++ != '}')
            return 0;
    }
    if (*p++ != ' ')
        return 0;
    strtod(p, &end);
    return end != p && *end == '\0';
}

/* The text as a NUL-terminated string (the caller frees it), and whether
 * every one of its lines is in the format. */
static char *render(int *all_ok)
{
    struct buf b = BUF_EMPTY;
    char *text, *line, *save;

    metrics_render(&b, 3);
    buf_put(&b, "", 1);
    text = xmalloc(b.len);
    memcpy(text, b.p, b.len);
    *all_ok = b.len > 1 && b.p[b.len - 2] == '\n';
    for (line = strtok_r(b.p, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save))
        if (!line_ok(line)) {
            printf("#   not in the format: %s\n", line);
            *all_ok = 0;
        }
    free(b.p);
    return text;
}

/* The value of the sample whose name and labels are series, or -1. */
static double sample(const char *text, const char *series)
{
    size_t len = strlen(series);

    for (const char *p = text; p != NULL && *p; p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        if (strncmp(p, series, len) == 0 && p[len] == ' ')
            return strtod(p + len + 1, NULL);
    }
    return -1;
}

/* The route, and the checker of the text format the tests below use. */
static void test_route_and_format(void)
{
    enum route_action a;
    int status;

    feed("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", NULL);
    is_int(route_find(req), METRICS_METRICS, "/metrics: its label");
    is_int(route_act(req, METRICS_METRICS, &status), ROUTE_METRICS,
           "GET /metrics renders them");
    feed("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
         NULL);
    a = route_plan(req, &status);
    ok(a == ROUTE_REPLY && status == 405, "POST /metrics: 405");
    feed("GET /metricsx HTTP/1.1\r\nHost: x\r\n\r\n", NULL);
    is_int(route_find(req), METRICS_OTHER, "/metricsx: not ours");

    ok(line_ok("crashonly_hits_counted_total 4"), "a sample is in the format");
    ok(line_ok("a_bucket{le=\"+Inf\",x=\"y\"} 1.5e3"), "labels are");
    ok(!line_ok("a{le=+Inf} 1"), "an unquoted label value is not");
    ok(!line_ok("a 1 2 3"), "nor trailing words");
    ok(!line_ok("9a 1"), "nor a name starting with a digit");
    ok(!line_ok("# TYPE a"), "nor a TYPE with no type");
}

/* The text of a fresh worker, then of one that counted. */
static void test_counts(void)
{
    int all_ok;
    char *text;

    text = render(&all_ok);
    ok(all_ok, "fresh: every line in the format");
    is_int(sample(text, "crashonly_hits_counted_total"), 0, "fresh: 0 hits");
    is_int(sample(text, "crashonly_connections_open"), 3, "connections open");
    ok(strstr(text, "crashonly_build_info{version=\"" CRASHONLY_VERSION
                    "\",library=\"") != NULL,
       "build info: version, library");
    ok(strstr(text, "# TYPE process_start_time_seconds gauge\n") != NULL,
       "process_start_time_seconds");
    free(text);

    metrics_response(METRICS_HIT, 200);
    metrics_response(METRICS_HIT, 200);
    metrics_response(METRICS_HIT, 503);
    metrics_response(METRICS_OTHER, 418);
    metrics_refused(METRICS_MAX_CONNS);
    metrics_call(3, 2, 1, 0.003);
    metrics_call(1000, 1000, 0, 0.2);
    metrics_ack(0.0004);
    text = render(&all_ok);
    ok(all_ok, "counted: every line in the format");
    is_int(sample(text, "crashonly_http_requests_total{route=\"/\","
                        "code=\"200\"}"),
           2, "two 200s of /");
    is_int(sample(text, "crashonly_http_requests_total{route=\"/\","
                        "code=\"503\"}"),
           1, "a 503 of /");
    is_int(sample(text, "crashonly_http_requests_total{route=\"other\","
                        "code=\"other\"}"),
           1, "a status not ours: code other");
    is_int(sample(text, "crashonly_connections_refused_total{reason="
                        "\"max_conns\"}"),
           1, "one refused past MAX_CONNS");
    is_int(sample(text, "crashonly_hits_counted_total"), 1002, "hits counted");
    is_int(sample(text, "crashonly_hits_repeated_total"), 1, "a repeat");
    is_int(sample(text, "crashonly_redis_call_hits_bucket{le=\"2\"}"), 0,
           "no call of 2 or fewer");
    is_int(sample(text, "crashonly_redis_call_hits_bucket{le=\"4\"}"), 1,
           "a call of 3: le 4");
    is_int(sample(text, "crashonly_redis_call_hits_bucket{le=\"1000\"}"), 2,
           "one of 1000: le 1000, cumulative");
    is_int(sample(text, "crashonly_redis_call_hits_sum"), 1003, "sum");
    is_int(sample(text, "crashonly_redis_call_duration_seconds_bucket{le="
                        "\"0.0025\"}"),
           0, "3 ms: not le 2.5 ms");
    is_int(sample(text, "crashonly_redis_call_duration_seconds_bucket{le="
                        "\"0.005\"}"),
           1, "3 ms: le 5 ms");
    is_int(sample(text, "crashonly_redis_call_duration_seconds_bucket{le="
                        "\"+Inf\"}"),
           2, "+Inf: all calls");
    is_int(sample(text, "crashonly_redis_ack_duration_seconds_bucket{le="
                        "\"0.0005\"}"),
           1, "an ack of 0.4 ms: le 0.5 ms");
    is_int(sample(text, "crashonly_redis_ack_duration_seconds_count"), 1,
           "one ack");
    free(text);
}

void test_metrics(void)
{
    test_route_and_format();
    test_counts();
}
