/* nfq.c: nfnetlink_queue's messages, built and read in memory. */
#include "nfq.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>

/* Start a message of TYPE (a queue message) at b: the netlink header and
 * nfnetlink's, for QUEUE; returns the length so far. */
static size_t start(char *b, uint16_t type, uint16_t flags, uint16_t queue,
                    uint32_t seq)
{
    struct nlmsghdr h = {.nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | type,
                         .nlmsg_flags = NLM_F_REQUEST | flags,
                         .nlmsg_seq = seq};
    struct nfgenmsg g = {.nfgen_family = AF_UNSPEC,
                         .version = NFNETLINK_V0,
                         .res_id = htons(queue)};

    memcpy(b, &h, sizeof(h));
    memcpy(b + NLMSG_HDRLEN, &g, sizeof(g));
    return NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(g));
}

/* Append attribute TYPE with LEN bytes of V at b[*len], padded. */
static void attr(char *b, size_t *len, uint16_t type, const void *v,
                 size_t vlen)
{
    struct nlattr a = {.nla_len = NLA_HDRLEN + vlen, .nla_type = type};

    memcpy(b + *len, &a, sizeof(a));
    memcpy(b + *len + NLA_HDRLEN, v, vlen);
    memset(b + *len + NLA_HDRLEN + vlen, 0,
           NLA_ALIGN(vlen) - vlen); /* the padding, zeroed */
    *len += NLA_HDRLEN + NLA_ALIGN(vlen);
}

/* Set the netlink header's length: the message is whole. */
static void finish(char *b, size_t start_at, size_t len)
{
    uint32_t n = len - start_at;

    memcpy(b + start_at + offsetof(struct nlmsghdr, nlmsg_len), &n, sizeof(n));
}

size_t nfq_bind(char *b, uint16_t queue, uint32_t maxlen, uint32_t seq)
{
    struct nfqnl_msg_config_cmd cmd = {.command = NFQNL_CFG_CMD_BIND,
                                       .pf = htons(AF_INET)};
    struct nfqnl_msg_config_params params = {.copy_range = htonl(0),
                                             .copy_mode = NFQNL_COPY_META};
    uint32_t ml = htonl(maxlen), flags = htonl(NFQA_CFG_F_FAIL_OPEN);
    size_t len = start(b, NFQNL_MSG_CONFIG, NLM_F_ACK, queue, seq);

    attr(b, &len, NFQA_CFG_CMD, &cmd, sizeof(cmd));
    attr(b, &len, NFQA_CFG_PARAMS, &params, sizeof(params));
    attr(b, &len, NFQA_CFG_QUEUE_MAXLEN, &ml, sizeof(ml));
    attr(b, &len, NFQA_CFG_FLAGS, &flags, sizeof(flags));
    attr(b, &len, NFQA_CFG_MASK, &flags, sizeof(flags));
    finish(b, 0, len);
    return len;
}

void nfq_verdict(char *b, size_t *len, uint16_t queue, uint32_t id, int accept)
{
    struct nfqnl_msg_verdict_hdr v = {
        .verdict = htonl(accept ? NF_ACCEPT : NF_DROP), .id = htonl(id)};
    size_t at = *len;

    *len += start(b + at, NFQNL_MSG_VERDICT, 0, queue, 0);
    attr(b, len, NFQA_VERDICT_HDR, &v, sizeof(v));
    finish(b, at, *len);
}

enum nfq_kind nfq_next(const char *b, size_t len, size_t *off, uint32_t *id,
                       int *err)
{
    struct nlmsghdr h;
    size_t at = *off, end, a;

    if (len - at < NLMSG_HDRLEN)
        return NFQ_BAD;
    memcpy(&h, b + at, sizeof(h));
    if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len - at)
        return NFQ_BAD;
    end = at + h.nlmsg_len;
    *off = at + NLMSG_ALIGN(h.nlmsg_len) < len ? at + NLMSG_ALIGN(h.nlmsg_len)
                                               : len;
    if (h.nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr e;

        if (h.nlmsg_len < NLMSG_HDRLEN + sizeof(e.error))
            return NFQ_BAD;
        memcpy(&e.error, b + at + NLMSG_HDRLEN, sizeof(e.error));
        *err = e.error;
        return NFQ_ACK;
    }
    if (h.nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET))
        return NFQ_OTHER;
    /* The attributes, after nfnetlink's header: the packet's id is in
     * NFQA_PACKET_HDR, network order. */
    for (a = at + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
         a + NLA_HDRLEN <= end;) {
        struct nlattr na;
        struct nfqnl_msg_packet_hdr ph;

        memcpy(&na, b + a, sizeof(na));
        if (na.nla_len < NLA_HDRLEN || na.nla_len > end - a)
            return NFQ_BAD;
        if ((na.nla_type & NLA_TYPE_MASK) == NFQA_PACKET_HDR) {
            if (na.nla_len < NLA_HDRLEN + sizeof(ph.packet_id))
                return NFQ_BAD;
            memcpy(&ph.packet_id, b + a + NLA_HDRLEN, sizeof(ph.packet_id));
            *id = ntohl(ph.packet_id);
            return NFQ_PACKET;
        }
        a += NLA_ALIGN(na.nla_len);
    }
    return NFQ_BAD;
}
