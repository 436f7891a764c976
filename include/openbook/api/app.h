/* app.h - the OpenBook application as the worker pool runs it (the ob_app
 * of pool.h, handed to the pool by `openbook serve`).
 *
 * Per worker: the authentication API's per-process state (the common
 * password list, the dummy hash).  Per request: the known languages and
 * the request language (api-conventions.md §12), routing through
 * ob_api_router, and the csrftoken cookie on every /auth-api/browser/
 * answer (api-auth.md §1).  For the pool's metrics: that router's table
 * (the route patterns requests are counted by) and the names of the rate
 * limits (ratelimit.h). */
#ifndef OPENBOOK_APP_H
#define OPENBOOK_APP_H

#include "openbook/pool/pool.h"

extern const ob_app ob_api_app;

#endif
