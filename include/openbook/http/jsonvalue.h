/* jsonvalue.h - reading cJSON input values the way the original (Python)
 * server describes them in its messages. */
#ifndef OPENBOOK_JSONVALUE_H
#define OPENBOOK_JSONVALUE_H

#include <stdbool.h>
#include <cjson/cJSON.h>
#include "openbook/core/arena.h"

/* Whether a JSON number is integral (Python would have parsed an int);
 * range-checked first, since casting a huge double is undefined. */
bool ob_json_integral(double d);
/* Python's type name of a JSON value: str, bool, NoneType, list, dict,
 * int or float. */
const char *ob_json_type_name(const cJSON *v);
/* Python's str() of a scalar, for messages and for numbers given to text
 * fields (which the original accepts). */
const char *ob_json_py_str(ob_arena *a, const cJSON *v);
/* s without leading and trailing white space, copied into the arena. */
const char *ob_str_trim(ob_arena *a, const char *s);

#endif
