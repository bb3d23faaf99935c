/* nfq.h: the netlink messages of a netfilter queue (nfnetlink_queue), built
 * and read in caller's buffers: no I/O here, so that main.c alone talks to
 * the kernel. */
#ifndef NETDELAY_NFQ_H
#define NETDELAY_NFQ_H

#include <stddef.h>
#include <stdint.h>

#define NFQ_MSG_MAX 96 /* bytes: the largest message built here */

/* Build into b (NFQ_MSG_MAX bytes) the request binding queue QUEUE to the
 * socket it is sent on: packets' metadata only (no payload copied), at
 * most MAXLEN held in the kernel, and past that accepted rather than
 * dropped (fail open), with an ACK asked for. Returns its length. */
size_t nfq_bind(char *b, uint16_t queue, uint32_t maxlen, uint32_t seq);

/* Append to b at *len (room for NFQ_MSG_MAX more bytes) the verdict on
 * packet ID of queue QUEUE: accept when ACCEPT, else drop. */
void nfq_verdict(char *b, size_t *len, uint16_t queue, uint32_t id, int accept);

/* What one message read from the kernel is. */
enum nfq_kind {
    NFQ_OTHER,  /* none of ours: skip it */
    NFQ_PACKET, /* a packet queued: *id is its id */
    NFQ_ACK,    /* an ACK of a request: *err is 0, or its -errno */
    NFQ_BAD     /* a truncated or malformed message: stop reading */
};

/* Read the message at b[*off..len): its kind, and *id or *err; advance
 * *off past it (not on NFQ_BAD). */
enum nfq_kind nfq_next(const char *b, size_t len, size_t *off, uint32_t *id,
                       int *err);

#endif
