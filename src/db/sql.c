/* sql.c - parameters that travel apart from the SQL text (db.h). */
#include "openbook/db/db.h"

int ob_sql_param(ob_sql_params *p, const char *v)
{
    if (p->n >= OB_SQL_MAX_PARAMS) {
        p->full = true;
        return -1;
    }
    p->v[p->n] = v;
    return ++p->n;
}
