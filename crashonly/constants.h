/* constants.h: the worker's facts that other programs read: its version
 * and exit codes here, its ids' buckets in function.h. crashonly
 * --constants prints them all (constants_print), for the Perl tests, the
 * benchmarks and the container's finish script. */
#ifndef CRASHONLY_CONSTANTS_H
#define CRASHONLY_CONSTANTS_H

#include "version.h" /* CRASHONLY_VERSION */

/* The worker never exits on purpose with 0: every exit is one of lib/log.h's
 * (EXIT_USAGE: arguments but --version or --constants; EXIT_CONFIG;
 * EXIT_SYSCALL) or one of these, and the supervisor restarts it. README.md
 * lists them for operators. */
enum worker_exit {
    EXIT_REDIS_LOST = 112,   /* Redis could not be reached, or went away */
    EXIT_REDIS_SLOW = 113,   /* Redis did not answer within its timeout */
    EXIT_REDIS_REFUSED = 114 /* Redis refused AUTH, SELECT or FUNCTION LOAD */
};

/* Print the constants on stdout, one NAME=value a line: a shell can source
 * it, Perl split it. */
void constants_print(void);

#endif
