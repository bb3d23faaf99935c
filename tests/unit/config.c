/* config.c: ids and names, and the configuration read from the
 * environment: integers, REDIS_URL, the whole of config_load. */
#include "config.h"
#include "unit.h"

#include <stdlib.h>

/* ---- ids and names ---------------------------------------------------- */

void test_ids(void)
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

void test_parse_int(void)
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

/* REDIS_URLs refused, and why. */
static const char *const bad_urls[] = {
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

/* Host, port and db, IPv6 among them. */
static void test_url_address(void)
{
    struct redis_url u;
    char err[CONFIG_ERR_MAX];

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

    ok(url("redis://[::1]:6380", &u, err) == 0, "url: [::1]:6380");
    is_str(u.host, "::1", "url: IPv6 host without brackets");
    is_int(u.port, 6380, "url: IPv6 port");
    ok(url("redis://[fe80::1]/4", &u, err) == 0 && u.port == 6379 &&
           u.db == 4 && strcmp(u.host, "fe80::1") == 0,
       "url: [v6]/db");
}

/* user:password@, %XX escapes in both. */
static void test_url_credentials(void)
{
    struct redis_url u;
    char err[CONFIG_ERR_MAX];

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
}

void test_parse_url(void)
{
    struct redis_url u;
    char err[CONFIG_ERR_MAX];

    test_url_address();
    test_url_credentials();
    for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++)
        ok(url(bad_urls[i], &u, err) < 0 &&
               strncmp(err, "REDIS_URL: ", 11) == 0,
           "url: '%s' refused (%s)", bad_urls[i], err);
    url("rediss://h", &u, err);
    ok(strstr(err, "TLS") != NULL, "url: rediss:// says TLS");
    url("redis://h:65536", &u, err);
    ok(strstr(err, "port") != NULL, "url: bad port says port");
}

void test_url_safe(void)
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

void test_parse_sentinels(void)
{
    struct config c;
    char err[CONFIG_ERR_MAX];
    const char *bad[] = {
        "",          /* nothing */
        ",",         /* two empty addresses */
        "h:1,",      /* a trailing comma */
        ",h:1",      /* a leading one */
        "h:1,,h:2",  /* an empty one inside */
        "h:0",       /* port 0 */
        "h:99999",   /* port too big */
        "h:x",       /* port not a number */
        "h:",        /* no port after : */
        "[::1",      /* unclosed [ */
        "[::1]x",    /* junk after ] */
        ":26379",    /* no host */
        "a,b,c,d,e,f,g,h,i,j", /* ten: more than CONFIG_SENTINELS_MAX */
    };

    ok(config_parse_sentinels("s1", &c, err, sizeof(err)) == 0 &&
           c.nsentinels == 1 && strcmp(c.sentinels[0].host, "s1") == 0 &&
           c.sentinels[0].port == 26379,
       "sentinels: one host, the default port 26379");
    ok(config_parse_sentinels("127.0.0.1:1,s2:26380,[::1]:3", &c, err,
                              sizeof(err)) == 0 &&
           c.nsentinels == 3,
       "sentinels: three, IPv6 in brackets (%s)", err);
    ok(strcmp(c.sentinels[0].host, "127.0.0.1") == 0 &&
           c.sentinels[0].port == 1 && strcmp(c.sentinels[1].host, "s2") == 0 &&
           c.sentinels[1].port == 26380 &&
           strcmp(c.sentinels[2].host, "::1") == 0 && c.sentinels[2].port == 3,
       "sentinels: each host and port taken");
    ok(config_parse_sentinels("a,b,c,d,e,f,g,h,i", &c, err, sizeof(err)) == 0 &&
           c.nsentinels == CONFIG_SENTINELS_MAX,
       "sentinels: nine, the most");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ok(config_parse_sentinels(bad[i], &c, err, sizeof(err)) < 0 &&
               strncmp(err, "REDIS_SENTINELS: ", 17) == 0,
           "sentinels: '%s' refused (%s)", bad[i], err);
}

static const char *vars[] = {"PORT",
                             "DEDUPE_SECONDS",
                             "REDIS_TIMEOUT_MS",
                             "IDLE_TIMEOUT_MS",
                             "HEADER_TIMEOUT_MS",
                             "MAX_CONNS",
                             "BIND",
                             "WORKER_NAME",
                             "REDIS_URL",
                             "REDIS_SENTINELS",
                             "REDIS_MASTER_NAME",
                             "ACK_REPLICAS"};

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

void test_load(void)
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
    ok(c.nsentinels == 0 && c.ack_replicas == 0,
       "load: no Sentinels, no replica acks, by default");
    is_str(c.master, "crashonly", "load: REDIS_MASTER_NAME default");

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
    setenv("REDIS_SENTINELS", "s1:26379,s2:26379,s3:26379", 1);
    setenv("REDIS_MASTER_NAME", "m.1", 1);
    ok(config_load(&c, err, sizeof(err)) == 0 && c.nsentinels == 3 &&
           strcmp(c.master, "m.1") == 0,
       "load: REDIS_SENTINELS and REDIS_MASTER_NAME taken");
    is_int(c.ack_replicas, 1, "load: with Sentinels, ACK_REPLICAS is 1");
    setenv("ACK_REPLICAS", "0", 1);
    ok(config_load(&c, err, sizeof(err)) == 0 && c.ack_replicas == 0,
       "load: ACK_REPLICAS=0 taken over the Sentinels' default");

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
    load_bad("REDIS_SENTINELS", "s1:26379,,s2");
    load_bad("REDIS_SENTINELS", "s1:0");
    load_bad("REDIS_MASTER_NAME", "no spaces");
    load_bad("ACK_REPLICAS", "9");
    load_bad("ACK_REPLICAS", "-1");
    memset(long_bind, 'b', sizeof(long_bind) - 1);
    long_bind[sizeof(long_bind) - 1] = '\0';
    load_bad("BIND", long_bind);
    clear_env();
}

