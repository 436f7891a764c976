/* models.h - what clang's static analyzer cannot see for itself, forced
 * into every file it analyzes (`make analyze`, test/test.mk).
 *
 * The analyzer reads one translation unit at a time, so the body of a
 * library function is unknown to it.  cJSON's type tests all begin with
 * `if (item == NULL) return false;` (cJSON.c), and the tree relies on that:
 * `if (!cJSON_IsString(v)) ...; use(v->valuestring)`.  Without the body the
 * analyzer reports every such use as a possible NULL dereference.  The
 * macros below restate the library's definitions so it can follow them;
 * they exist only for the analysis, never in a build. */
#ifndef OPENBOOK_ANALYZER_MODELS_H
#define OPENBOOK_ANALYZER_MODELS_H

#include <cjson/cJSON.h>

#define OB_MODEL_CJSON_IS(item, t) ((item) != NULL && (((item)->type & 0xFF) == (t)))
#define cJSON_IsInvalid(item) OB_MODEL_CJSON_IS(item, cJSON_Invalid)
#define cJSON_IsFalse(item) OB_MODEL_CJSON_IS(item, cJSON_False)
#define cJSON_IsTrue(item) OB_MODEL_CJSON_IS(item, cJSON_True)
#define cJSON_IsBool(item) ((item) != NULL && ((item)->type & (cJSON_True | cJSON_False)) != 0)
#define cJSON_IsNull(item) OB_MODEL_CJSON_IS(item, cJSON_NULL)
#define cJSON_IsNumber(item) OB_MODEL_CJSON_IS(item, cJSON_Number)
#define cJSON_IsString(item) OB_MODEL_CJSON_IS(item, cJSON_String)
#define cJSON_IsArray(item) OB_MODEL_CJSON_IS(item, cJSON_Array)
#define cJSON_IsObject(item) OB_MODEL_CJSON_IS(item, cJSON_Object)
#define cJSON_IsRaw(item) OB_MODEL_CJSON_IS(item, cJSON_Raw)

#endif
