/* jsonvalue.c - Python-compatible views of JSON input (see jsonvalue.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "openbook/http/jsonvalue.h"

bool ob_json_integral(double d)
{
    return d > -9.2e18 && d < 9.2e18 && d == (double)(long long)d;
}

const char *ob_json_type_name(const cJSON *v)
{
    if (cJSON_IsString(v))
        return "str";
    if (cJSON_IsBool(v))
        return "bool";
    if (cJSON_IsNull(v))
        return "NoneType";
    if (cJSON_IsArray(v))
        return "list";
    if (cJSON_IsObject(v))
        return "dict";
    return ob_json_integral(v->valuedouble) ? "int" : "float";
}

const char *ob_json_py_str(ob_arena *a, const cJSON *v)
{
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsTrue(v))
        return "True";
    if (cJSON_IsFalse(v))
        return "False";
    if (cJSON_IsNull(v))
        return "None";
    double d = v->valuedouble;
    if (ob_json_integral(d))
        return ob_arena_printf(a, "%lld", (long long)d);
    /* Shortest form that reads back as the same double, as Python's repr. */
    for (int prec = 1; prec <= 17; prec++) {
        char *s = ob_arena_printf(a, "%.*g", prec, d);
        if (strtod(s, NULL) == d)
            return s;
    }
    return ob_arena_printf(a, "%.17g", d);
}

const char *ob_str_trim(ob_arena *a, const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    return ob_arena_strndup(a, s, n);
}
