/* function.c: which of the id hashes holds an id. The library that counts
 * is crashonly/function.lua. */
#include "function.h"

#include <stdint.h>

/* FNV-1a (32 bits) of the id, modulo ID_BUCKETS. Every worker must give
 * an id the same bucket: it is part of the ids' schema. */
unsigned function_bucket(const char *id, size_t len)
{
    uint32_t h = FNV_BASIS;

    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)id[i]) * FNV_PRIME;
    return h % ID_BUCKETS;
}
