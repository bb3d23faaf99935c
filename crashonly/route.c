/* route.c: the endpoints, as a table, and the order of the checks
 * (RFC 9110 13.2: preconditions after the request is known good). */
#include "route.h"

#include <string.h>

/* The endpoints: a new one goes here. All of them take GET only. */
static const struct route {
    const char *path;
    enum route_action action;
} routes[] = {
    {"/", ROUTE_HIT},
    {"/hits", ROUTE_HITS},
    {"/healthz", ROUTE_REPLY}, /* 200: we are alive to say so */
    {"/readyz", ROUTE_READY},
};

enum route_action route_plan(const struct http_req *r, int *status)
{
    const struct route *route = NULL;

    /* Every route fits in path, so a path longer than that (path_len past
     * HTTP_PATH_MAX) matches none. */
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (strlen(routes[i].path) == r->path_len &&
            memcmp(routes[i].path, r->path, r->path_len) == 0) {
            route = &routes[i];
            break;
        }
    }
    *status = 200;
    if (route == NULL)
        return *status = 404, ROUTE_REPLY;
    if (r->method != HTTP_GET)
        return *status = 405, ROUTE_REPLY;
    if (route->action == ROUTE_HIT && r->id_bad)
        return *status = 400, ROUTE_REPLY;
    /* RFC 9110 13.2: preconditions, evaluated once the request is known
     * good and before its action. No representation here has an entity
     * tag: If-Match holds for "*" only, If-None-Match for tags only. */
    if (r->if_match == COND_TAGS)
        return *status = 412, ROUTE_REPLY;
    if (r->if_none_match == COND_ANY)
        return *status = 304, ROUTE_REPLY;
    return route->action;
}

