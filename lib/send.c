/* send.c: send(2) until done, the socket full, or an error. */
#include "send.h"

#include <errno.h>
#include <sys/socket.h>

int send_some(int fd, const char *b, size_t len, size_t *off)
{
    while (*off < len) {
        ssize_t n = send(fd, b + *off, len - *off, MSG_NOSIGNAL);

        if (n > 0)
            *off += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        else
            return -1;
    }
    return 1;
}
