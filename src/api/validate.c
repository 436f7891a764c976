/* validate.c - the field validator: one JSON value of a writable field,
 * parsed as its kind wants it (api-conventions.md §2, §4, §9), without
 * looking anything up.  Pure (resource.h: ob_wfield_parse); the write
 * engine then resolves the keys of the reference kinds. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "openbook/http/fields.h"
#include "openbook/http/jsonvalue.h"
#include "openbook/api/resource.h"
#include "openbook/http/validate.h"

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

/* A trimmed string, or NULL when the value is not a string. */
static const char *string_of(ob_arena *a, const cJSON *in)
{
    return cJSON_IsString(in) ? ob_str_trim(a, in->valuestring) : NULL;
}

static const char *text_format_error(const ob_wfield *f, const char *s, size_t n)
{
    if (!*s)
        return NULL;
    if (f->format == OB_FMT_SLUG && !ob_valid_slug(s, n))
        return "Enter a valid \"slug\" consisting of letters, numbers, underscores or hyphens.";
    if (f->format == OB_FMT_URL && !ob_valid_url(s, n))
        return "Enter a valid URL.";
    if (f->format == OB_FMT_EMAIL && !ob_valid_email(s, n))
        return "Enter a valid email address.";
    if (f->format == OB_FMT_COLOR && !ob_valid_color(s, n))
        return "Enter a valid color: #rgb or #rrggbb.";
    if (f->format == OB_FMT_USERNAME && !ob_valid_username_chars(s, n))
        return "Enter a valid username. This value may contain only letters, numbers, and "
               "@/./+/-/_ characters.";
    return NULL;
}

int ob_wfield_parse(ob_arena *a, const ob_wfield *f, const cJSON *in, ob_wvalue *v,
                    const char *errs[2])
{
    v->json = in;
    v->state = OB_WV_GIVEN;
    int nerr = 0;
#define BAD(msg)                                                                           \
    do {                                                                                   \
        errs[nerr++] = (msg);                                                              \
        v->state = OB_WV_INVALID;                                                          \
        return nerr;                                                                       \
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
            const char *shown = cJSON_IsArray(in) || cJSON_IsObject(in) ? ob_json_type_name(in)
                                                                        : ob_json_py_str(a, in);
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
        size_t n = strlen(s), chars = ob_utf8_count(s, n);
        if (f->max_len && chars > (size_t)f->max_len)
            BAD(ob_arena_printf(a, "Ensure this field has no more than %d characters.",
                                f->max_len));
        /* The length minimum and the format are both reported, as the
         * original's validators are. */
        if (f->min_len && chars < (size_t)f->min_len) {
            errs[nerr++] =
                ob_arena_printf(a, "Ensure this field has at least %d characters.", f->min_len);
            v->state = OB_WV_INVALID;
        }
        const char *msg = text_format_error(f, s, n);
        if (msg)
            BAD(msg);
        v->text = s;
        return nerr;
    }
    case OB_W_FILE:
        /* Uploads come as multipart; in JSON only "" (clear) makes sense. */
        if (!empty)
            BAD("The submitted data was not a file. Check the encoding type on the form.");
        v->text = "";
        return 0;
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
    case OB_W_UUID_REF:
    case OB_W_SCOPE_UUID: {
        char *u = ob_arena_alloc(a, 37);
        const char *s = string_of(a, in);
        if (!s || strlen(s) > 36 || !ob_parse_uuid(s, u))
            BAD("Must be a valid UUID.");
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
        v->text = s;
        v->num = strtoll(s, NULL, 10);
        return 0;
    }
    case OB_W_USER:
        if (!cJSON_IsString(in) && !cJSON_IsNumber(in))
            BAD("Invalid value.");
        v->text = ob_str_trim(a, ob_json_py_str(a, in));
        return 0;
    case OB_W_LANGUAGE:
        if (!cJSON_IsString(in))
            BAD(ob_arena_printf(a, "Incorrect type. Expected pk value, received %s.",
                                ob_json_type_name(in)));
        v->text = ob_str_trim(a, in->valuestring);
        return 0;
    case OB_W_PERM:
        if (!cJSON_IsString(in))
            BAD("Invalid format: Expected a permission string.");
        v->text = ob_str_trim(a, in->valuestring);
        return 0;
    case OB_W_SCOPE_TYPE:
        if (!cJSON_IsString(in))
            BAD("Invalid format: Expected a scope type string.");
        v->text = ob_str_trim(a, in->valuestring);
        return 0;
    case OB_W_ROLE:
        if (!cJSON_IsString(in))
            BAD("Invalid format: Expected a role slug.");
        v->text = ob_str_trim(a, in->valuestring);
        return 0;
    case OB_W_PERM_LIST:
    case OB_W_GROUP_LIST: {
        if (!cJSON_IsArray(in))
            BAD(ob_arena_printf(a, "Expected a list of items but got type \"%s\".",
                                ob_json_type_name(in)));
        int n = cJSON_GetArraySize(in);
        if (n > 1000)
            BAD("Ensure this field has no more than 1000 elements.");
        /* Items that are not strings stay NULL: the writer reports the
         * first bad item, as the original does. */
        v->list = ob_arena_calloc(a, (size_t)n + 1, sizeof *v->list);
        v->n = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, in)
        {
            v->list[v->n++] = string_of(a, it);
        }
        return 0;
    }
    case OB_W_OBJECT_LIST: /* its items are fields: the write engine parses them */
    case OB_W_CUSTOM:
        return 0;
    }
#undef BAD
    return 0;
}
