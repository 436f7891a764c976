/* ws.h - the app's side of the WebSocket relay: the ticket endpoint
 * (websocket.md §3).  Events are published through events.h. */
#ifndef OPENBOOK_WS_H
#define OPENBOOK_WS_H

#include <stdbool.h>
#include "openbook/http/http.h"

/* POST /api/ws/ticket/ - anonymous callers allowed (route access OB_ANON). */
void ob_api_ws_ticket(ob_request *r);

/* May the requester subscribe to this (well-formed) channel?  The
 * permission checks of websocket.md §2, made when the ticket is issued.
 * Returns 1 allowed, 0 denied, -1 database failure (503 already set). */
int ob_ws_channel_allowed(ob_request *r, const char *channel);

#endif
