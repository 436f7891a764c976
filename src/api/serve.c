/* serve.c - the handler of a resource's collection and item routes
 * (routes.c): the method picks the operation. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "openbook/auth/auth.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/redis/events.h"
#include "openbook/http/fields.h"
#include "openbook/http/jsonvalue.h"
#include "openbook/core/log.h"
#include "openbook/perm/perm.h"
#include "openbook/api/resource.h"
#include "openbook/http/validate.h"
#include "write_parts.h"

void ob_resource_serve(ob_request *r)
{
    const ob_resource *res = r->route_data;
    /* The route offers only the methods of res->ops (routes.c), so the
     * router has answered every other one with 405 and Allow already. */
    bool item = r->npath_params > 0;
    switch (r->method) {
    case OB_POST:
        ob_write_create(r, res);
        break;
    case OB_PUT:
    case OB_PATCH:
        ob_write_update(r, res, r->path_params[0]);
        break;
    case OB_DELETE:
        if (res->destroy)
            res->destroy(r);
        else
            ob_write_destroy(r, res, r->path_params[0]);
        break;
    default:
        if (item)
            ob_resource_retrieve(r, res);
        else
            ob_resource_list(r, res);
        break;
    }
}
