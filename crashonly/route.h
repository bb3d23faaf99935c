/* route.h: what a complete request asks the worker to do: the table of
 * endpoints, and the checks that come before any of them. No I/O. */
#ifndef CRASHONLY_ROUTE_H
#define CRASHONLY_ROUTE_H

#include "http.h"
#include "metrics.h"

enum route_action {
    ROUTE_REPLY,  /* answer *status right away */
    ROUTE_HIT,    /* count a hit (r->id, if any, makes it at most once) */
    ROUTE_HITS,   /* read the totals */
    ROUTE_READY,  /* ask Redis whether a hit can be counted now */
    ROUTE_METRICS /* answer the metrics' text right away */
};

/* Which of the table's paths r names (METRICS_OTHER: none), which is
 * also its answer's route label. */
enum metrics_route route_find(const struct http_req *r);

/* What to do for the complete request r, found at route by route_find():
 * its route's action, or ROUTE_REPLY with the status to answer (404, 405,
 * 400 for a bad id, 412 or 304 for a precondition that fails; 200 for
 * /healthz). Sets *status to 200 for the other actions. */
enum route_action route_act(const struct http_req *r,
                            enum metrics_route route, int *status);

/* route_act(r, route_find(r), status). */
enum route_action route_plan(const struct http_req *r, int *status);

#endif
