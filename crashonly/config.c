/* config.c: environment in, a struct config out; nothing else. */
#include "config.h"
#include "syntax.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int config_parse_int(const char *s, long min, long max, int *out)
{
    char *end;
    long v;

    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end != '\0' || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

int config_name_ok(const char *s)
{
    size_t n = strlen(s);

    return n <= CONFIG_NAME_MAX && syntax_token(s, n);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Copy s[0..n) to out, decoding %XX. Returns 0, or -1 if it does not fit
 * or an escape is broken. */
static int decode(const char *s, size_t n, char *out, size_t outlen)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (c == '%') {
            int hi, lo;

            if (i + 2 >= n)
                return -1;
            hi = hexval(s[i + 1]);
            lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= outlen)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

#define FAIL(...)                           \
    do {                                    \
        snprintf(err, errlen, __VA_ARGS__); \
        return -1;                          \
    } while (0)

/* Parse host, [v6host], host:port or [v6host]:port in s[0..n) into hp;
 * the port defaults to port. Errors start with what. */
static int parse_host_port(const char *s, size_t n, struct host_port *hp,
                           int port, const char *what, char *err,
                           size_t errlen)
{
    const char *p = s, *end = s + n;
    size_t len;

    hp->port = port;
    if (p < end && *p == '[') {
        const char *close = memchr(p, ']', n);

        if (close == NULL)
            FAIL("%s: unclosed [ in host", what);
        len = (size_t)(close - p - 1);
        if (len == 0 || len >= sizeof(hp->host))
            FAIL("%s: bad host", what);
        memcpy(hp->host, p + 1, len);
        hp->host[len] = '\0';
        p = close + 1;
        if (p < end && *p != ':')
            FAIL("%s: junk after ]", what);
    } else {
        const char *hend = memchr(p, ':', n);

        if (hend == NULL)
            hend = end;
        len = (size_t)(hend - p);
        if (len == 0 || len >= sizeof(hp->host))
            FAIL("%s: missing or oversize host", what);
        memcpy(hp->host, p, len);
        hp->host[len] = '\0';
        p = hend;
    }
    if (p < end) { /* at ':' */
        char num[8];

        len = (size_t)(end - p - 1);
        if (len == 0 || len >= sizeof(num))
            FAIL("%s: bad port", what);
        memcpy(num, p + 1, len);
        num[len] = '\0';
        if (config_parse_int(num, 1, 65535, &hp->port) < 0)
            FAIL("%s: bad port '%s'", what, num);
    }
    return 0;
}

int config_parse_url(const char *s, struct redis_url *u, char *err,
                     size_t errlen)
{
    const char *p, *at, *end, *colon;
    struct host_port hp;

    memset(u, 0, sizeof(*u));
    if (strncmp(s, "rediss://", 9) == 0)
        FAIL("REDIS_URL: TLS (rediss://) is not supported");
    if (strncmp(s, "redis://", 8) != 0)
        FAIL("REDIS_URL: must start with redis://");
    p = s + 8;
    end = p + strcspn(p, "/?#");

    /* user:password@ */
    at = memrchr(p, '@',
                 (size_t)(end - p)); /* the last: a password may hold @ */
    if (at != NULL) {
        colon = memchr(p, ':', (size_t)(at - p));
        if (colon == NULL)
            FAIL("REDIS_URL: credentials must be user:password@ or "
                 ":password@");
        if (decode(p, (size_t)(colon - p), u->user, sizeof(u->user)) < 0 ||
            decode(colon + 1, (size_t)(at - colon - 1), u->pass,
                   sizeof(u->pass)) < 0)
            FAIL("REDIS_URL: bad or oversize user or password");
        if (u->pass[0] == '\0')
            FAIL("REDIS_URL: empty password");
        p = at + 1;
    }

    /* host, [v6host], :port */
    if (parse_host_port(p, (size_t)(end - p), &hp, 6379, "REDIS_URL", err,
                        errlen) < 0)
        return -1;
    memcpy(u->host, hp.host, sizeof(u->host));
    u->port = hp.port;

    /* /db */
    if (*end == '/' && end[1] != '\0') {
        if (config_parse_int(end + 1, 0, 1000000, &u->db) < 0)
            FAIL("REDIS_URL: bad database number '%s'", end + 1);
    } else if (*end != '\0' && !(*end == '/' && end[1] == '\0')) {
        FAIL("REDIS_URL: query and fragment are not supported");
    }
    return 0;
}

int config_parse_sentinels(const char *s, struct config *c, char *err,
                           size_t errlen)
{
    c->nsentinels = 0;
    for (;;) {
        size_t n = strcspn(s, ",");

        if (c->nsentinels == CONFIG_SENTINELS_MAX)
            FAIL("REDIS_SENTINELS: more than %d addresses",
                 CONFIG_SENTINELS_MAX);
        if (n == 0)
            FAIL("REDIS_SENTINELS: an empty address: host:port,host:port");
        if (parse_host_port(s, n, &c->sentinels[c->nsentinels], 26379,
                            "REDIS_SENTINELS", err, errlen) < 0)
            return -1;
        c->nsentinels++;
        if (s[n] == '\0')
            return 0;
        s += n + 1;
    }
}

void config_url_safe(const struct redis_url *u, char *out, size_t outlen)
{
    int v6 = strchr(u->host, ':') != NULL;

    snprintf(out, outlen, "redis://%s%s%s%s%s:%d/%d", u->user,
             u->pass[0] ? ":***@" : "", v6 ? "[" : "", u->host, v6 ? "]" : "",
             u->port, u->db);
}

/* Read one integer variable; a missing or empty one keeps the default. */
static int env_int(const char *name, long min, long max, int *out, char *err,
                   size_t errlen)
{
    const char *v = getenv(name);

    if (v == NULL || *v == '\0')
        return 0;
    if (config_parse_int(v, min, max, out) < 0)
        FAIL("%s: '%.40s' is not a whole number from %ld to %ld", name, v, min,
             max);
    return 0;
}

int config_load(struct config *c, char *err, size_t errlen)
{
    const char *v;

    memset(c, 0, sizeof(*c));
    c->port = 8080;
    c->dedupe_seconds = 300;
    c->redis_timeout_ms = 2000;
    c->idle_timeout_ms = 60000;
    c->header_timeout_ms = 10000;
    c->max_conns = 10000;

    if (env_int("PORT", 1, 65535, &c->port, err, errlen) < 0 ||
        env_int("DEDUPE_SECONDS", 1, 30 * 86400, &c->dedupe_seconds, err,
                errlen) < 0 ||
        env_int("REDIS_TIMEOUT_MS", 10, 600000, &c->redis_timeout_ms, err,
                errlen) < 0 ||
        env_int("IDLE_TIMEOUT_MS", 100, 3600000, &c->idle_timeout_ms, err,
                errlen) < 0 ||
        env_int("HEADER_TIMEOUT_MS", 100, 600000, &c->header_timeout_ms, err,
                errlen) < 0 ||
        env_int("MAX_CONNS", 1, 1000000, &c->max_conns, err, errlen) < 0)
        return -1;

    v = getenv("BIND");
    if (v == NULL || *v == '\0')
        v = "0.0.0.0";
    if (strlen(v) >= sizeof(c->bind))
        FAIL("BIND: too long");
    strcpy(c->bind, v);

    v = getenv("WORKER_NAME");
    if (v != NULL && *v != '\0') {
        if (!config_name_ok(v))
            FAIL("WORKER_NAME: '%.70s' is not 1-64 of [A-Za-z0-9._:-]", v);
        strcpy(c->worker, v);
    } else {
        char host[256];

        if (gethostname(host, sizeof(host)) < 0)
            FAIL("WORKER_NAME: unset, and gethostname failed");
        host[sizeof(host) - 1] = '\0';
        host[strcspn(host, ".")] = '\0'; /* the short name */
        if (!config_name_ok(host))
            FAIL("WORKER_NAME: unset, and hostname '%.70s' is not usable",
                 host);
        strcpy(c->worker, host);
    }

    v = getenv("REDIS_URL");
    if (v == NULL || *v == '\0')
        v = "redis://127.0.0.1:6379";
    if (config_parse_url(v, &c->redis, err, errlen) < 0)
        return -1;

    v = getenv("REDIS_SENTINELS");
    if (v != NULL && *v != '\0' &&
        config_parse_sentinels(v, c, err, errlen) < 0)
        return -1;
    v = getenv("REDIS_MASTER_NAME");
    if (v == NULL || *v == '\0')
        v = "crashonly";
    if (strlen(v) > CONFIG_NAME_MAX || !syntax_token(v, strlen(v)))
        FAIL("REDIS_MASTER_NAME: '%.70s' is not 1-64 of [A-Za-z0-9._:-]", v);
    strcpy(c->master, v);
    /* Replicated (Sentinels): a hit is on two disks before it is answered,
     * unless said otherwise. */
    c->ack_replicas = c->nsentinels > 0 ? 1 : 0;
    return env_int("ACK_REPLICAS", 0, CONFIG_REPLICAS_MAX, &c->ack_replicas,
                   err, errlen);
}
