/* fuzz_json_writer.c - the streaming JSON writer.
 *
 * Input: a program.  Each byte is an operation (open/close an object or
 * array, a key, a string taken from the following bytes, an int, a double,
 * a bool, null); operations that would misuse the writer (a value where a
 * key is due, closing what is not open, nesting past OB_JSON_MAX_DEPTH)
 * are skipped, and everything still open is closed at the end.
 * Invariants: the output is valid UTF-8 and parses as one JSON value, and
 * the writer's depth returns to zero. */
#include <math.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "openbook/core/json.h"
#include "openbook/http/parse.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ob_arena *a = fuzz_arena();
    ob_buf out;
    ob_json j;
    ob_buf_init(&out, a);
    ob_json_init(&j, &out);

    char stack[OB_JSON_MAX_DEPTH + 1]; /* 'o' object, 'a' array */
    int depth = 0;
    bool key_due = false; /* inside an object, a key comes next */
    bool done = false;    /* the top-level value is complete */
    size_t i = 0;

    while (i < size && !done) {
        uint8_t op = data[i++];
        bool in_obj = depth > 0 && stack[depth - 1] == 'o';
        if (in_obj && key_due) {
            if (op % 5 == 0) {
                ob_json_object_end(&j);
                depth--;
                key_due = depth > 0 && stack[depth - 1] == 'o';
                done = depth == 0;
            } else {
                size_t n = i < size ? data[i++] % 16 : 0;
                if (n > size - i)
                    n = size - i;
                char *k = ob_arena_strndup(a, (const char *)data + i, n);
                i += n;
                ob_json_key(&j, k); /* stops at a NUL, like any C string */
                key_due = false;
            }
            continue;
        }
        /* A value is due (top level, array element, or after a key). */
        switch (op % 11) {
        case 0:
        case 1:
            if (depth >= OB_JSON_MAX_DEPTH) {
                ob_json_null(&j);
                break;
            }
            if (op % 11 == 0)
                ob_json_object_begin(&j);
            else
                ob_json_array_begin(&j);
            stack[depth++] = op % 11 == 0 ? 'o' : 'a';
            key_due = stack[depth - 1] == 'o';
            continue;
        case 2:
            if (depth > 0 && stack[depth - 1] == 'a') {
                ob_json_array_end(&j);
                depth--;
                break;
            }
            ob_json_bool(&j, true);
            break;
        case 3: {
            size_t n = i < size ? data[i++] % 32 : 0;
            if (n > size - i)
                n = size - i;
            ob_json_string_n(&j, (const char *)data + i, n);
            i += n;
            break;
        }
        case 4: {
            int64_t v = 0;
            for (int b = 0; b < 8 && i < size; b++)
                v = (int64_t)((uint64_t)v << 8 | data[i++]);
            ob_json_int(&j, v);
            break;
        }
        case 5: {
            double d = 0;
            if (size - i >= sizeof d) {
                memcpy(&d, data + i, sizeof d);
                i += sizeof d;
            }
            ob_json_double(&j, d);
            break;
        }
        case 6:
            ob_json_bool(&j, false);
            break;
        case 7:
            ob_json_null(&j);
            break;
        case 8:
            ob_json_raw(&j, "{\"raw\":[1,2.5,\"x\"]}", 19);
            break;
        case 9: {
            size_t n = i < size ? data[i++] % 8 : 0;
            if (n > size - i)
                n = size - i;
            char *s = ob_arena_strndup(a, (const char *)data + i, n);
            i += n;
            ob_json_string(&j, s);
            break;
        }
        default:
            ob_json_string(&j, NULL);
            break;
        }
        /* A value was written. */
        key_due = depth > 0 && stack[depth - 1] == 'o';
        done = depth == 0;
    }
    /* Close what is still open; a dangling key gets a value first. */
    if (!done && depth == 0)
        ob_json_null(&j);
    while (depth > 0) {
        if (stack[depth - 1] == 'o') {
            if (!key_due)
                ob_json_null(&j);
            ob_json_object_end(&j);
        } else {
            ob_json_array_end(&j);
        }
        depth--;
        key_due = depth > 0 && stack[depth - 1] == 'o';
    }
    FUZZ_CHECK(j.depth == 0, "writer depth %d", j.depth);
    const char *text = ob_buf_cstr(&out);
    FUZZ_CHECK(ob_utf8_valid(text, out.len), "output is not UTF-8");
    FUZZ_CHECK(strlen(text) == out.len, "NUL in output");
    cJSON *v = cJSON_ParseWithLength(text, out.len);
    if (!v)
        fprintf(stderr, "output: %s\n", text);
    FUZZ_CHECK(v != NULL, "output is not JSON");
    cJSON_Delete(v);
    ob_arena_reset(a);
    return 0;
}
