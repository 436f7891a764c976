/* read_cache.h - which API answers the response cache keeps, under which
 * key (see cache.h for how entries are kept and dropped).
 *
 * Cached: the 200 answers of the generic list and retrieve (read.c),
 * which depend only on the stored data, the requester (their user id:
 * everything else about them is stored data), the request URL, the base
 * URL of generated links and the request language. */
#ifndef OPENBOOK_READ_CACHE_H
#define OPENBOOK_READ_CACHE_H

#include <stdbool.h>
#include "openbook/http/http.h"

/* Answers r from the cache (true), or remembers the key and generation for
 * ob_read_cache_keep (false).  False without a cache or for a non-GET. */
bool ob_read_cache_answer(ob_request *r);

/* Keeps r's answer if it is a 200 and ob_read_cache_answer missed. */
void ob_read_cache_keep(ob_request *r);

#endif
