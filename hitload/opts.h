/* opts.h: hitload's command line in, one struct out; the entry points
 * resolved and checked. */
#ifndef HITLOAD_OPTS_H
#define HITLOAD_OPTS_H

#include <stddef.h>
#include <sys/socket.h>

#define OPTS_ERR_MAX      200     /* room for one error line */
#define OPTS_RUN_MAX      100     /* run id: the key <run>-<seq> stays <= 128 */
#define OPTS_HOST_MAX     255     /* host as written in the URL, no brackets */
#define OPTS_PATH_MAX     1024    /* path and query of the URL */
#define OPTS_CONNS_MAX    10000   /* -c: within one process's descriptors */
#define OPTS_DURATION_MAX 86400.0 /* one day: every run is bounded */
#define OPTS_RATE_MAX     10000000.0 /* -R: far past what loopback takes */
#define BACKOFF_MAX_MS    500        /* the cap on the doubling backoff */
#define OPTS_ENTRIES_MAX  16 /* entry points: URLs x their addresses */
#define OPTS_ADDR_MAX     56 /* "[v6 address]:port" and its NUL */

/* One entry point: a URL and one of the addresses its host resolves to
 * (a URL whose host has several makes an entry of each, in
 * getaddrinfo's order). */
struct entry {
    const char *url;                   /* as given: argv's */
    char host[OPTS_HOST_MAX + 1];      /* URL host, IPv6 without brackets */
    char port[8];                      /* URL port, "80" by default */
    char authority[OPTS_HOST_MAX + 9]; /* the Host header: host[:port] */
    char path[OPTS_PATH_MAX + 2];      /* request target, "/" by default */
    struct sockaddr_storage addr;      /* resolved once, at start */
    socklen_t addrlen;
    char addr_text[OPTS_ADDR_MAX];     /* addr as "ip:port", "[ip6]:port" */
};

struct opts {
    struct entry entry[OPTS_ENTRIES_MAX]; /* the entry points, in order */
    int entries;        /* how many: one URL a parse, one address a resolve */
    int connections;    /* -c: connections in closed loop, the cap in open */
    double rate;        /* -R: requests/s in all; 0 means closed loop */
    double duration_s;  /* -d: how long new requests are started */
    long long max_reqs; /* -n: stop starting after this many (0: no cap) */
    char run[OPTS_RUN_MAX + 1]; /* --run: the key prefix */
    int timeout_ms;             /* --timeout-ms: one attempt's limit */
    int backoff_ms;             /* --backoff-ms: the first retry's wait */
    int attempts;               /* --attempts: per request, the first too */
    const char *ledger;         /* --ledger: TSV path, or NULL */
    const char *summary;        /* --summary: JSON path, or NULL */
    const char *series;         /* --series: CSV path, or NULL */
    const char *status;         /* --status: live status path, or NULL */
    int allow_any;              /* --allow-host: any host may be the target */
    const char *allow_host;     /* --allow-host=HOST: that host may be */
};

/* Fill o from argv. Returns 0; 1 when --help or --version printed and the
 * process should exit 0; -1 with one line in err (a usage error). The
 * strings o points to are argv's. */
int opts_parse(struct opts *o, int argc, char **argv, char *err, size_t errlen);

/* Resolve each entry's host:port; a host with several addresses becomes
 * an entry for each, after it. Check each is a target we may load:
 * loopback, unless --allow-host. Returns 0, or -1 with err (one that
 * does not resolve, one refused, more than OPTS_ENTRIES_MAX in all). */
int opts_resolve(struct opts *o, char *err, size_t errlen);

/* The usage text, for --help. */
extern const char opts_usage[];

#endif
