/* function.h: the Redis Function library that counts hits, and the keys
 * it keeps them in. */
#ifndef CRASHONLY_FUNCTION_H
#define CRASHONLY_FUNCTION_H

/* co_count_4 and co_hits_4, in the Lua that FUNCTION LOAD takes. */
extern const char function_library[];

#define FUNCTION_COUNT "co_count_4"
#define FUNCTION_HITS  "co_hits_4"

#define KEY_TOTAL   "crashonly:hits"
#define KEY_WORKERS "crashonly:workers"
#define KEY_REPEATS "crashonly:repeats" /* per worker: ids seen again */
#define KEY_IDS     "crashonly:ids:"    /* and the window: the ids seen */

#endif
