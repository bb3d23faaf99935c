/* setup.c: AUTH, SELECT, the checks that this Redis can count, and the
 * library loaded when it is missing or older than this worker's. */
#include "setup.h"
#include "constants.h"
#include "function.h"
#include "link.h"
#include "log.h"

#include <string.h>

static void (*done)(void);
static unsigned loads; /* FUNCTION LOADs sent: a race with older workers
                          lost this many times */

/* Start-up commands, named in their replies' privdata. */
static char cmd_auth[] = "AUTH", cmd_select[] = "SELECT", cmd_role[] = "ROLE",
            cmd_waitaof[] = "WAITAOF", cmd_command[] = "COMMAND",
            cmd_multi[] = "MULTI", cmd_delete[] = "FUNCTION DELETE",
            cmd_load[] = "FUNCTION LOAD";

/* A reply to a start-up command, what: any error is fatal, and so are a
 * Redis that is not a master (a replica, or one that the Sentinels named
 * before a failover) and one without the HSETEX that the function calls
 * (Redis < 8.0: FUNCTION LOAD takes the library, and each count would
 * fail). */
static void check_setup(const redisReply *r, const char *what)
{
    /* A Redis still loading its data is not there yet, nor a master whose
     * replica is not in sync yet (FUNCTION LOAD is a write): a lost Redis,
     * which the restart asks again. */
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "LOADING", 7) == 0)
        die(EXIT_REDIS_LOST, "level=fatal event=redis_loading error=\"%s\"",
            r->str);
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOREPLICAS", 10) == 0)
        die(EXIT_REDIS_LOST,
            "level=fatal event=redis_noreplicas error=\"%s\"", r->str);
    if (r->type == REDIS_REPLY_ERROR)
        die(EXIT_REDIS_REFUSED,
            "level=fatal event=redis_refused command=%s error=\"%s\"%s", what,
            r->str,
            what == cmd_waitaof
                ? " hint=\"ACK_REPLICAS needs Redis >= 8.0 with appendonly yes\""
            : strstr(r->str, "unknown command") ? " hint=\"Redis >= 8.0 needed\""
                                                : "");
    if (what == cmd_role &&
        (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
         r->element[0]->type != REDIS_REPLY_STRING ||
         strcmp(r->element[0]->str, "master") != 0))
        die(EXIT_REDIS_LOST, "level=fatal event=redis_not_master role=%s",
            r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
                    r->element[0]->type == REDIS_REPLY_STRING
                ? r->element[0]->str
                : "?");
    if (what == cmd_command &&
        (r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
         r->element[0]->type != REDIS_REPLY_ARRAY))
        die(EXIT_REDIS_REFUSED,
            "level=fatal event=redis_refused command=HSETEX "
            "error=\"unknown command\" hint=\"Redis >= 8.0 needed\"");
}

/* Replies to AUTH, SELECT, ROLE, WAITAOF, COMMAND INFO, and MULTI and
 * what it queues: privdata names the command. */
static void on_setup(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    link_got(reply);
    check_setup(reply, privdata);
}

static void ask_version(void);
static void on_exec(redisAsyncContext *ac, void *reply, void *privdata);

/* Load the library, in one MULTI with the deletion of crashonly_6 (the
 * library before it, whose calls it takes: its workers, still running,
 * count in this one from then on), then ask its version again: a worker
 * of an older version may have loaded its own meanwhile, and this
 * worker loads again. */
static void load_library(void)
{
    if (loads++ == 3)
        die(EXIT_REDIS_REFUSED,
            "level=fatal event=redis_refused command=FUNCTION "
            "error=\"another worker loaded an older library, 3 times\"");
    link_command(on_setup, cmd_multi, "MULTI");
    link_command(on_setup, cmd_delete, "FUNCTION DELETE %s",
                 FUNCTION_LIBRARY_6);
    link_command(on_setup, cmd_load, "FUNCTION LOAD REPLACE %s",
                 function_library);
    link_command(on_exec, NULL, "EXEC");
    ask_version();
}

/* The reply to the MULTI of load_library(): [FUNCTION DELETE's, FUNCTION
 * LOAD's]. No crashonly_6 to delete is no error; a library Redis refuses
 * is (its Lua, or an ACL without +function). */
static void on_exec(redisAsyncContext *ac, void *reply, void *privdata)
{
    const redisReply *r = reply;

    (void)ac;
    (void)privdata;
    link_got(r);
    check_setup(r, cmd_load);
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
        die(EXIT_REDIS_REFUSED,
            "level=fatal event=redis_refused command=EXEC "
            "error=\"unexpected reply\"");
    check_setup(r->element[1], cmd_load);
}

/* The reply to co_version: {version, schema}, or no function yet. A
 * library as new as this worker's, or newer, is used as it is: every
 * version takes the calls of the ones before it. */
static void on_version(redisAsyncContext *ac, void *reply, void *privdata)
{
    const redisReply *r = reply;

    (void)ac;
    (void)privdata;
    link_got(r);
    if (r->type == REDIS_REPLY_ERROR &&
        strstr(r->str, "Function not found") != NULL) {
        load_library();
        return;
    }
    check_setup(r, cmd_load);
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER ||
        r->element[1]->type != REDIS_REPLY_INTEGER)
        die(EXIT_REDIS_REFUSED,
            "level=fatal event=redis_refused command=" FUNCTION_VERSION
            " error=\"unexpected reply\"");
    if (r->element[0]->integer < function_version) {
        load_library();
        return;
    }
    log_line("level=info event=library version=%lld schema=%lld mine=%lld "
             "loaded=%s",
             r->element[0]->integer, r->element[1]->integer, function_version,
             loads > 0 ? "yes" : "no");
    done();
}

static void ask_version(void)
{
    link_command(on_version, NULL, "FCALL_RO %s 0", FUNCTION_VERSION);
}

void setup_start(const struct config *cfg, void (*ready)(void))
{
    done = ready;
    /* Queued now, sent as soon as the connection is up, in this order. */
    if (cfg->redis.pass[0] != '\0' && cfg->redis.user[0] != '\0')
        link_command(on_setup, cmd_auth, "AUTH %s %s", cfg->redis.user,
                     cfg->redis.pass);
    else if (cfg->redis.pass[0] != '\0')
        link_command(on_setup, cmd_auth, "AUTH %s", cfg->redis.pass);
    if (cfg->redis.db != 0)
        link_command(on_setup, cmd_select, "SELECT %d", cfg->redis.db);
    link_command(on_setup, cmd_role, "ROLE");
    if (cfg->ack_replicas > 0) /* WAITAOF is there, and the AOF is on */
        link_command(on_setup, cmd_waitaof, "WAITAOF 1 0 1");
    link_command(on_setup, cmd_command, "COMMAND INFO HSETEX");
    ask_version();
}
