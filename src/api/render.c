/* render.c - rows as JSON: values by field type (date-times, file URLs,
 * raw JSON), expanded references inline, plain keys otherwise. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "openbook/auth/auth.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/core/log.h"
#include "openbook/perm/perm.h"
#include "openbook/api/query.h"
#include "openbook/api/read_cache.h"
#include "openbook/api/resource.h"
#include "read_parts.h"

static void write_url_path(ob_buf *out, const char *s)
{
    /* As the original's file URLs: everything but unreserved characters
     * and / ~ ! * ( ) ' is percent-encoded. */
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || strchr("-._~/!*()'", c)) {
            ob_buf_putc(out, (char)c);
        } else {
            ob_buf_putc(out, '%');
            ob_buf_putc(out, hex[c >> 4]);
            ob_buf_putc(out, hex[c & 15]);
        }
    }
}

static void write_value(ob_request *r, ob_json *j, const ob_field *f, const PGresult *res,
                        int row, int col)
{
    if (PQgetisnull(res, row, col)) {
        ob_json_null(j);
        return;
    }
    const char *v = PQgetvalue(res, row, col);
    int len = PQgetlength(res, row, col);
    switch (f->type) {
    case OB_FT_INT:
        ob_json_int(j, strtoll(v, NULL, 10));
        break;
    case OB_FT_NUMBER:
        ob_json_double(j, strtod(v, NULL));
        break;
    case OB_FT_BOOL:
        ob_json_bool(j, v[0] == 't');
        break;
    case OB_FT_JSON:
        ob_json_raw(j, v, (size_t)len);
        break;
    case OB_FT_DATETIME:
        /* Microseconds only when they are not zero (api-conventions.md §3). */
        if (len > 8 && strcmp(v + len - 8, ".000000Z") == 0) {
            ob_json_string(j, ob_arena_printf(r->arena, "%.*sZ", len - 8, v));
            break;
        }
        ob_json_string_n(j, v, (size_t)len);
        break;
    case OB_FT_FILE: {
        if (len == 0) {
            ob_json_null(j);
            break;
        }
        ob_buf url;
        ob_buf_init(&url, r->arena);
        const char *m = r->cfg->media_url;
        if (strncmp(m, "http://", 7) != 0 && strncmp(m, "https://", 8) != 0)
            ob_buf_puts(&url, ob_request_base_url(r));
        ob_buf_puts(&url, m);
        if (url.len == 0 || url.data[url.len - 1] != '/')
            ob_buf_putc(&url, '/');
        write_url_path(&url, v[0] == '/' ? v + 1 : v);
        ob_json_string(j, ob_buf_cstr(&url));
        break;
    }
    case OB_FT_MEDIA_PATH: {
        const char *m = r->cfg->media_url;
        size_t ml = strlen(m);
        ob_json_string(j, ob_arena_printf(r->arena, "%s%s%.*s", m,
                                          ml && m[ml - 1] == '/' ? "" : "/", len, v));
        break;
    }
    case OB_FT_TEXT:
        ob_json_string_n(j, v, (size_t)len);
        break;
    }
}

static int find_hit(const expansion *e, const char *key)
{
    int keycol = (int)(e->target->nfields + (e->sub ? e->sub->n : 0));
    for (int t = 0; e->pg && t < PQntuples(e->pg); t++)
        if (strcmp(PQgetvalue(e->pg, t, keycol), key) == 0)
            return t;
    return -1;
}

void ob_render_row(ob_request *r, ob_json *j, const ob_resource *res, const bool *show,
                      const PGresult *pg, int row, const expansions *ex,
                      const ob_item_opts *o)
{
    ob_json_object_begin(j);
    for (size_t i = 0; i < res->nfields; i++) {
        if (!show[i])
            continue;
        const ob_field *f = &res->fields[i];
        ob_json_key(j, f->name);
        if (o && o->set_field && strcmp(o->set_field, f->name) == 0) {
            ob_json_string(j, o->set_value);
            continue;
        }
        const expansion *e = NULL;
        for (size_t k = 0; ex && k < ex->n; k++)
            if (ex->e[k].field == i)
                e = &ex->e[k];
        if (e && e->list) {
            /* Only the visible items: expanded, or as their plain keys. */
            ob_json_array_begin(j);
            const cJSON *keys = PQgetisnull(pg, row, e->col)
                                    ? NULL
                                    : ob_expand_keys(r, PQgetvalue(pg, row, e->col));
            const cJSON *it;
            cJSON_ArrayForEach(it, keys)
            {
                const char *t = ob_expand_key_text(r->arena, it);
                int hit = t ? find_hit(e, t) : -1;
                if (hit < 0)
                    continue;
                if (e->expand) {
                    ob_render_row(r, j, e->target, e->show, e->pg, hit, e->sub, NULL);
                } else {
                    char *raw = cJSON_PrintUnformatted(it); /* not NULL (alloc.h) */
                    ob_json_raw(j, raw, strlen(raw));
                    cJSON_free(raw);
                }
            }
            ob_json_array_end(j);
            continue;
        }
        int hit = -1;
        if (e && e->pg && !PQgetisnull(pg, row, e->col))
            hit = find_hit(e, PQgetvalue(pg, row, e->col));
        if (hit >= 0)
            ob_render_row(r, j, e->target, e->show, e->pg, hit, e->sub, NULL);
        else /* not expanded, or not visible: the plain key */
            write_value(r, j, f, pg, row, (int)i);
    }
    ob_json_object_end(j);
}
