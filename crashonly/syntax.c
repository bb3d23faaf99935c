/* syntax.c: ids, names and Host values, character by character. */
#include "syntax.h"

#include <ctype.h>
#include <string.h>

int syntax_token(const char *s, size_t len)
{
    if (len < 1)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
              c == '-'))
            return 0;
    }
    return 1;
}

/* True when s[0..len) is a Host field value: uri-host [ ":" port ]
 * (RFC 9112 3.2, RFC 3986 3.2.2): an IP-literal in brackets, or a
 * reg-name of unreserved, sub-delims and %XX (IPv4 addresses are
 * reg-names here), then an optional port of digits. The host may not be
 * empty: every target here is an http URI, whose host never is (RFC 9110
 * 4.2.1). */
int syntax_host(const char *s, size_t len)
{
    size_t i = 0;

    if (len > 0 && s[0] == '[') {
        for (i = 1; i < len && s[i] != ']'; i++)
            if (!(isxdigit((unsigned char)s[i]) || s[i] == ':' || s[i] == '.' ||
                  s[i] == 'v' || s[i] == 'V'))
                return 0;
        if (i == len || i == 1)
            return 0;
        i++;
    } else {
        if (len == 0 || s[0] == ':')
            return 0;
        for (; i < len && s[i] != ':'; i++) {
            char c = s[i];

            if (c == '%') {
                if (i + 2 >= len || !isxdigit((unsigned char)s[i + 1]) ||
                    !isxdigit((unsigned char)s[i + 2]))
                    return 0;
                i += 2;
            } else if (!isalnum((unsigned char)c) &&
                       strchr("-._~!$&'()*+,;=", c) == NULL) {
                return 0;
            }
        }
    }
    if (i < len && s[i++] != ':')
        return 0;
    for (; i < len; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}
