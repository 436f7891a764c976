/* compress.h - gzip for response bodies.
 *
 * A body of at least http.gzip_min_bytes, of a textual type (JSON, YAML,
 * text), goes out gzip-compressed when the client's Accept-Encoding gives
 * gzip a weight (request.c sets accepts_gzip).  The lists of UUID links
 * this API answers shrink about 2x, and JSON with text far more; for the
 * students on slow links that is what counts, and through nginx it is
 * fewer bytes for every hop (worker socket, nginx, TLS).
 *
 * The response cache keeps the compressed answer, so a repeat costs no
 * compression (read_cache.c keys gzip and identity clients apart). */
#ifndef OPENBOOK_COMPRESS_H
#define OPENBOOK_COMPRESS_H

#include <stdbool.h>
#include "openbook/http/http.h"

/* Whether r's answer would be compressed if it is large enough: the
 * client accepts gzip and compression is configured on. */
bool ob_response_may_compress(const ob_request *r);

/* Replaces r's body with its gzip form and sets res.gzip, when it may be
 * compressed, is large enough, of a textual type, and comes out smaller.
 * Safe to call twice: a gzip body is left alone. */
void ob_response_compress(ob_request *r);

#endif
