/* write_state.c - what the hooks see of a write in progress (resource.h):
 * its errors and their 400, the values and the stored row, extra columns,
 * the effects queued for after the COMMIT, and the answer to a failed
 * statement (ob_db_classify's meaning, the resource's unique messages). */
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
void ob_write_errors_json(ob_json *j, const ob_write *w)
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
    ob_write_errors_json(ob_json_response(r, 400), w);
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

void ob_write_remove_file(ob_write *w, const char *path)
{
    if (!path || !*path)
        return;
    if (w->nunlink < (int)(sizeof w->unlink / sizeof w->unlink[0]))
        w->unlink[w->nunlink++] = ob_arena_strdup(w->r->arena, path);
    else
        ob_warn("write: too many files to remove, %s kept", path);
}

void ob_write_after_commit(ob_write *w)
{
    ob_write_keep_files(w);
    if (w->events)
        ob_events_publish(w->events, w->r->redis);
    for (int i = 0; i < w->nrevoke; i++)
        ob_events_revoke_user(w->r->redis, w->revoke[i]);
    /* Only once the row no longer names them; a path that climbs out of
     * the media root is never followed. */
    for (int i = 0; i < w->nunlink; i++) {
        if (strstr(w->unlink[i], ".."))
            continue;
        const char *full = ob_arena_printf(w->r->arena, "%s/%s", w->r->cfg->media_root,
                                           w->unlink[i]);
        if (unlink(full) != 0)
            ob_debug("could not remove %s", full);
    }
    w->events = NULL;
    w->nrevoke = 0;
    w->nunlink = 0;
}

void ob_write_fail(ob_write *w)
{
    ob_db_failure(w->r);
    ob_db_rollback(w->r->db);
}

void ob_write_db_error(ob_write *w)
{
    ob_request *r = w->r;
    ob_db_class c = ob_db_classify(ob_db_last_sqlstate(r->db));
    const char *msg = NULL;
    if (c == OB_DB_UNIQUE) {
        const char *cons = ob_db_last_constraint(r->db);
        const ob_unique *u = NULL;
        for (size_t i = 0; i < w->res->nuniques; i++)
            if (strcmp(w->res->uniques[i].constraint, cons) == 0)
                u = &w->res->uniques[i];
        ob_db_rollback(r->db);
        w->nerr = 0;
        if (u)
            ob_write_error(w, u->field ? u->field : "non_field_errors", u->message);
        else
            ob_write_error(w, "non_field_errors",
                           ob_arena_printf(r->arena, "%s with these values already exists.",
                                           w->res->class_name));
        ob_write_answer_errors(r, w);
        return;
    }
    /* Foreign keys (a referenced row went away meanwhile, or still refers
     * to this one), checks: the input's fault, never a 5xx. */
    if (c == OB_DB_REFERENCE)
        msg = "Invalid reference: the related object does not exist or is still in use.";
    else if (c == OB_DB_INTEGRITY)
        msg = "Invalid value.";
    if (!msg) {
        ob_write_fail(w);
        return;
    }
    ob_db_rollback(r->db);
    w->nerr = 0;
    ob_write_error(w, "non_field_errors", msg);
    ob_write_answer_errors(r, w);
}

/* ---- JSON helpers ---- */
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

int ob_write_check_dates(ob_write *w)
{
    bool has_start, has_end;
    long long s = ob_write_datetime_us(w, "start_date", "start_date", &has_start);
    long long e = ob_write_datetime_us(w, "end_date", "end_date", &has_end);
    if (has_start && has_end && e <= s)
        ob_write_error(w, "non_field_errors", "End date must be later than start date.");
    return 0;
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
