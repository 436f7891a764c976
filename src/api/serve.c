/* serve.c - the handler of a resource's collection and item routes
 * (routes.c): the method picks the operation. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "openbook/auth.h"
#include "openbook/config.h"
#include "openbook/db.h"
#include "openbook/events.h"
#include "openbook/fields.h"
#include "openbook/jsonvalue.h"
#include "openbook/log.h"
#include "openbook/perm.h"
#include "openbook/resource.h"
#include "openbook/validate.h"
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
