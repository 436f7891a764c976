/* yaml.c - a JSON text as YAML (block style, keys in document order), for
 * GET /api/schema/?format=yaml: scalars are quoted unless no reader could
 * take them for anything but that string. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "openbook/api/registry.h"

/* Plain (unquoted) YAML keys only where no reader could take them for
 * anything but that string. */
static bool plain_key(const char *s)
{
    if (!*s || !(isalpha((unsigned char)*s) || *s == '/' || *s == '_'))
        return false;
    for (const char *c = s; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("_./{}-", *c))
            return false;
    static const char *const words[] = {"y", "n", "yes", "no", "on", "off", "true", "false",
                                        "null"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strcasecmp(s, words[i]) == 0)
            return false;
    return true;
}

static void yaml_key(ob_buf *o, const char *k)
{
    if (plain_key(k))
        ob_buf_puts(o, k);
    else
        ob_json_escape(o, k, strlen(k));
    ob_buf_putc(o, ':');
}

/* Scalars: strings as JSON string literals, which YAML reads as
 * double-quoted scalars with the same escapes. */
static void yaml_scalar(ob_buf *o, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        ob_json_escape(o, v->valuestring, strlen(v->valuestring));
    } else if (cJSON_IsTrue(v)) {
        ob_buf_puts(o, "true");
    } else if (cJSON_IsFalse(v)) {
        ob_buf_puts(o, "false");
    } else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d > -9e15 && d < 9e15 && d == (double)(long long)d)
            ob_buf_printf(o, "%lld", (long long)d);
        else
            ob_buf_printf(o, "%.17g", d);
    } else {
        ob_buf_puts(o, "null");
    }
}

/* Writes v after "key:" or "-": scalars and empty containers on the same
 * line, the rest as an indented block below. */
static void yaml_value(ob_buf *o, const cJSON *v, int indent)
{
    bool object = cJSON_IsObject(v), array = cJSON_IsArray(v);
    if ((!object && !array) || !v->child) {
        ob_buf_putc(o, ' ');
        if (object)
            ob_buf_puts(o, "{}");
        else if (array)
            ob_buf_puts(o, "[]");
        else
            yaml_scalar(o, v);
        ob_buf_putc(o, '\n');
        return;
    }
    ob_buf_putc(o, '\n');
    for (const cJSON *c = v->child; c; c = c->next) {
        for (int i = 0; i < indent; i++)
            ob_buf_putc(o, ' ');
        if (object)
            yaml_key(o, c->string);
        else
            ob_buf_putc(o, '-');
        yaml_value(o, c, indent + 2);
    }
}

void ob_yaml_from_json(ob_buf *o, const char *json, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        /* Not reached (the writer writes valid JSON), and JSON is YAML. */
        cJSON_Delete(root);
        ob_buf_append(o, json, len);
        return;
    }
    ob_buf_puts(o, "# The OpenBook API: the document of GET /api/schema/, as YAML.\n");
    for (const cJSON *c = root->child; c; c = c->next) {
        yaml_key(o, c->string);
        yaml_value(o, c, 2);
    }
    cJSON_Delete(root);
}

/* ---- the endpoint ---- */

/* This process's copies, built on first use: the document depends only on
 * the compiled-in tables. */
