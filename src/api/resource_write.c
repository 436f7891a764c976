/* resource_write.c - create, update, partial update and delete for
 * resources described by data (resource.h), and the dispatcher that
 * serves a resource on its routes.
 *
 * Order of checks (api-conventions.md §5): admin gate (403) -> lookup
 * among the visible rows (404) -> body and field formats, natural keys
 * (400) -> cross-field rules of the resource (400) -> object permission
 * (403, or 404 for a create whose would-be item the requester could not
 * view) -> rules about other rows (unique constraints, mapped from the
 * database's answer) -> the change.  Every write runs in one
 * transaction; the answer is the item shaped as by GET. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "openbook/http/jsonvalue.h"
#include "openbook/auth/auth.h"
#include "openbook/db/db.h"
#include "openbook/redis/events.h"
#include "openbook/http/fields.h"
#include "openbook/core/log.h"
#include "openbook/api/perm.h"
#include "openbook/api/resource.h"
#include "openbook/http/validate.h"

const char *const ob_text_formats[] = {"TEXT", "HTML", "MD", NULL};
const char *const ob_duration_periods[] = {"", "minutes", "hours", "days", "weeks", "months",
                                           "years", NULL};

/* Stored-row columns before the wfield columns (see ob_write_lock). */
enum { COL_PK, COL_ST, COL_SU, COL_OWNER, COL_PRIO, COL_USER, COL_PENDING, COL_FIRST };

const char *ob_resource_perm(ob_request *r, const ob_resource *res, const char *action)
{
    return ob_arena_printf(r->arena, "%s.%s_%s", res->app_label, action, res->model);
}

/* ---- errors ---- */

void ob_write_error(ob_write *w, const char *field, const char *msg)
{
    if (w->nerr < OB_WRITE_MAX_ERRORS) {
        w->err_raw[w->nerr] = false;
        w->err_field[w->nerr] = field;
        w->err_msg[w->nerr] = msg;
        w->nerr++;
    }
}

void ob_write_error_json(ob_write *w, const char *field, const char *json)
{
    if (w->nerr < OB_WRITE_MAX_ERRORS) {
        ob_write_error(w, field, json);
        w->err_raw[w->nerr - 1] = true;
    }
}

/* {"field": ["message", ...], ...}: the errors of w, grouped by field in
 * the order they first occur. */
static void write_errors(ob_json *j, const ob_write *w)
{
    ob_json_object_begin(j);
    for (int i = 0; i < w->nerr; i++) {
        bool seen = false;
        for (int k = 0; k < i && !seen; k++)
            seen = strcmp(w->err_field[k], w->err_field[i]) == 0;
        if (seen)
            continue;
        ob_json_key(j, w->err_field[i]);
        if (w->err_raw[i]) {
            ob_json_raw(j, w->err_msg[i], strlen(w->err_msg[i]));
            continue;
        }
        ob_json_array_begin(j);
        for (int k = i; k < w->nerr; k++)
            if (strcmp(w->err_field[k], w->err_field[i]) == 0 && !w->err_raw[k])
                ob_json_string(j, w->err_msg[k]);
        ob_json_array_end(j);
    }
    ob_json_object_end(j);
}

void ob_write_answer_errors(ob_request *r, const ob_write *w)
{
    write_errors(ob_json_response(r, 400), w);
}

void ob_write_event(ob_write *w, const char *channel, const char *type,
                    const char *payload_json)
{
    if (!w->events) {
        w->events = ob_arena_calloc(w->r->arena, 1, sizeof *w->events);
        ob_events_init(w->events, w->r->arena);
    }
    ob_events_add(w->events, channel, type, 1, payload_json);
}

void ob_write_revoke(ob_write *w, int64_t user_id)
{
    for (int i = 0; i < w->nrevoke; i++)
        if (w->revoke[i] == user_id)
            return;
    if (w->nrevoke < (int)(sizeof w->revoke / sizeof w->revoke[0]))
        w->revoke[w->nrevoke++] = user_id;
    else
        ob_warn("write: too many users to revoke, %lld skipped", (long long)user_id);
}

void ob_write_after_commit(ob_write *w)
{
    if (w->events)
        ob_events_publish(w->events, w->r->redis);
    for (int i = 0; i < w->nrevoke; i++)
        ob_events_revoke_user(w->r->redis, w->revoke[i]);
    w->events = NULL;
    w->nrevoke = 0;
}

static void fail_db(ob_write *w)
{
    ob_db_failure(w->r);
    ob_db_rollback(w->r->db);
}

void ob_write_db_error(ob_write *w)
{
    ob_request *r = w->r;
    const char *state = ob_db_last_sqlstate(r->db);
    const char *cons = ob_db_last_constraint(r->db);
    if (strcmp(state, "23505") == 0) {
        ob_db_rollback(r->db);
        w->nerr = 0;
        const ob_unique *u = NULL;
        for (size_t i = 0; i < w->res->nuniques; i++)
            if (strcmp(w->res->uniques[i].constraint, cons) == 0)
                u = &w->res->uniques[i];
        if (u)
            ob_write_error(w, u->field ? u->field : "non_field_errors", u->message);
        else
            ob_write_error(w, "non_field_errors",
                           ob_arena_printf(r->arena, "%s with these values already exists.",
                                           w->res->class_name));
        ob_write_answer_errors(r, w);
        return;
    }
    if (strncmp(state, "23", 2) == 0) {
        /* Foreign keys (a referenced row went away meanwhile, or still
         * refers to this one), checks: the input's fault, never a 5xx. */
        ob_db_rollback(r->db);
        w->nerr = 0;
        ob_write_error(w, "non_field_errors",
                       strcmp(state, "23503") == 0 ? "Invalid reference: the related object does "
                                                     "not exist or is still in use."
                                                   : "Invalid value.");
        ob_write_answer_errors(r, w);
        return;
    }
    fail_db(w);
}

/* ---- JSON helpers ---- */

static const char *pg_text_array(ob_arena *a, const char *const *v, int n)
{
    ob_buf b;
    ob_buf_init(&b, a);
    ob_buf_putc(&b, '{');
    for (int i = 0; i < n; i++) {
        ob_buf_puts(&b, i ? ",\"" : "\"");
        for (const char *s = v[i]; *s; s++) {
            if (*s == '"' || *s == '\\')
                ob_buf_putc(&b, '\\');
            ob_buf_putc(&b, *s);
        }
        ob_buf_putc(&b, '"');
    }
    ob_buf_putc(&b, '}');
    return ob_buf_cstr(&b);
}

int ob_resource_read_body(ob_request *r)
{
    if (ob_request_read_json(r) != 0)
        return -1;
    /* Strings a C string cannot carry (NUL, invalid UTF-8) are refused by
     * name, before anything looks at them. */
    const char *bad = r->body_len ? ob_json_bad_string_member(r->arena, r->body, r->body_len)
                                  : NULL;
    if (bad) {
        ob_json *j = ob_json_response(r, 400);
        ob_json_object_begin(j);
        ob_json_key(j, bad);
        ob_json_array_begin(j);
        ob_json_string(j, "Null characters are not allowed.");
        ob_json_array_end(j);
        ob_json_object_end(j);
        return -1;
    }
    return 0;
}

/* ---- values ---- */

ob_wvalue *ob_write_value(ob_write *w, const char *name)
{
    for (size_t i = 0; w->v && i < w->res->nwfields; i++)
        if (strcmp(w->res->wfields[i].name, name) == 0)
            return &w->v[i];
    /* Not a described field: an absent value (reset each time, in case a
     * caller wrote to the last one). */
    static ob_wvalue absent;
    memset(&absent, 0, sizeof absent);
    return &absent;
}

static int stored_col(const ob_write *w, const char *column)
{
    if (!w->stored || !column)
        return -1;
    int col = COL_FIRST;
    for (size_t i = 0; i < w->res->nwfields; i++) {
        if (!w->res->wfields[i].column)
            continue;
        if (strcmp(w->res->wfields[i].column, column) == 0)
            return col;
        col++;
    }
    return -1;
}

const char *ob_write_stored(const ob_write *w, const char *column)
{
    int col = stored_col(w, column);
    if (col < 0 || PQgetisnull(w->stored, 0, col))
        return NULL;
    return PQgetvalue(w->stored, 0, col);
}

void ob_write_set(ob_write *w, const char *column, const char *value, const char *cast)
{
    if (w->nset < OB_WRITE_MAX_SET) {
        w->set_col[w->nset] = column;
        w->set_val[w->nset] = value;
        w->set_cast[w->nset] = cast;
        w->nset++;
    }
}

long long ob_datetime_us(const char *s)
{
    int y, mo, d, h, mi, sec, us, oh, om;
    char sign;
    if (sscanf(s, "%d-%d-%dT%d:%d:%d.%d%c%d:%d", &y, &mo, &d, &h, &mi, &sec, &us, &sign, &oh,
               &om) != 10)
        return 0;
    long long days = ob_days_from_civil(y, (unsigned)mo, (unsigned)d);
    long long secs = days * 86400 + h * 3600LL + mi * 60LL + sec;
    long long off = (oh * 3600LL + om * 60LL) * (sign == '-' ? -1 : 1);
    return (secs - off) * 1000000LL + us;
}

long long ob_write_datetime_us(const ob_write *w, const char *name, const char *column,
                               bool *set)
{
    ob_wvalue *v = ob_write_value((ob_write *)w, name);
    if (v->state == OB_WV_GIVEN) {
        *set = v->text != NULL;
        return v->text ? ob_datetime_us(v->text) : 0;
    }
    const char *s = ob_write_stored(w, column);
    *set = s != NULL;
    return s ? strtoll(s, NULL, 10) : 0;
}

static const char *DT_MSG = "Datetime has wrong format. Use one of these formats instead: "
                            "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].";

static int json_depth(const cJSON *v)
{
    int best = 0;
    const cJSON *c;
    if (!cJSON_IsArray(v) && !cJSON_IsObject(v))
        return 0;
    cJSON_ArrayForEach(c, v)
    {
        int d = json_depth(c);
        if (d > best)
            best = d;
    }
    return best + 1;
}

/* Resolves a list of natural keys to ids in one query (sql: $1 is a text
 * array; rows are (key, id)).  Reports the first bad item as the
 * original does.  Returns -1 on a database failure (answered). */
static int resolve_list(ob_write *w, const ob_wfield *f, ob_wvalue *v, const char *sql,
                        const char *item_error, const char *fmt)
{
    ob_request *r = w->r;
    const char **strs = ob_arena_calloc(r->arena, (size_t)v->n + 1, sizeof *strs);
    int ns = 0;
    for (int i = 0; i < v->n; i++) {
        if (!v->list[i]) {
            ob_write_error(w, f->name, item_error);
            v->state = OB_WV_INVALID;
            return 0;
        }
        strs[ns++] = v->list[i];
    }
    PGresult *pg = NULL;
    if (ns) {
        const char *p[] = {pg_text_array(r->arena, strs, ns)};
        pg = ob_db_query(r->db, r->arena, sql, 1, p);
        if (!pg) {
            fail_db(w);
            return -1;
        }
    }
    ob_buf ids;
    ob_buf_init(&ids, r->arena);
    ob_buf_putc(&ids, '{');
    for (int i = 0; i < v->n; i++) {
        const char *id = NULL;
        for (int k = 0; pg && k < PQntuples(pg) && !id; k++)
            if (strcmp(PQgetvalue(pg, k, 0), v->list[i]) == 0)
                id = PQgetvalue(pg, k, 1);
        if (!id) {
            ob_write_error(w, f->name, ob_arena_printf(r->arena, fmt, v->list[i]));
            v->state = OB_WV_INVALID;
            return 0;
        }
        ob_buf_printf(&ids, "%s%s", i ? "," : "", id);
    }
    ob_buf_putc(&ids, '}');
    v->ids = ob_buf_cstr(&ids);
    return 0;
}

/* Permission lists resolve through the cached catalogue. */
static int resolve_perms(ob_write *w, const ob_wfield *f, ob_wvalue *v)
{
    ob_request *r = w->r;
    ob_buf ids;
    ob_buf_init(&ids, r->arena);
    ob_buf_putc(&ids, '{');
    for (int i = 0; i < v->n; i++) {
        if (!v->list[i]) {
            ob_write_error(w, f->name, "Invalid format: Expected a permission string.");
            v->state = OB_WV_INVALID;
            return 0;
        }
        int id = ob_perm_id(r, v->list[i]);
        if (id < 0) {
            ob_db_rollback(r->db);
            return -1;
        }
        if (id == 0) {
            ob_write_error(w, f->name,
                           ob_arena_printf(r->arena, "Permission '%s' not found.", v->list[i]));
            v->state = OB_WV_INVALID;
            return 0;
        }
        ob_buf_printf(&ids, "%s%d", i ? "," : "", id);
    }
    ob_buf_putc(&ids, '}');
    v->ids = ob_buf_cstr(&ids);
    if (!(f->flags & OB_WF_WHITELIST) || v->n == 0)
        return 0;
    /* permissions.md §4: only permissions whitelisted for the scope type. */
    if (!w->scope_type_id)
        return 0; /* the scope is invalid: reported there */
    const char *p[] = {ob_arena_printf(r->arena, "%d", w->scope_type_id), v->ids};
    PGresult *pg = ob_db_query(r->db, r->arena,
                               "SELECT x::text FROM unnest($2::int[]) x WHERE NOT EXISTS"
                               " (SELECT 1 FROM allowed_role_permissions a"
                               " WHERE a.scope_type_id = $1::int AND a.permission_id = x)",
                               2, p);
    if (!pg) {
        fail_db(w);
        return -1;
    }
    for (int k = 0; k < PQntuples(pg); k++) {
        int bad = (int)strtol(PQgetvalue(pg, k, 0), NULL, 10);
        for (int i = 0; i < v->n; i++)
            if (ob_perm_id(r, v->list[i]) == bad) {
                ob_write_error(w, f->name,
                               ob_arena_printf(r->arena,
                                               "Permission %s cannot be assigned in this scope",
                                               v->list[i]));
                v->state = OB_WV_INVALID;
                break;
            }
    }
    return 0;
}

/* One existence query: sql with $1 (and $2, $3 when given); true when it
 * returns a row.  -1 on failure (answered). */
static int exists(ob_write *w, const char *sql, int n, const char *a, const char *b,
                  const char *c, PGresult **out)
{
    const char *p[] = {a, b, c};
    PGresult *pg = ob_db_query(w->r->db, w->r->arena, sql, n, p);
    if (!pg) {
        fail_db(w);
        return -1;
    }
    if (out)
        *out = pg;
    return PQntuples(pg) > 0;
}

/* Whether this write names a scope (type or UUID) that its own field
 * refused: parsed before the role (wfields in validation order). */
static bool scope_refused(ob_write *w)
{
    for (size_t i = 0; i < w->res->nwfields; i++) {
        ob_write_kind k = w->res->wfields[i].kind;
        if ((k == OB_W_SCOPE_TYPE || k == OB_W_SCOPE_UUID) && w->v[i].state == OB_WV_INVALID)
            return true;
    }
    return false;
}

/* ---- lists of objects (OB_W_OBJECT_LIST) ---- */

/* The items' errors as they are parsed: [{...errors of item 0...}, {}, ...]. */
typedef struct items_list {
    ob_write *w;
    ob_buf errs;
    ob_json j;
    bool bad; /* some item has an error */
} items_list;

static int parse_field(ob_write *w, const ob_wfield *f, ob_wvalue *v, const cJSON *in);

static bool items_begin(ob_write *w, items_list *it, const char *field, const cJSON *in,
                        int max)
{
    ob_arena *a = w->r->arena;
    memset(it, 0, sizeof *it);
    it->w = w;
    if (!cJSON_IsArray(in)) /* (null is parse_field's) */
        ob_write_error(w, field,
                       ob_arena_printf(a, "Expected a list of items but got type \"%s\".",
                                       ob_json_type_name(in)));
    else if (cJSON_GetArraySize(in) > max)
        ob_write_error(w, field,
                       ob_arena_printf(a, "Ensure this field has no more than %d elements.", max));
    else {
        ob_buf_init(&it->errs, a);
        ob_json_init(&it->j, &it->errs);
        ob_json_array_begin(&it->j);
        return true;
    }
    return false;
}

static int items_parse(items_list *it, const ob_wfield *fields, size_t n, const cJSON *item,
                       ob_wvalue *out)
{
    ob_write *w = it->w;
    /* The item's fields are parsed by the rules of a top-level create, in
     * a write of their own, so that their errors stay with the item. */
    ob_resource item_res = *w->res;
    item_res.wfields = fields;
    item_res.nwfields = n;
    ob_write sub = {.r = w->r, .res = &item_res, .create = true, .v = out};
    if (!cJSON_IsObject(item)) {
        ob_write_error(&sub, "non_field_errors",
                       ob_arena_printf(w->r->arena,
                                       "Invalid data. Expected a dictionary, but got %s.",
                                       ob_json_type_name(item)));
    } else {
        for (size_t i = 0; i < n; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, fields[i].name);
            if (!v) {
                if (fields[i].flags & OB_WF_REQUIRED)
                    ob_write_error(&sub, fields[i].name, "This field is required.");
                out[i].text = fields[i].def; /* (state stays absent) */
                continue;
            }
            if (parse_field(&sub, &fields[i], &out[i], v) != 0)
                return -1;
        }
    }
    write_errors(&it->j, &sub);
    it->bad = it->bad || sub.nerr > 0;
    return 0;
}

static void items_end(items_list *it, const char *field)
{
    ob_json_array_end(&it->j);
    if (it->bad)
        ob_write_error_json(it->w, field, ob_buf_cstr(&it->errs));
}

/* Parses one field.  Returns -1 after a database failure (answered). */
static int parse_field(ob_write *w, const ob_wfield *f, ob_wvalue *v, const cJSON *in)
{
    ob_request *r = w->r;
    ob_arena *a = r->arena;
    v->json = in;
    v->state = OB_WV_GIVEN;
#define BAD(msg)                                                                           \
    do {                                                                                   \
        ob_write_error(w, f->name, (msg));                                                 \
        v->state = OB_WV_INVALID;                                                          \
        return 0;                                                                          \
    } while (0)
    bool nullable = f->flags & OB_WF_NULL;
    bool empty = cJSON_IsString(in) && !*ob_str_trim(a, in->valuestring);
    if (cJSON_IsNull(in) || (nullable && empty && f->kind != OB_W_TEXT && f->kind != OB_W_JSON &&
                             f->kind != OB_W_CUSTOM)) {
        if (f->kind == OB_W_JSON && nullable) {
            v->text = "null";
            return 0;
        }
        if (!nullable)
            BAD("This field may not be null.");
        v->text = NULL;
        return 0;
    }
    switch (f->kind) {
    case OB_W_TEXT: {
        if (f->choices && !cJSON_IsString(in)) {
            /* As DRF's ChoiceField: str() of the value, never a match. */
            const char *shown = cJSON_IsArray(in) || cJSON_IsObject(in) ? ob_json_type_name(in) : ob_json_py_str(a, in);
            BAD(ob_arena_printf(a, "\"%s\" is not a valid choice.", shown));
        }
        if (!cJSON_IsString(in) && !cJSON_IsNumber(in))
            BAD("Not a valid string.");
        const char *s = ob_json_py_str(a, in);
        if (!(f->flags & OB_WF_NO_TRIM))
            s = ob_str_trim(a, s);
        if (f->choices) {
            for (size_t i = 0; f->choices[i]; i++)
                if (strcmp(s, f->choices[i]) == 0) {
                    v->text = f->choices[i];
                    return 0;
                }
            BAD(ob_arena_printf(a, "\"%s\" is not a valid choice.", s));
        }
        if (!*s && !(f->flags & OB_WF_BLANK))
            BAD("This field may not be blank.");
        if (f->max_len && ob_utf8_count(s, strlen(s)) > (size_t)f->max_len)
            BAD(ob_arena_printf(a, "Ensure this field has no more than %d characters.",
                                f->max_len));
        if (*s) {
            size_t n = strlen(s);
            if (f->format == OB_FMT_SLUG && !ob_valid_slug(s, n))
                BAD("Enter a valid \"slug\" consisting of letters, numbers, underscores or "
                    "hyphens.");
            if (f->format == OB_FMT_URL && !ob_valid_url(s, n))
                BAD("Enter a valid URL.");
            if (f->format == OB_FMT_EMAIL && !ob_valid_email(s, n))
                BAD("Enter a valid email address.");
            if (f->format == OB_FMT_COLOR && !ob_valid_color(s, n))
                BAD("Enter a valid color: #rgb or #rrggbb.");
        }
        v->text = s;
        return 0;
    }
    case OB_W_BOOL: {
        int b = -1;
        if (cJSON_IsBool(in))
            b = cJSON_IsTrue(in);
        else if (cJSON_IsNumber(in) && (in->valuedouble == 0 || in->valuedouble == 1))
            b = in->valuedouble == 1;
        else if (cJSON_IsString(in)) {
            const char *s = ob_str_trim(a, in->valuestring);
            if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0)
                b = 1;
            else if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0)
                b = 0;
        }
        if (b < 0)
            BAD("Must be a valid boolean.");
        v->num = b;
        v->text = b ? "true" : "false";
        return 0;
    }
    case OB_W_INT: {
        long long n;
        if (cJSON_IsNumber(in) && ob_json_integral(in->valuedouble)) {
            n = (long long)in->valuedouble;
        } else if (cJSON_IsString(in)) {
            const char *s = ob_str_trim(a, in->valuestring);
            char *end;
            size_t len = strlen(s);
            if (len == 0 || len > 18)
                BAD("A valid integer is required.");
            n = strtoll(s, &end, 10);
            if (*end)
                BAD("A valid integer is required.");
        } else {
            BAD("A valid integer is required.");
        }
        if (f->has_min && n < f->min)
            BAD(ob_arena_printf(a, "Ensure this value is greater than or equal to %lld.", f->min));
        if (f->has_max && n > f->max)
            BAD(ob_arena_printf(a, "Ensure this value is less than or equal to %lld.", f->max));
        v->num = n;
        v->text = ob_arena_printf(a, "%lld", n);
        return 0;
    }
    case OB_W_NUMBER: {
        double d;
        if (cJSON_IsNumber(in) && !cJSON_IsBool(in)) {
            d = in->valuedouble;
        } else if (cJSON_IsString(in)) {
            const char *s = ob_str_trim(a, in->valuestring);
            char *end;
            if (!*s || strlen(s) > 40)
                BAD("A valid number is required.");
            d = strtod(s, &end);
            if (*end || d != d)
                BAD("A valid number is required.");
        } else {
            BAD("A valid number is required.");
        }
        if (d > 1e15 || d < -1e15)
            BAD("A valid number is required.");
        if (f->has_min && d < (double)f->min)
            BAD(ob_arena_printf(a, "Ensure this value is greater than or equal to %lld.", f->min));
        v->dbl = d;
        v->text = ob_arena_printf(a, "%.17g", d);
        return 0;
    }
    case OB_W_DATETIME: {
        char *norm = ob_arena_alloc(a, 40);
        if (!cJSON_IsString(in) || !ob_parse_datetime(ob_str_trim(a, in->valuestring), false, norm))
            BAD(DT_MSG);
        v->text = norm;
        return 0;
    }
    case OB_W_JSON: {
        char *text = cJSON_PrintUnformatted(in); /* not NULL (alloc.h) */
        v->text = ob_arena_strdup(a, text);
        cJSON_free(text);
        if (f->json_max_bytes && strlen(v->text) > f->json_max_bytes)
            BAD(ob_arena_printf(a, "Ensure this value has no more than %zu bytes as JSON.",
                                f->json_max_bytes));
        if (f->json_max_depth && json_depth(in) > f->json_max_depth)
            BAD(ob_arena_printf(a, "Ensure this value is nested no more than %d levels deep.",
                                f->json_max_depth));
        return 0;
    }
    case OB_W_UUID_REF: {
        char *u = ob_arena_alloc(a, 37);
        const char *s = cJSON_IsString(in) ? ob_str_trim(a, in->valuestring) : NULL;
        if (!s || strlen(s) > 36 || !ob_parse_uuid(s, u))
            BAD("Must be a valid UUID.");
        int ok = exists(w, f->ref_sql, 1, u, NULL, NULL, NULL);
        if (ok < 0)
            return -1;
        if (!ok)
            BAD(ob_arena_printf(a, "Invalid pk \"%s\" - object does not exist.", u));
        v->text = u;
        return 0;
    }
    case OB_W_INT_REF: {
        const char *s = NULL;
        if (cJSON_IsNumber(in) && ob_json_integral(in->valuedouble) && in->valuedouble >= 0 &&
            in->valuedouble <= 2147483647.0)
            s = ob_arena_printf(a, "%lld", (long long)in->valuedouble);
        else if (cJSON_IsString(in)) {
            const char *t = ob_str_trim(a, in->valuestring);
            bool digits = *t && strlen(t) <= 9;
            for (const char *q = t; *q; q++)
                digits = digits && isdigit((unsigned char)*q);
            if (digits)
                s = t;
        }
        if (!s)
            BAD(ob_arena_printf(a, "Incorrect type. Expected pk value, received %s.",
                                ob_json_type_name(in)));
        int ok = exists(w, f->ref_sql, 1, s, NULL, NULL, NULL);
        if (ok < 0)
            return -1;
        if (!ok)
            BAD(ob_arena_printf(a, "Invalid pk \"%s\" - object does not exist.", s));
        v->text = s;
        v->num = strtoll(s, NULL, 10);
        return 0;
    }
    case OB_W_USER: {
        if (!cJSON_IsString(in) && !cJSON_IsNumber(in))
            BAD("Invalid value.");
        const char *s = ob_str_trim(a, ob_json_py_str(a, in));
        PGresult *pg;
        int ok = exists(w, "SELECT id::text FROM users WHERE username = $1", 1, s, NULL, NULL,
                        &pg);
        if (ok < 0)
            return -1;
        if (!ok)
            BAD(ob_arena_printf(a, "Object with username=%s does not exist.", s));
        v->text = ob_arena_strdup(a, PQgetvalue(pg, 0, 0));
        v->num = strtoll(v->text, NULL, 10);
        return 0;
    }
    case OB_W_LANGUAGE: {
        if (!cJSON_IsString(in))
            BAD(ob_arena_printf(a, "Incorrect type. Expected pk value, received %s.",
                                ob_json_type_name(in)));
        const char *s = ob_str_trim(a, in->valuestring);
        int ok = strlen(s) > 3 ? 0
                               : exists(w, "SELECT 1 FROM languages WHERE language = $1", 1, s,
                                        NULL, NULL, NULL);
        if (ok < 0)
            return -1;
        if (!ok)
            BAD(ob_arena_printf(a, "Invalid pk \"%s\" - object does not exist.", s));
        v->text = s;
        return 0;
    }
    case OB_W_PERM: {
        if (!cJSON_IsString(in))
            BAD("Invalid format: Expected a permission string.");
        const char *s = ob_str_trim(a, in->valuestring);
        int id = ob_perm_id(r, s);
        if (id < 0) {
            ob_db_rollback(r->db);
            return -1;
        }
        if (id == 0)
            BAD(ob_arena_printf(a, "Permission '%s' not found.", s));
        v->num = id;
        v->text = ob_arena_printf(a, "%d", id);
        return 0;
    }
    case OB_W_PERM_LIST:
    case OB_W_GROUP_LIST: {
        if (!cJSON_IsArray(in))
            BAD(ob_arena_printf(a, "Expected a list of items but got type \"%s\".", ob_json_type_name(in)));
        int n = cJSON_GetArraySize(in);
        if (n > 1000)
            BAD("Ensure this field has no more than 1000 elements.");
        v->list = ob_arena_calloc(a, (size_t)n + 1, sizeof *v->list);
        v->n = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, in)
        {
            v->list[v->n++] = cJSON_IsString(it) ? ob_str_trim(a, it->valuestring) : NULL;
        }
        if (f->kind == OB_W_PERM_LIST)
            return resolve_perms(w, f, v);
        return resolve_list(w, f, v, "SELECT slug, id::text FROM groups WHERE slug = ANY($1::text[])",
                            "Invalid value.", "Object with slug=%s does not exist.");
    }
    case OB_W_SCOPE_TYPE: {
        if (!cJSON_IsString(in))
            BAD("Invalid format: Expected a scope type string.");
        const char *s = ob_str_trim(a, in->valuestring);
        const char *dot = strchr(s, '.');
        int ct = 0;
        if (dot && dot != s && dot[1]) {
            char *app = ob_arena_strndup(a, s, (size_t)(dot - s));
            ct = ob_perm_content_type(r, app, dot + 1);
            if (ct && !ob_scope_type_by_name(app, dot + 1))
                BAD(ob_arena_printf(a, "Scope type %s is not valid.",
                                    ob_perm_content_type_label(r, ct)));
        }
        if (!ct)
            BAD(ob_arena_printf(a, "Scope type '%s' not found.", s));
        v->num = ct;
        v->text = ob_arena_printf(a, "%d", ct);
        w->scope_type_id = ct;
        return 0;
    }
    case OB_W_SCOPE_UUID: {
        char *u = ob_arena_alloc(a, 37);
        const char *s = cJSON_IsString(in) ? ob_str_trim(a, in->valuestring) : NULL;
        if (!s || strlen(s) > 36 || !ob_parse_uuid(s, u))
            BAD("Must be a valid UUID.");
        v->text = u;
        if (w->scope_type_id) {
            int ok = exists(w,
                            "SELECT 1 FROM scope_objects WHERE scope_type_id = $1::int"
                            " AND scope_uuid = $2::uuid",
                            2, ob_arena_printf(a, "%d", w->scope_type_id), u, NULL, NULL);
            if (ok < 0)
                return -1;
            if (!ok)
                BAD("Scope object not found.");
            w->scope_uuid = u;
        }
        return 0;
    }
    case OB_W_ROLE: {
        if (!cJSON_IsString(in))
            BAD("Invalid format: Expected a role slug.");
        const char *s = ob_str_trim(a, in->valuestring);
        if (!w->scope_type_id || !w->scope_uuid) {
            /* A scope given but refused has its own error (an unknown type,
             * "Scope object not found."); the role adds none to it.  Only a
             * role without a scope says so (api-conventions.md §9). */
            if (scope_refused(w)) {
                v->state = OB_WV_INVALID;
                return 0;
            }
            BAD("Scope type and scope UUID are required.");
        }
        PGresult *pg;
        int ok = exists(w,
                        "SELECT id::text, priority FROM roles WHERE scope_type_id = $1::int"
                        " AND scope_uuid = $2::uuid AND slug = $3",
                        3, ob_arena_printf(a, "%d", w->scope_type_id), w->scope_uuid, s, &pg);
        if (ok < 0)
            return -1;
        if (!ok)
            BAD(ob_arena_printf(a, "Role '%s' not found.", s));
        v->text = ob_arena_strdup(a, PQgetvalue(pg, 0, 0));
        v->num = strtoll(PQgetvalue(pg, 0, 1), NULL, 10);
        return 0;
    }
    case OB_W_OBJECT_LIST: {
        items_list it;
        if (!items_begin(w, &it, f->name, in, f->has_max ? (int)f->max : 1000)) {
            v->state = OB_WV_INVALID;
            return 0;
        }
        v->n = cJSON_GetArraySize(in);
        v->rows = ob_arena_calloc(a, (size_t)v->n * f->nitems + 1, sizeof *v->rows);
        const cJSON *item;
        int k = 0;
        cJSON_ArrayForEach(item, in)
        {
            if (items_parse(&it, f->items, f->nitems, item, v->rows + (size_t)k++ * f->nitems) != 0)
                return -1;
        }
        items_end(&it, f->name);
        if (it.bad)
            v->state = OB_WV_INVALID;
        return 0;
    }
    case OB_W_CUSTOM:
        return 0;
    }
#undef BAD
    return 0;
}

static int parse_fields(ob_write *w)
{
    const ob_resource *res = w->res;
    const cJSON *body = w->r->json;
    w->v = ob_arena_calloc(w->r->arena, res->nwfields + 1, sizeof *w->v);
    for (size_t i = 0; i < res->nwfields; i++) {
        const ob_wfield *f = &res->wfields[i];
        ob_wvalue *v = &w->v[i];
        if (!w->create && (f->flags & OB_WF_CREATE_ONLY))
            continue; /* set on create, ignored on update */
        if ((f->flags & OB_WF_SUPERUSER) && !ob_perm_is_superuser(w->r))
            continue; /* read-only for everybody else */
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(body, f->name);
        if (!in) {
            if ((f->flags & OB_WF_REQUIRED) && (w->create || !w->partial))
                ob_write_error(w, f->name, "This field is required.");
            continue;
        }
        if (parse_field(w, f, v, in) != 0)
            return -1;
    }
    return 0;
}

/* ---- permission facts ---- */

static ob_rule rule_of(const ob_resource *res)
{
    switch (res->guard) {
    case OB_GUARD_SELF:
        return res->self_perm ? OB_RULE_TOKEN : OB_RULE_USER;
    case OB_GUARD_SCOPE:
        return OB_RULE_SCOPE;
    case OB_GUARD_SCOPED:
        return OB_RULE_SCOPED;
    case OB_GUARD_ACCESS_REQUEST:
        return OB_RULE_ACCESS_REQUEST;
    default:
        return OB_RULE_NONE;
    }
}

static int fixed_scope_type(ob_request *r, const ob_resource *res)
{
    const char *name = res->scope_type_name;
    const char *dot = name ? strchr(name, '.') : NULL;
    if (!dot)
        return 0;
    return ob_perm_content_type(r, ob_arena_strndup(r->arena, name, (size_t)(dot - name)),
                                dot + 1);
}

void ob_write_stored_item(const ob_write *w, ob_perm_item *it)
{
    memset(it, 0, sizeof *it);
    const ob_resource *res = w->res;
    const PGresult *pg = w->stored;
    it->rule = rule_of(res);
    it->self_perm = res->self_perm ? ob_arena_printf(w->r->arena, "%s.%s", res->app_label,
                                                     res->self_perm)
                                   : NULL;
    if (!pg)
        return;
#define NUM(c) (PQgetisnull(pg, 0, (c)) ? 0 : strtoll(PQgetvalue(pg, 0, (c)), NULL, 10))
    it->scope_type_id = (int)NUM(COL_ST);
    it->scope_uuid = PQgetisnull(pg, 0, COL_SU) ? NULL : PQgetvalue(pg, 0, COL_SU);
    it->owner_id = NUM(COL_OWNER);
    it->priority = (int)NUM(COL_PRIO);
    it->user_id = NUM(COL_USER);
    it->pending = !PQgetisnull(pg, 0, COL_PENDING) && PQgetvalue(pg, 0, COL_PENDING)[0] == 't';
#undef NUM
}

int ob_write_new_item(ob_write *w, ob_perm_item *it)
{
    const ob_resource *res = w->res;
    ob_request *r = w->r;
    ob_write_stored_item(w, it);
    if (w->create) {
        it->owner_id = 0;
        if (res->guard == OB_GUARD_SELF && !res->user_field && r->user)
            it->user_id = r->user->id;
    }
    if (w->scope_type_id && w->scope_uuid) {
        it->scope_type_id = w->scope_type_id;
        it->scope_uuid = w->scope_uuid;
    }
    if (res->scope_field) {
        ob_wvalue *v = ob_write_value(w, res->scope_field);
        if (v->state == OB_WV_GIVEN) {
            const char *uuid = v->text;
            if (uuid && res->scope_lookup_sql) {
                PGresult *pg;
                int ok = exists(w, res->scope_lookup_sql, 1, uuid, NULL, NULL, &pg);
                if (ok < 0)
                    return -1;
                uuid = ok && !PQgetisnull(pg, 0, 0) ? ob_arena_strdup(r->arena, PQgetvalue(pg, 0, 0))
                          : NULL;
            }
            if (res->scope_type_name)
                it->scope_type_id = fixed_scope_type(r, res);
            it->scope_uuid = uuid;
        }
    }
    if (res->priority_field) {
        ob_wvalue *v = ob_write_value(w, res->priority_field);
        if (v->state == OB_WV_GIVEN)
            it->priority = (int)v->num;
    }
    if (res->user_field) {
        ob_wvalue *v = ob_write_value(w, res->user_field);
        if (v->state == OB_WV_GIVEN)
            it->user_id = v->num;
        else if (w->create && r->user)
            it->user_id = r->user->id;
    }
    ob_wvalue *d = ob_write_value(w, "decision");
    if (res->pending_sql && d->state == OB_WV_GIVEN)
        it->pending = d->text && strcmp(d->text, "pending") == 0;
    else if (res->pending_sql && w->create)
        it->pending = true;
    return 0;
}

/* ---- the locked row ---- */

int ob_write_lock(ob_write *w, const char *key)
{
    ob_request *r = w->r;
    const ob_resource *res = w->res;
    const char *k = ob_resource_key(r, res, key ? key : "");
    if (!k) {
        ob_db_rollback(r->db);
        ob_failf(r, 404, "No %s matches the given query.", res->class_name);
        return 0;
    }
    ob_sql_params p = {.n = 0};
    ob_buf sql;
    ob_buf_init(&sql, r->arena);
    const char *pkcol = res->pk_column ? res->pk_column : "id";
    ob_buf_printf(&sql, "SELECT t.%s::text", pkcol);
    const char *st = res->scope_type_sql;
    int fixed = 0;
    if (!st && res->scope_type_name) {
        fixed = fixed_scope_type(r, res);
        st = ob_arena_printf(r->arena, "%d", fixed);
    }
    ob_buf_printf(&sql, ", %s, %s::text, %s, %s, %s, %s", st ? st : "NULL::int",
                  res->scope_uuid_sql ? res->scope_uuid_sql : "NULL",
                  res->owner_sql ? res->owner_sql : "NULL::bigint",
                  res->priority_sql ? res->priority_sql : "NULL::int",
                  res->user_sql ? res->user_sql : res->self_sql ? res->self_sql : "NULL::bigint",
                  res->pending_sql ? res->pending_sql : "NULL::boolean");
    for (size_t i = 0; i < res->nwfields; i++) {
        const ob_wfield *f = &res->wfields[i];
        if (!f->column)
            continue;
        if (f->kind == OB_W_DATETIME)
            ob_buf_printf(&sql, ", (extract(epoch FROM t.%s) * 1000000)::bigint", f->column);
        else
            ob_buf_printf(&sql, ", t.%s::text", f->column);
    }
    ob_buf_printf(&sql, " FROM %s WHERE ", res->from);
    if (res->write_gate)
        ob_buf_puts(&sql, "true"); /* gated: existence only (permissions.md §9) */
    else if (ob_perm_visible_sql(&sql, &p, res, r) != 0) {
        ob_db_rollback(r->db);
        return -1;
    }
    ob_buf_printf(&sql, " AND %s = $%d FOR UPDATE OF t", res->pk->sql, ob_sql_param(&p, k));
    PGresult *pg = ob_db_query(r->db, r->arena, ob_buf_cstr(&sql), p.n, p.v);
    if (!pg) {
        fail_db(w);
        return -1;
    }
    if (PQntuples(pg) == 0) {
        ob_db_rollback(r->db);
        ob_failf(r, 404, "No %s matches the given query.", res->class_name);
        return 0;
    }
    w->stored = pg;
    w->key = PQgetvalue(pg, 0, COL_PK);
    if (!PQgetisnull(pg, 0, COL_ST))
        w->scope_type_id = (int)strtol(PQgetvalue(pg, 0, COL_ST), NULL, 10);
    if (!PQgetisnull(pg, 0, COL_SU))
        w->scope_uuid = PQgetvalue(pg, 0, COL_SU);
    (void)fixed;
    return 1;
}

/* ---- the change ---- */

static const char *requester(ob_request *r)
{
    return r->user ? ob_arena_printf(r->arena, "%lld", (long long)r->user->id) : NULL;
}

static int save_m2m(ob_write *w)
{
    ob_request *r = w->r;
    const ob_resource *res = w->res;
    const char *pkcol = res->pk_column ? res->pk_column : "id";
    for (size_t i = 0; i < res->nwfields; i++) {
        const ob_wfield *f = &res->wfields[i];
        const ob_wvalue *v = &w->v[i];
        if (!f->m2m_table || v->state != OB_WV_GIVEN)
            continue;
        const char *p[] = {w->new_key, v->ids ? v->ids : "{}",
                           ob_arena_printf(r->arena, "%d", fixed_scope_type(r, res))};
        char *del, *ins;
        int np = 2;
        if (f->m2m_type_col) {
            /* A link table keyed by (scope type, scope): the type is this
             * resource's own. */
            del = ob_arena_printf(
                r->arena,
                "DELETE FROM %s WHERE %s = $2::int AND %s = (SELECT t.%s FROM %s t WHERE t.%s = $1)",
                f->m2m_table, f->m2m_type_col, f->m2m_self, pkcol, res->table, pkcol);
            ins = ob_arena_printf(
                r->arena,
                "INSERT INTO %s (%s, %s, %s) SELECT $3::int, t.%s, x FROM %s t,"
                " unnest($2::int[]) x WHERE t.%s = $1 ON CONFLICT DO NOTHING",
                f->m2m_table, f->m2m_type_col, f->m2m_self, f->m2m_other, pkcol, res->table, pkcol);
            np = 3;
        } else {
            del = ob_arena_printf(
                r->arena, "DELETE FROM %s WHERE %s = (SELECT t.%s FROM %s t WHERE t.%s = $1)",
                f->m2m_table, f->m2m_self, pkcol, res->table, pkcol);
            ins = ob_arena_printf(
                r->arena,
                "INSERT INTO %s (%s, %s) SELECT t.%s, x FROM %s t, unnest($2::int[]) x"
                " WHERE t.%s = $1 ON CONFLICT DO NOTHING",
                f->m2m_table, f->m2m_self, f->m2m_other, pkcol, res->table, pkcol);
        }
        const char *dp[] = {p[0], p[2]};
        if (!ob_db_query(r->db, r->arena, del, np == 3 ? 2 : 1, dp) ||
            !ob_db_query(r->db, r->arena, ins, np, p)) {
            ob_write_db_error(w);
            return -1;
        }
    }
    return 0;
}

/* A column a hook set: the described field of that column steps back. */
static bool set_by_hook(const ob_write *w, const char *column)
{
    for (int i = 0; i < w->nset; i++)
        if (strcmp(w->set_col[i], column) == 0)
            return true;
    return false;
}

static int do_insert(ob_write *w)
{
    ob_request *r = w->r;
    const ob_resource *res = w->res;
    ob_sql_params p = {.n = 0};
    ob_buf cols, vals;
    ob_buf_init(&cols, r->arena);
    ob_buf_init(&vals, r->arena);
    int n = 0;
#define ADD(col, expr)                                                                     \
    do {                                                                                   \
        ob_buf_printf(&cols, "%s%s", n ? ", " : "", (col));                                \
        ob_buf_printf(&vals, "%s%s", n ? ", " : "", (expr));                               \
        n++;                                                                               \
    } while (0)
    for (size_t i = 0; i < res->nwfields; i++) {
        const ob_wfield *f = &res->wfields[i];
        const ob_wvalue *v = &w->v[i];
        if (!f->column || set_by_hook(w, f->column))
            continue;
        const char *val;
        if (v->state == OB_WV_GIVEN)
            val = v->text;
        else if (f->def)
            val = f->def;
        else if ((f->flags & OB_WF_DEFAULT_REQUESTER) && r->user)
            val = requester(r);
        else
            continue; /* the column's default */
        ADD(f->column, ob_arena_printf(r->arena, "$%d", ob_sql_param(&p, val)));
    }
    for (int i = 0; i < w->nset; i++)
        ADD(w->set_col[i], ob_arena_printf(r->arena, "$%d%s%s", ob_sql_param(&p, w->set_val[i]),
                                           w->set_cast[i] ? "::" : "",
                                           w->set_cast[i] ? w->set_cast[i] : ""));
    if (res->audit) {
        int u = ob_sql_param(&p, requester(r));
        ADD("created_by", ob_arena_printf(r->arena, "$%d::bigint", u));
        ADD("modified_by", ob_arena_printf(r->arena, "$%d::bigint", u));
    }
#undef ADD
    const char *pkcol = res->pk_column ? res->pk_column : "id";
    char *sql = n ? ob_arena_printf(r->arena, "INSERT INTO %s (%s) VALUES (%s) RETURNING %s::text",
                                    res->table, ob_buf_cstr(&cols), ob_buf_cstr(&vals), pkcol)
                  : ob_arena_printf(r->arena, "INSERT INTO %s DEFAULT VALUES RETURNING %s::text",
                                    res->table, pkcol);
    PGresult *pg = ob_db_query(r->db, r->arena, sql, p.n, p.v);
    if (!pg) {
        ob_write_db_error(w);
        return -1;
    }
    w->new_key = ob_arena_strdup(r->arena, PQgetvalue(pg, 0, 0));
    return 0;
}

static int do_update(ob_write *w)
{
    ob_request *r = w->r;
    const ob_resource *res = w->res;
    ob_sql_params p = {.n = 0};
    ob_buf sql;
    ob_buf_init(&sql, r->arena);
    const char *pkcol = res->pk_column ? res->pk_column : "id";
    ob_buf_printf(&sql, "UPDATE %s SET %s = %s", res->table, pkcol, pkcol);
    for (size_t i = 0; i < res->nwfields; i++) {
        const ob_wfield *f = &res->wfields[i];
        const ob_wvalue *v = &w->v[i];
        if (!f->column || v->state != OB_WV_GIVEN || set_by_hook(w, f->column))
            continue;
        ob_buf_printf(&sql, ", %s = $%d", f->column, ob_sql_param(&p, v->text));
    }
    for (int i = 0; i < w->nset; i++)
        ob_buf_printf(&sql, ", %s = $%d%s%s", w->set_col[i], ob_sql_param(&p, w->set_val[i]),
                      w->set_cast[i] ? "::" : "", w->set_cast[i] ? w->set_cast[i] : "");
    if (res->audit)
        ob_buf_printf(&sql, ", modified_by = $%d::bigint, modified_at = now()",
                      ob_sql_param(&p, requester(r)));
    ob_buf_printf(&sql, " WHERE %s = $%d", pkcol, ob_sql_param(&p, w->key));
    if (!ob_db_query(r->db, r->arena, ob_buf_cstr(&sql), p.n, p.v)) {
        ob_write_db_error(w);
        return -1;
    }
    w->new_key = w->key;
    return 0;
}

static void forbidden(ob_request *r)
{
    ob_db_rollback(r->db);
    ob_fail(r, 403, "You do not have permission to perform this action.");
}

static int gate(ob_request *r, const ob_resource *res, const char *action)
{
    if (!res->write_gate)
        return 0;
    return ob_perm_admin_gate(r, res->write_gate == OB_ADMIN_STAFF_PERM
                                     ? ob_resource_perm(r, res, action)
                                     : NULL);
}

/* The key the item route answers with after a write. */
static const char *answer_key(ob_write *w)
{
    const ob_resource *res = w->res;
    if (!res->pk_column || strcmp(res->pk->sql + 2, res->pk_column) == 0)
        return w->new_key;
    /* The URL key is another column (e.g. a username): read it back. */
    const char *p[] = {w->new_key};
    char *sql = ob_arena_printf(w->r->arena, "SELECT %s::text FROM %s WHERE t.%s = $1",
                                res->pk->sql, res->from, res->pk_column);
    PGresult *pg = ob_db_query(w->r->db, w->r->arena, sql, 1, p);
    return pg && PQntuples(pg) ? PQgetvalue(pg, 0, 0) : w->new_key;
}

/* The fields, then the resource's cross-field rules; 400 with every
 * error at once.  0, or -1 (answered, rolled back). */
static int parse_and_validate(ob_write *w)
{
    if (parse_fields(w) != 0)
        return -1;
    if (!w->nerr && w->res->validate && w->res->validate(w) != 0)
        return -1;
    if (w->nerr) {
        ob_db_rollback(w->r->db);
        ob_write_answer_errors(w->r, w);
        return -1;
    }
    return 0;
}

/* The rest of a create or update once it is allowed: the resource's
 * hooks, the row and its m2m links, COMMIT, the queued events, and the
 * item as GET shows it (status 201 or 200). */
static void save_and_answer(ob_write *w, int status)
{
    const ob_resource *res = w->res;
    if ((res->authorize && res->authorize(w) != 0) ||
        (res->before_save && res->before_save(w) != 0))
        return;
    if ((w->create ? do_insert(w) : do_update(w)) != 0 || save_m2m(w) != 0)
        return;
    if (res->after_save && res->after_save(w) != 0)
        return;
    if (ob_db_commit(w->r->db) != 0) {
        fail_db(w);
        return;
    }
    ob_write_after_commit(w);
    ob_resource_item(w->r, res, answer_key(w),
                     &(ob_item_opts){.status = status, .skip_visibility = true});
}

static void create(ob_request *r, const ob_resource *res)
{
    if (gate(r, res, "add") != 0 || ob_resource_read_body(r) != 0)
        return;
    ob_write w = {.r = r, .res = res, .create = true};
    /* Scope items and extension types have a fixed scope type: the
     * whitelist of their public permissions is that type's. */
    if (res->scope_type_name && !res->scope_type_sql)
        w.scope_type_id = fixed_scope_type(r, res);
    if (ob_db_begin(r->db) != 0) {
        fail_db(&w);
        return;
    }
    if (parse_and_validate(&w) != 0)
        return;
    if (!res->write_gate) {
        /* permissions.md §6.2: add_<model> on the unsaved item; §6.3: 404
         * when the requester could not even view it. */
        ob_perm_item it;
        if (ob_write_new_item(&w, &it) != 0)
            return;
        int ok = ob_perm_allowed(r, ob_resource_perm(r, res, "add"), &it);
        if (ok < 0) {
            ob_db_rollback(r->db);
            return;
        }
        if (!ok) {
            int view = ob_perm_allowed(r, ob_resource_perm(r, res, "view"), &it);
            if (view < 0) {
                ob_db_rollback(r->db);
                return;
            }
            ob_db_rollback(r->db);
            if (view)
                ob_fail(r, 403, "You do not have permission to perform this action.");
            else
                ob_failf(r, 404, "No %s matches the given query.", res->class_name);
            return;
        }
    }
    save_and_answer(&w, 201);
}

/* Whether an update changes the field that selects the scope (the group
 * of a textbook, the textbook of a page...), even within one scope. */
static bool scope_field_changed(ob_write *w)
{
    const ob_resource *res = w->res;
    if (!res->scope_field)
        return false;
    const ob_wvalue *v = ob_write_value(w, res->scope_field);
    if (v->state != OB_WV_GIVEN)
        return false;
    const char *column = NULL;
    for (size_t i = 0; i < res->nwfields; i++)
        if (strcmp(res->wfields[i].name, res->scope_field) == 0)
            column = res->wfields[i].column;
    const char *stored = ob_write_stored(w, column);
    if (!stored || !v->text)
        return stored != v->text;
    return strcmp(stored, v->text) != 0;
}

static void update(ob_request *r, const ob_resource *res, const char *key)
{
    if (gate(r, res, "change") != 0)
        return;
    ob_write w = {.r = r, .res = res, .partial = r->method == OB_PATCH};
    if (ob_db_begin(r->db) != 0) {
        fail_db(&w);
        return;
    }
    if (ob_write_lock(&w, key) != 1)
        return;
    if (ob_resource_read_body(r) != 0) {
        ob_db_rollback(r->db);
        return;
    }
    if (parse_and_validate(&w) != 0)
        return;
    if (!res->write_gate) {
        ob_perm_item old, now;
        ob_write_stored_item(&w, &old);
        if (ob_write_new_item(&w, &now) != 0)
            return;
        const char *change = ob_resource_perm(r, res, "change");
        int ok = ob_perm_allowed(r, change, &old);
        /* Rule S items are checked again as they would be after the
         * update (permissions.md §6.2): nobody raises a role, or moves an
         * assignment to a role, above their own priority. */
        if (ok == 1 && (res->guard == OB_GUARD_SCOPED || res->guard == OB_GUARD_ACCESS_REQUEST))
            ok = ob_perm_allowed(r, change, &now);
        /* Moving an item to another scope needs add_ there too
         * (api-resources.md §3). */
        if (ok == 1 && scope_field_changed(&w))
            ok = ob_perm_allowed(r, ob_resource_perm(r, res, "add"), &now);
        if (ok < 0) {
            ob_db_rollback(r->db);
            return;
        }
        if (!ok) {
            forbidden(r);
            return;
        }
    }
    save_and_answer(&w, 200);
}

static void destroy(ob_request *r, const ob_resource *res, const char *key)
{
    if (gate(r, res, "delete") != 0)
        return;
    ob_write w = {.r = r, .res = res, .is_delete = true};
    if (ob_db_begin(r->db) != 0) {
        fail_db(&w);
        return;
    }
    if (ob_write_lock(&w, key) != 1)
        return;
    if (!res->write_gate) {
        ob_perm_item it;
        ob_write_stored_item(&w, &it);
        int ok = ob_perm_allowed(r, ob_resource_perm(r, res, "delete"), &it);
        if (ok < 0) {
            ob_db_rollback(r->db);
            return;
        }
        if (!ok) {
            forbidden(r);
            return;
        }
    }
    if (res->before_delete && res->before_delete(&w) != 0)
        return;
    const char *pkcol = res->pk_column ? res->pk_column : "id";
    const char *p[] = {w.key};
    char *sql = ob_arena_printf(r->arena, "DELETE FROM %s WHERE %s = $1", res->table, pkcol);
    if (!ob_db_query(r->db, r->arena, sql, 1, p)) {
        ob_write_db_error(&w);
        return;
    }
    if (ob_db_commit(r->db) != 0) {
        fail_db(&w);
        return;
    }
    ob_write_after_commit(&w);
    r->res.status = 204;
    ob_buf_reset(&r->res.body);
}

/* ---- dispatch ---- */

static void not_allowed(ob_request *r, unsigned ops, bool item)
{
    char buf[96] = "";
    struct {
        unsigned op;
        const char *name;
        bool item;
    } order[] = {
        {OB_CAN_LIST, "GET", false},      {OB_CAN_RETRIEVE, "GET", true},
        {OB_CAN_CREATE, "POST", false},   {OB_CAN_UPDATE, "PUT", true},
        {OB_CAN_PATCH, "PATCH", true},    {OB_CAN_DELETE, "DELETE", true},
    };
    bool get = false;
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        if (!(ops & order[i].op) || order[i].item != item)
            continue;
        if (strcmp(order[i].name, "GET") == 0)
            get = true;
        if (*buf)
            strcat(buf, ", ");
        strcat(buf, order[i].name);
    }
    if (get)
        strcat(buf, *buf ? ", HEAD" : "HEAD");
    strcat(buf, *buf ? ", OPTIONS" : "OPTIONS");
    ob_response_header(&r->res, "Allow", buf);
    ob_failf(r, 405, "Method \"%s\" not allowed.", r->method_name);
}

void ob_resource_serve(ob_request *r, const ob_resource *res)
{
    unsigned ops = res->ops ? res->ops : OB_CAN_READ;
    bool item = r->npath_params > 0;
    const char *key = item ? r->path_params[0] : NULL;
    switch (r->method) {
    case OB_GET:
    case OB_HEAD:
        if (item && (ops & OB_CAN_RETRIEVE))
            ob_resource_retrieve(r, res);
        else if (!item && (ops & OB_CAN_LIST))
            ob_resource_list(r, res);
        else
            break;
        return;
    case OB_POST:
        if (item || !(ops & OB_CAN_CREATE))
            break;
        create(r, res);
        return;
    case OB_PUT:
    case OB_PATCH:
        if (!item || !(ops & (r->method == OB_PUT ? OB_CAN_UPDATE : OB_CAN_PATCH)))
            break;
        update(r, res, key);
        return;
    case OB_DELETE:
        if (!item || !(ops & OB_CAN_DELETE))
            break;
        destroy(r, res, key);
        return;
    default:
        break;
    }
    not_allowed(r, ops, item);
}
