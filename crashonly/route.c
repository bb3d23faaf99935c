/* route.c: the endpoints, as a table, and the order of the checks
 * (RFC 9110 13.2: preconditions after the request is known good). */
#include "route.h"

#include <string.h>

/* A string literal and its length. */
#define TEXT(s) s, sizeof(s) - 1

/* The endpoints, each at its route label: a new one goes here (and its
 * label in metrics.h). All of them take GET only. */
static const struct route {
    const char *path;
    size_t len;
    enum route_action action;
} routes[METRICS_ROUTES] = {
    [METRICS_OTHER] = {"", 0, ROUTE_REPLY}, /* matches no path */
    [METRICS_HIT] = {TEXT("/"), ROUTE_HIT},
    [METRICS_HITS] = {TEXT("/hits"), ROUTE_HITS},
    [METRICS_HEALTHZ] = {TEXT("/healthz"), ROUTE_REPLY}, /* 200: alive */
    [METRICS_READYZ] = {TEXT("/readyz"), ROUTE_READY},
    [METRICS_METRICS] = {TEXT("/metrics"), ROUTE_METRICS},
};

enum metrics_route route_find(const struct http_req *r)
{
    /* Every route fits in path, so a path longer than that (path_len past
     * HTTP_PATH_MAX) matches none. */
    for (unsigned i = METRICS_OTHER + 1; i < METRICS_ROUTES; i++)
        if (routes[i].len == r->path_len &&
            memcmp(routes[i].path, r->path, r->path_len) == 0)
            return (enum metrics_route)i;
    return METRICS_OTHER;
}

enum route_action route_act(const struct http_req *r,
                            enum metrics_route route, int *status)
{
    enum route_action action = routes[route].action;

    *status = 200;
    if (route == METRICS_OTHER)
        return *status = 404, ROUTE_REPLY;
    if (r->method != HTTP_GET)
        return *status = 405, ROUTE_REPLY;
    if (action == ROUTE_HIT && r->id_bad)
        return *status = 400, ROUTE_REPLY;
    /* RFC 9110 13.2: preconditions, evaluated once the request is known
     * good and before its action. No representation here has an entity
     * tag: If-Match holds for "*" only, If-None-Match for tags only. */
    if (r->if_match == COND_TAGS)
        return *status = 412, ROUTE_REPLY;
    if (r->if_none_match == COND_ANY)
        return *status = 304, ROUTE_REPLY;
    return action;
}

enum route_action route_plan(const struct http_req *r, int *status)
{
    return route_act(r, route_find(r), status);
}
