/* json.h - streaming JSON writer.  Every string goes through
 * ob_json_string(), which escapes it and replaces invalid UTF-8 with
 * U+FFFD, so output is always valid JSON in valid UTF-8. */
#ifndef OPENBOOK_JSON_H
#define OPENBOOK_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openbook/core/buf.h"

#define OB_JSON_MAX_DEPTH 64

typedef struct ob_json {
    ob_buf *out;
    int depth;
    bool need_comma[OB_JSON_MAX_DEPTH + 1];
    bool after_key;
} ob_json;

void ob_json_init(ob_json *j, ob_buf *out);
void ob_json_object_begin(ob_json *j);
void ob_json_object_end(ob_json *j);
void ob_json_array_begin(ob_json *j);
void ob_json_array_end(ob_json *j);
void ob_json_key(ob_json *j, const char *key);
void ob_json_string(ob_json *j, const char *s);
void ob_json_string_n(ob_json *j, const char *s, size_t n);
void ob_json_int(ob_json *j, int64_t v);
void ob_json_double(ob_json *j, double v);
void ob_json_bool(ob_json *j, bool v);
void ob_json_null(ob_json *j);
/* Inserts already-valid JSON text (e.g. a jsonb column) as one value. */
void ob_json_raw(ob_json *j, const char *text, size_t n);

/* Shorthand: "key": "value" / "key": int. */
void ob_json_kv_string(ob_json *j, const char *key, const char *value);
void ob_json_kv_int(ob_json *j, const char *key, int64_t v);

/* Escapes s into out as a JSON string literal (with the quotes). */
void ob_json_escape(ob_buf *out, const char *s, size_t n);

#endif
