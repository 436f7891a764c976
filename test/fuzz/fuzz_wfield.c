/* fuzz_wfield.c - the field validator (src/api/validate.c).
 *
 * Input: byte 0 picks the field (every kind, with and without null, the
 * limits and formats), the rest is the JSON value.  Invariants: it never
 * crashes; it reports 0 to 2 messages, and the value is invalid exactly
 * when it does; a valid value is what its kind promises (text within its
 * bounds and without NUL, "true"/"false", an integer within [min, max], a
 * normalised date-time or UUID, a list of at most 1000 items). */
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "openbook/api/resource.h"
#include "openbook/http/validate.h"
#include "fuzz_common.h"

static const char *const choices[] = {"TEXT", "HTML", "MD", NULL};

static const ob_wfield fields[] = {
    {.name = "t", .kind = OB_W_TEXT, .max_len = 10},
    {.name = "t", .kind = OB_W_TEXT, .flags = OB_WF_BLANK | OB_WF_NULL, .format = OB_FMT_URL},
    {.name = "t", .kind = OB_W_TEXT, .max_len = 150, .min_len = 5, .format = OB_FMT_USERNAME},
    {.name = "t", .kind = OB_W_TEXT, .format = OB_FMT_SLUG},
    {.name = "t", .kind = OB_W_TEXT, .format = OB_FMT_EMAIL},
    {.name = "t", .kind = OB_W_TEXT, .format = OB_FMT_COLOR, .flags = OB_WF_NO_TRIM},
    {.name = "t", .kind = OB_W_TEXT, .choices = choices},
    {.name = "f", .kind = OB_W_FILE, .flags = OB_WF_BLANK},
    {.name = "b", .kind = OB_W_BOOL},
    {.name = "i", .kind = OB_W_INT, .has_min = true, .min = 0, .has_max = true, .max = 32767},
    {.name = "i", .kind = OB_W_INT, .flags = OB_WF_NULL},
    {.name = "n", .kind = OB_W_NUMBER, .has_min = true, .min = 0},
    {.name = "d", .kind = OB_W_DATETIME, .flags = OB_WF_NULL},
    {.name = "j", .kind = OB_W_JSON, .json_max_bytes = 64, .json_max_depth = 3},
    {.name = "j", .kind = OB_W_JSON, .flags = OB_WF_NULL},
    {.name = "u", .kind = OB_W_UUID_REF, .flags = OB_WF_NULL},
    {.name = "u", .kind = OB_W_SCOPE_UUID},
    {.name = "r", .kind = OB_W_INT_REF},
    {.name = "r", .kind = OB_W_USER},
    {.name = "r", .kind = OB_W_LANGUAGE},
    {.name = "r", .kind = OB_W_PERM},
    {.name = "r", .kind = OB_W_ROLE},
    {.name = "r", .kind = OB_W_SCOPE_TYPE},
    {.name = "l", .kind = OB_W_PERM_LIST},
    {.name = "l", .kind = OB_W_GROUP_LIST},
    {.name = "c", .kind = OB_W_CUSTOM},
};

static void check_value(const ob_wfield *f, const ob_wvalue *v)
{
    const char *t = v->text;
    if (!t) {
        FUZZ_CHECK(f->kind == OB_W_CUSTOM || f->kind == OB_W_PERM_LIST ||
                       f->kind == OB_W_GROUP_LIST || (f->flags & OB_WF_NULL),
                   "kind %d: NULL text without null allowed", (int)f->kind);
        if (f->kind == OB_W_PERM_LIST || f->kind == OB_W_GROUP_LIST)
            FUZZ_CHECK(v->list && v->n >= 0 && v->n <= 1000, "a list of %d", v->n);
        return;
    }
    size_t n = strlen(t);
    switch (f->kind) {
    case OB_W_TEXT:
        if (f->max_len)
            FUZZ_CHECK(ob_utf8_count(t, n) <= (size_t)f->max_len, "over max_len: %s", t);
        if (f->min_len)
            FUZZ_CHECK(ob_utf8_count(t, n) >= (size_t)f->min_len, "under min_len: %s", t);
        if (!(f->flags & OB_WF_BLANK) && !f->choices)
            FUZZ_CHECK(n > 0, "blank text");
        if (f->choices)
            FUZZ_CHECK(strcmp(t, "TEXT") == 0 || strcmp(t, "HTML") == 0 || strcmp(t, "MD") == 0,
                       "not a choice: %s", t);
        if (f->format == OB_FMT_USERNAME)
            FUZZ_CHECK(ob_valid_username_chars(t, n), "username %s", t);
        break;
    case OB_W_FILE:
        FUZZ_CHECK(n == 0, "a file path from JSON: %s", t);
        break;
    case OB_W_BOOL:
        FUZZ_CHECK(strcmp(t, v->num ? "true" : "false") == 0, "bool %s", t);
        break;
    case OB_W_INT:
        FUZZ_CHECK(strtoll(t, NULL, 10) == v->num, "int %s != %lld", t, v->num);
        if (f->has_min)
            FUZZ_CHECK(v->num >= f->min && v->num <= f->max, "int %lld out of bounds", v->num);
        break;
    case OB_W_NUMBER:
        FUZZ_CHECK(v->dbl >= 0 && v->dbl <= 1e15, "number %g", v->dbl);
        break;
    case OB_W_DATETIME:
        FUZZ_CHECK(n == 32 && t[10] == 'T' && (t[26] == '+' || t[26] == '-'), "date-time %s", t);
        break;
    case OB_W_UUID_REF:
    case OB_W_SCOPE_UUID:
        FUZZ_CHECK(n == 36 && t[8] == '-' && t[13] == '-' && t[18] == '-' && t[23] == '-',
                   "uuid %s", t);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(t[i] == '-' || (t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f'),
                       "uuid %s", t);
        break;
    case OB_W_INT_REF:
        FUZZ_CHECK(n >= 1 && n <= 10 && strspn(t, "0123456789") == n, "id %s", t);
        break;
    case OB_W_JSON: {
        cJSON *back = cJSON_Parse(t);
        FUZZ_CHECK(back != NULL, "JSON text does not parse back: %.60s", t);
        cJSON_Delete(back);
        if (f->json_max_bytes)
            FUZZ_CHECK(n <= f->json_max_bytes, "JSON of %zu bytes", n);
        break;
    }
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    ob_arena *a = fuzz_arena();
    ob_arena_reset(a);
    const ob_wfield *f = &fields[data[0] % (sizeof fields / sizeof fields[0])];
    cJSON *in = cJSON_ParseWithLength((const char *)data + 1, size - 1);
    if (!in)
        return 0;
    ob_wvalue v;
    memset(&v, 0, sizeof v);
    const char *errs[2] = {NULL, NULL};
    int n = ob_wfield_parse(a, f, in, &v, errs);
    FUZZ_CHECK(n >= 0 && n <= 2, "%d messages", n);
    FUZZ_CHECK((n > 0) == (v.state == OB_WV_INVALID), "%d messages, state %d", n, (int)v.state);
    for (int i = 0; i < n; i++)
        FUZZ_CHECK(errs[i] && *errs[i], "empty message");
    if (n == 0)
        check_value(f, &v);
    cJSON_Delete(in);
    return 0;
}
