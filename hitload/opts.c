/* opts.c: parse hitload's options and URLs; resolve the entry points;
 * refuse targets off loopback. */
#include "opts.h"
#include "log.h"
#include "version.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char opts_usage[] =
    "usage: hitload -d SECONDS [options] http://HOST[:PORT][/PATH] [URL...]\n"
    "  each URL, and each address of its host, is an entry point: a\n"
    "  connection starts on one (round robin) and moves to the next when\n"
    "  one refuses or times out, retrying with the same key\n"
    "  -d, --duration S      start requests for S seconds, then drain\n"
    "  -c, --connections N   connections (default 10)\n"
    "  -R, --rate R          open loop: R requests/s in all (default: "
    "closed loop)\n"
    "  -n, --requests MAX    start at most MAX requests\n"
    "      --run ID          key prefix: keys are ID-SEQ (default: random)\n"
    "      --timeout-ms MS   one attempt's limit (default 2000)\n"
    "      --backoff-ms MS   first retry's wait, doubling to 500 "
    "(default 5)\n"
    "      --attempts N      attempts per request (default 20)\n"
    "      --ledger FILE     TSV: key attempts status hits worker "
    "latency_us\n"
    "                        sent_us done_us (monotonic clock)\n"
    "      --summary FILE    JSON summary\n"
    "      --series FILE     CSV: t_ms,answered,retried,failed,p99_us\n"
    "      --status FILE     one live line, rewritten every second\n"
    "      --allow-host[=H]  allow a target off loopback (H: only that "
    "one)\n"
    "exit: 0 done, 100 usage, 111 system error\n";

enum {
    O_RUN = 256,
    O_TIMEOUT,
    O_BACKOFF,
    O_ATTEMPTS,
    O_LEDGER,
    O_SUMMARY,
    O_SERIES,
    O_STATUS,
    O_ALLOW,
    O_HELP,
    O_VERSION
};

static const struct option longopts[] = {
    {"duration", required_argument, NULL, 'd'},
    {"connections", required_argument, NULL, 'c'},
    {"rate", required_argument, NULL, 'R'},
    {"requests", required_argument, NULL, 'n'},
    {"run", required_argument, NULL, O_RUN},
    {"timeout-ms", required_argument, NULL, O_TIMEOUT},
    {"backoff-ms", required_argument, NULL, O_BACKOFF},
    {"attempts", required_argument, NULL, O_ATTEMPTS},
    {"ledger", required_argument, NULL, O_LEDGER},
    {"summary", required_argument, NULL, O_SUMMARY},
    {"series", required_argument, NULL, O_SERIES},
    {"status", required_argument, NULL, O_STATUS},
    {"allow-host", optional_argument, NULL, O_ALLOW},
    {"help", no_argument, NULL, O_HELP},
    {"version", no_argument, NULL, O_VERSION},
    {NULL, 0, NULL, 0}};

static int bad(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* A whole decimal integer in [min, max]. Returns 0 or -1. */
static int parse_ll(const char *s, long long min, long long max, long long *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_int(const char *s, int min, int max, int *out)
{
    long long v;

    if (parse_ll(s, min, max, &v) < 0)
        return -1;
    *out = (int)v;
    return 0;
}

/* A finite number in (0, max]. Returns 0 or -1. */
static int parse_pos(const char *s, double max, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(v) || v <= 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* The long name of option ch, for error lines. */
static const char *name(int ch)
{
    for (const struct option *l = longopts; l->name != NULL; l++)
        if (l->val == ch)
            return l->name;
    return "?";
}

static int run_ok(const char *s)
{
    size_t n = strlen(s);

    if (n < 1 || n > OPTS_RUN_MAX)
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789._:-") == n;
}

/* Split http://host[:port][/path] into e. Returns 0, or -1 with err. */
static int parse_url(struct entry *e, const char *url, char *err,
                     size_t errlen)
{
    const char *p = url, *host, *hend, *path;
    size_t n;

    if (strncasecmp(p, "http://", 7) != 0)
        return bad(err, errlen, "the URL must start with http://: %s", url);
    p += 7;
    path = p + strcspn(p, "/?#");
    if (*p == '[') {
        host = p + 1;
        hend = memchr(host, ']', (size_t)(path - host));
        if (hend == NULL)
            return bad(err, errlen, "no ] in the URL: %s", url);
        p = hend + 1;
    } else {
        host = p;
        hend = memchr(p, ':', (size_t)(path - p));
        if (hend == NULL)
            hend = path;
        p = hend;
    }
    n = (size_t)(hend - host);
    if (n == 0 || n > OPTS_HOST_MAX)
        return bad(err, errlen, "no host, or one too long, in %s", url);
    memcpy(e->host, host, n);
    e->host[n] = '\0';
    strcpy(e->port, "80");
    if (p < path && *p == ':') {
        int port;
        char ps[8] = "";

        n = (size_t)(path - p - 1);
        if (n < sizeof(ps))
            memcpy(ps, p + 1, n);
        if (n >= sizeof(ps) || parse_int(ps, 1, 65535, &port) < 0)
            return bad(err, errlen, "bad port in the URL: %s", url);
        snprintf(e->port, sizeof(e->port), "%d", port);
    } else if (p != path) {
        return bad(err, errlen, "bad URL: %s", url);
    }
    if (*path == '#' || strcspn(path, " \t\r\n#") != strlen(path))
        return bad(err, errlen, "bad path in the URL: %s", url);
    if (strlen(path) > OPTS_PATH_MAX)
        return bad(err, errlen, "the URL's path is too long");
    snprintf(e->path, sizeof(e->path), "%s%s", *path == '/' ? "" : "/", path);
    snprintf(e->authority, sizeof(e->authority),
             strchr(e->host, ':') ? "[%s]%s%s" : "%s%s%s", e->host,
             strcmp(e->port, "80") ? ":" : "",
             strcmp(e->port, "80") ? e->port : "");
    e->url = url;
    return 0;
}

/* Take option ch's value, optarg, into o. Returns 0, or -1 when the
 * value is bad. */
static int take(struct opts *o, int ch)
{
    switch (ch) {
    case 'd':
        return parse_pos(optarg, OPTS_DURATION_MAX, &o->duration_s);
    case 'c':
        return parse_int(optarg, 1, OPTS_CONNS_MAX, &o->connections);
    case 'R':
        return parse_pos(optarg, OPTS_RATE_MAX, &o->rate);
    case 'n':
        return parse_ll(optarg, 1, 1000000000000LL, &o->max_reqs);
    case O_RUN:
        if (!run_ok(optarg))
            return -1;
        strcpy(o->run, optarg);
        return 0;
    case O_TIMEOUT:
        return parse_int(optarg, 1, 600000, &o->timeout_ms);
    case O_BACKOFF:
        return parse_int(optarg, 0, BACKOFF_MAX_MS, &o->backoff_ms);
    case O_ATTEMPTS:
        return parse_int(optarg, 1, 1000, &o->attempts);
    case O_LEDGER:
        o->ledger = optarg;
        return 0;
    case O_SUMMARY:
        o->summary = optarg;
        return 0;
    case O_SERIES:
        o->series = optarg;
        return 0;
    case O_STATUS:
        o->status = optarg;
        return 0;
    case O_ALLOW:
        if (optarg == NULL)
            o->allow_any = 1;
        else
            o->allow_host = optarg;
        return 0;
    }
    co_assert(!"an option getopt_long returned and take() lacks");
}

int opts_parse(struct opts *o, int argc, char **argv, char *err, size_t errlen)
{
    int ch;

    memset(o, 0, sizeof(*o));
    o->connections = 10;
    o->timeout_ms = 2000;
    o->backoff_ms = 5;
    o->attempts = 20;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":d:c:R:n:", longopts, NULL)) != -1) {
        switch (ch) {
        case O_HELP:
            fputs(opts_usage, stdout);
            return 1;
        case O_VERSION:
            puts("hitload " CRASHONLY_VERSION);
            return 1;
        case ':':
            return bad(err, errlen, "option %s needs a value",
                       argv[optind - 1]);
        case '?':
            return bad(err, errlen, "unknown option %s (try --help)",
                       argv[optind - 1]);
        }
        if (take(o, ch) < 0)
            return bad(err, errlen, "bad value for --%s: '%s'", name(ch),
                       optarg);
    }
    if (optind == argc)
        return bad(err, errlen,
                   "give a URL, e.g. http://127.0.0.1:8080/ "
                   "(try --help)");
    if (argc - optind > OPTS_ENTRIES_MAX)
        return bad(err, errlen, "more than %d URLs", OPTS_ENTRIES_MAX);
    if (o->duration_s <= 0)
        return bad(err, errlen,
                   "-d SECONDS is required: every run is "
                   "bounded in time");
    for (int i = optind; i < argc; i++)
        if (parse_url(&o->entry[o->entries++], argv[i], err, errlen) < 0)
            return -1;
    return 0;
}

static int addr_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return 0;
}

/* A host we may load without --allow-host: "localhost", 127.0.0.0/8, ::1
 * written as literals. */
static int host_loopback(const char *host)
{
    unsigned char a[16];

    if (strcasecmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, a) == 1)
        return a[0] == 127;
    if (inet_pton(AF_INET6, host, a) == 1)
        return IN6_IS_ADDR_LOOPBACK((struct in6_addr *)a);
    return 0;
}

/* sa as "ip:port" or "[ip6]:port" into out (OPTS_ADDR_MAX bytes). */
static void addr_text(const struct sockaddr *sa, char *out)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
        port = ntohs(in6->sin6_port);
    }
    snprintf(out, OPTS_ADDR_MAX,
             sa->sa_family == AF_INET6 ? "[%s]:%d" : "%s:%d", ip, port);
}

/* Resolve URL entry u into out[*n], one entry per address (every answer
 * getaddrinfo gives, as a client with several DNS answers tries them).
 * Returns 0, or -1 with err. */
static int resolve_one(const struct opts *o, const struct entry *u,
                       struct entry *out, int *n, char *err, size_t errlen)
{
    struct addrinfo hints, *res;
    int local = host_loopback(u->host), rc;

    if (!local && !o->allow_any &&
        (o->allow_host == NULL || strcasecmp(o->allow_host, u->host) != 0))
        return bad(err, errlen,
                   "refusing to load %s: only 127.0.0.0/8, ::1 and "
                   "localhost, unless --allow-host",
                   u->host);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(u->host, u->port, &hints, &res);
    if (rc != 0)
        return bad(err, errlen, "cannot resolve %s: %s", u->host,
                   gai_strerror(rc));
    for (const struct addrinfo *a = res; a != NULL; a = a->ai_next) {
        struct entry *e = &out[*n];

        if (local && !addr_loopback(a->ai_addr)) {
            freeaddrinfo(res);
            return bad(err, errlen, "%s does not resolve to loopback",
                       u->host);
        }
        if (*n == OPTS_ENTRIES_MAX) {
            freeaddrinfo(res);
            return bad(err, errlen,
                       "more than %d entry points (URLs x addresses)",
                       OPTS_ENTRIES_MAX);
        }
        *e = *u;
        memcpy(&e->addr, a->ai_addr, a->ai_addrlen);
        e->addrlen = a->ai_addrlen;
        addr_text(a->ai_addr, e->addr_text);
        (*n)++;
    }
    freeaddrinfo(res);
    return 0;
}

int opts_resolve(struct opts *o, char *err, size_t errlen)
{
    static struct entry out[OPTS_ENTRIES_MAX]; /* scratch, off the stack */
    int n = 0;

    for (int i = 0; i < o->entries; i++)
        if (resolve_one(o, &o->entry[i], out, &n, err, errlen) < 0)
            return -1;
    memcpy(o->entry, out, sizeof(out[0]) * (size_t)n);
    o->entries = n;
    return 0;
}
