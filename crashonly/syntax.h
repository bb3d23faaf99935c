/* syntax.h: the grammar of the tokens the worker reads: ids and names,
 * and Host field values. No I/O. */
#ifndef CRASHONLY_SYNTAX_H
#define CRASHONLY_SYNTAX_H

#include <stddef.h>

/* True when s[0..len) is a token of ids and names: 1 or more of
 * [A-Za-z0-9._:-]. Callers bound the length. */
int syntax_token(const char *s, size_t len);

/* True when s[0..len) is a Host field value: uri-host [ ":" port ]
 * (RFC 9112 3.2): an IP-literal in brackets or a reg-name, then an
 * optional port; the host not empty (an http URI's never is). */
int syntax_host(const char *s, size_t len);

#endif
