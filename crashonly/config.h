/* config.h: the worker's configuration, read from the environment only. */
#ifndef CRASHONLY_CONFIG_H
#define CRASHONLY_CONFIG_H

#include <stddef.h>

#define CONFIG_NAME_MAX      64  /* WORKER_NAME, REDIS_MASTER_NAME length */
#define CONFIG_ERR_MAX       160 /* room for one error line */
#define CONFIG_SENTINELS_MAX 9   /* addresses in REDIS_SENTINELS */
#define CONFIG_REPLICAS_MAX  8   /* ACK_REPLICAS */

struct host_port {
    char host[256]; /* name or address, IPv6 without brackets */
    int port;
};

struct redis_url {
    char host[256]; /* name or address, IPv6 without brackets */
    int port;
    char user[128]; /* empty: the default user */
    char pass[256]; /* empty: no AUTH */
    int db;         /* SELECT db when not 0 */
};

struct config {
    char bind[256];                   /* BIND: address to listen on */
    int port;                         /* PORT */
    char worker[CONFIG_NAME_MAX + 1]; /* WORKER_NAME, default the hostname */
    struct redis_url redis;           /* REDIS_URL; with Sentinels, only its
                                         user, password and db count */
    struct host_port sentinels[CONFIG_SENTINELS_MAX]; /* REDIS_SENTINELS */
    int nsentinels;                      /* 0: REDIS_URL names the Redis */
    char master[CONFIG_NAME_MAX + 1];    /* REDIS_MASTER_NAME, for those */
    int ack_replicas; /* ACK_REPLICAS: a hit is answered once on disk on
                         the master and this many replicas (WAITAOF) */
    int dedupe_seconds;    /* DEDUPE_SECONDS: how long an id is remembered */
    int redis_timeout_ms;  /* REDIS_TIMEOUT_MS: slower than this is a crash */
    int idle_timeout_ms;   /* IDLE_TIMEOUT_MS: keep-alive between requests */
    int header_timeout_ms; /* HEADER_TIMEOUT_MS: to receive one request */
    int max_conns;         /* MAX_CONNS: clients past this get 503 */
};

/* Fill c from the environment. Returns 0, or -1 with one line in err. */
int config_load(struct config *c, char *err, size_t errlen);

/* Parse redis://[user:password@]host[:port][/db] into u, decoding %XX in
 * the user and password. Returns 0, or -1 with one line in err. */
int config_parse_url(const char *s, struct redis_url *u, char *err,
                     size_t errlen);

/* Parse REDIS_SENTINELS, host:port[,host:port...] ([v6]:port for IPv6;
 * the port defaults to 26379), into c->sentinels. Returns 0, or -1 with
 * one line in err. */
int config_parse_sentinels(const char *s, struct config *c, char *err,
                           size_t errlen);

/* Parse a whole decimal integer in [min, max]. Returns 0 or -1. */
int config_parse_int(const char *s, long min, long max, int *out);

/* True when s is a usable worker name: 1-64 of [A-Za-z0-9._:-]. */
int config_name_ok(const char *s);

/* REDIS_URL with the password hidden, for logs. */
void config_url_safe(const struct redis_url *u, char *out, size_t outlen);

#endif
