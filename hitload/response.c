/* response.c: llhttp callbacks for responses: the status and two headers. */
#include "response.h"

#include <string.h>

enum { H_OTHER, H_HITS, H_WORKER };

static llhttp_settings_t settings;

#define RESPONSE(p) ((struct response *)(p)->data)

static int on_message_begin(llhttp_t *p)
{
    struct response *r = RESPONSE(p);

    r->status = 0;
    r->hits = -1;
    r->hits_bad = r->hits_seen = 0;
    r->worker_len = 0;
    r->worker[0] = '\0';
    r->field_len = 0;
    r->which = H_OTHER;
    r->keep_alive = 0;
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
    struct response *r = RESPONSE(p);

    for (size_t i = 0; i < n; i++) {
        if (r->field_len < sizeof(r->field))
            r->field[r->field_len] = (char)(at[i] | 0x20);
        r->field_len++;
    }
    return 0;
}

static int is_field(const struct response *r, const char *name)
{
    size_t n = strlen(name);

    return r->field_len == n && memcmp(r->field, name, n) == 0;
}

static int on_header_field_complete(llhttp_t *p)
{
    struct response *r = RESPONSE(p);

    r->which = is_field(r, "x-hits")     ? H_HITS
               : is_field(r, "x-worker") ? H_WORKER
                                         : H_OTHER;
    if (r->which == H_HITS) {
        r->hits = 0;
        r->hits_bad = r->hits_seen = 0;
    } else if (r->which == H_WORKER) {
        r->worker_len = 0;
    }
    r->field_len = 0;
    return 0;
}

/* Digits into hits; a worker name kept printable and free of tabs, so it
 * can go into a TSV line as it is. */
static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
    struct response *r = RESPONSE(p);

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)at[i];

        if (r->which == H_HITS) {
            if (c < '0' || c > '9' || r->hits > 99999999999999999LL) {
                r->hits_bad = 1;
            } else {
                r->hits = r->hits * 10 + (c - '0');
                r->hits_seen = 1;
            }
        } else if (r->which == H_WORKER && r->worker_len < RESPONSE_WORKER_MAX) {
            r->worker[r->worker_len++] = c > ' ' && c < 127 ? (char)c : '?';
        }
    }
    return 0;
}

static int on_header_value_complete(llhttp_t *p)
{
    struct response *r = RESPONSE(p);

    if (r->which == H_HITS && (r->hits_bad || !r->hits_seen))
        r->hits = -1;
    if (r->which == H_WORKER)
        r->worker[r->worker_len] = '\0';
    r->which = H_OTHER;
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    RESPONSE(p)->status = llhttp_get_status_code(p);
    return 0;
}

/* Pause after each response, so the caller sees where it ended. */
static int on_message_complete(llhttp_t *p)
{
    RESPONSE(p)->keep_alive = llhttp_should_keep_alive(p);
    return HPE_PAUSED;
}

void response_init(struct response *r)
{
    if (settings.on_message_complete == NULL) {
        llhttp_settings_init(&settings);
        settings.on_message_begin = on_message_begin;
        settings.on_header_field = on_header_field;
        settings.on_header_field_complete = on_header_field_complete;
        settings.on_header_value = on_header_value;
        settings.on_header_value_complete = on_header_value_complete;
        settings.on_headers_complete = on_headers_complete;
        settings.on_message_complete = on_message_complete;
    }
    llhttp_init(&r->parser, HTTP_RESPONSE, &settings);
    r->parser.data = r;
    on_message_begin(&r->parser);
}

enum response_result response_feed(struct response *r, const char *p, size_t n,
                           size_t *used)
{
    llhttp_errno_t e = llhttp_execute(&r->parser, p, n);

    *used = n;
    if (e == HPE_OK)
        return RESPONSE_MORE;
    if (e == HPE_PAUSED) {
        *used = (size_t)(llhttp_get_error_pos(&r->parser) - p);
        llhttp_resume(&r->parser);
        return RESPONSE_DONE;
    }
    return RESPONSE_BAD;
}

enum response_result response_eof(struct response *r)
{
    llhttp_errno_t e = llhttp_finish(&r->parser);

    if (e == HPE_PAUSED) {
        r->keep_alive = 0;
        return RESPONSE_DONE;
    }
    return RESPONSE_BAD;
}
