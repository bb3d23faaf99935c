/* constants.c: crashonly --constants, the one source of the facts the
 * Perl tests, bench/ids-memory and crashonly/sv/finish need. */
#include "constants.h"
#include "function.h"
#include "log.h"

#include <stdio.h>

void constants_print(void)
{
    static const struct {
        const char *name;
        unsigned long value;
    } facts[] = {
        {"ID_BUCKETS", ID_BUCKETS},
        {"FNV_BASIS", FNV_BASIS},
        {"FNV_PRIME", FNV_PRIME},
        {"EXIT_USAGE", EXIT_USAGE},
        {"EXIT_CONFIG", EXIT_CONFIG},
        {"EXIT_SYSCALL", EXIT_SYSCALL},
        {"EXIT_REDIS_LOST", EXIT_REDIS_LOST},
        {"EXIT_REDIS_SLOW", EXIT_REDIS_SLOW},
        {"EXIT_REDIS_REFUSED", EXIT_REDIS_REFUSED},
    };

    printf("VERSION=%s\n", CRASHONLY_VERSION);
    for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]); i++)
        printf("%s=%lu\n", facts[i].name, facts[i].value);
}
