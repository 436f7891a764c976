/* fuzz_manifest.c - library.yml and component definitions (manifest.h).
 *
 * Input: byte 0 picks library.yml (even) or a component file (odd), the
 * rest is the YAML.  Invariants: a parsed manifest has a valid fqn and
 * semver, strings within their bounds (author 100, license 50, short
 * descriptions 255 characters), URLs that are valid or empty, valid
 * dependency expressions; a failure gives the spec's message; a parsed
 * component has a valid tag name and a definition that is a JSON object
 * with exactly the normalized keys and types; a skipped or invalid one
 * gives no definition (and invalid ones a reason).  Aliases cannot make
 * the work explode (libFuzzer's timeout and RSS limit watch). */
#include <string.h>
#include <cjson/cJSON.h>
#include "openbook/http/fields.h"
#include "openbook/files/manifest.h"
#include "openbook/http/parse.h"
#include "openbook/files/semver.h"
#include "openbook/http/validate.h"
#include "fuzz_common.h"

static void check_manifest(ob_arena *a, const char *buf, size_t len)
{
    ob_library_manifest m;
    const char *msg;
    ob_manifest_status st = ob_manifest_parse(a, buf, len, 1 << 20, &m, &msg);
    if (st != OB_MANIFEST_OK) {
        FUZZ_CHECK(msg != NULL && m.name == NULL, "failure without a message");
        if (st == OB_MANIFEST_INVALID)
            FUZZ_CHECK(strcmp(msg, OB_ARCHIVE_INVALID_MESSAGE) == 0, "message %s", msg);
        return;
    }
    FUZZ_CHECK(ob_library_part_valid(m.organization, strlen(m.organization)), "organization");
    FUZZ_CHECK(ob_library_part_valid(m.name, strlen(m.name)), "name");
    ob_semver v;
    FUZZ_CHECK(ob_semver_parse(m.version, strlen(m.version), &v), "version");
    FUZZ_CHECK(ob_utf8_count(m.author, strlen(m.author)) <= OB_LIBRARY_AUTHOR_MAX, "author");
    FUZZ_CHECK(ob_utf8_valid(m.author, strlen(m.author)), "author cut inside a character");
    FUZZ_CHECK(ob_utf8_count(m.license, strlen(m.license)) <= OB_LIBRARY_LICENSE_MAX, "license");
    const char *urls[] = {m.website, m.coderepo, m.bugtracker};
    for (int i = 0; i < 3; i++)
        FUZZ_CHECK(!*urls[i] || ob_valid_url(urls[i], strlen(urls[i])), "url %d", i);
    for (size_t i = 0; i < m.ndescription; i++) {
        FUZZ_CHECK(ob_utf8_count(m.description[i].value, m.description[i].value_len) <=
                       OB_LIBRARY_SHORT_DESCRIPTION_MAX,
                   "description");
        for (size_t j = i + 1; j < m.ndescription; j++)
            FUZZ_CHECK(strcmp(m.description[i].key, m.description[j].key) != 0, "repeated key");
    }
    for (size_t i = 0; i < m.ndependencies; i++) {
        ob_version_expr e;
        FUZZ_CHECK(ob_version_expr_parse(a, m.dependencies[i].value, m.dependencies[i].value_len,
                                         &e),
                   "dependency expression");
    }
}

static bool all_strings(const cJSON *arr)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
        if (!cJSON_IsString(it))
            return false;
    return cJSON_IsArray(arr);
}

static bool string_map(const cJSON *obj)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
        if (!cJSON_IsString(it))
            return false;
    return cJSON_IsObject(obj);
}

static void check_component(ob_arena *a, const char *buf, size_t len)
{
    ob_component_def d;
    const char *reason;
    ob_component_status st = ob_component_parse(a, buf, len, &d, &reason);
    if (st != OB_COMPONENT_OK) {
        FUZZ_CHECK(d.definition == NULL && d.tag_name == NULL, "definition on failure");
        FUZZ_CHECK(st == OB_COMPONENT_SKIP || reason != NULL, "invalid without a reason");
        return;
    }
    FUZZ_CHECK(ob_tag_name_valid(d.tag_name, strlen(d.tag_name)), "tag name");
    FUZZ_CHECK(strlen(d.definition) == d.definition_len, "definition length");
    cJSON *j = cJSON_ParseWithLength(d.definition, d.definition_len);
    FUZZ_CHECK(j && cJSON_IsObject(j), "definition is not a JSON object");
    FUZZ_CHECK(cJSON_GetArraySize(j) == 7, "definition has %d keys", cJSON_GetArraySize(j));
    const cJSON *tag = cJSON_GetObjectItemCaseSensitive(j, "tag-name");
    FUZZ_CHECK(cJSON_IsString(tag) && strcmp(tag->valuestring, d.tag_name) == 0, "tag-name");
    FUZZ_CHECK(string_map(cJSON_GetObjectItemCaseSensitive(j, "description")), "description");
    FUZZ_CHECK(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(j, "text-allowed")), "text-allowed");
    FUZZ_CHECK(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(j, "html-allowed")), "html-allowed");
    FUZZ_CHECK(all_strings(cJSON_GetObjectItemCaseSensitive(j, "allowed-children")), "children");
    FUZZ_CHECK(all_strings(cJSON_GetObjectItemCaseSensitive(j, "events")), "events");
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(j, "attributes"), *at;
    FUZZ_CHECK(cJSON_IsObject(attrs), "attributes");
    cJSON_ArrayForEach(at, attrs) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(at, "name");
        FUZZ_CHECK(cJSON_IsString(name) && strcmp(name->valuestring, at->string) == 0,
                   "attribute name");
        FUZZ_CHECK(string_map(cJSON_GetObjectItemCaseSensitive(at, "description")), "attr desc");
        FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(at, "regex")), "regex");
        FUZZ_CHECK(all_strings(cJSON_GetObjectItemCaseSensitive(at, "enum")), "enum");
    }
    cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    ob_arena *a = fuzz_arena();
    const char *buf = (const char *)data + 1;
    if (data[0] & 1)
        check_component(a, buf, size - 1);
    else
        check_manifest(a, buf, size - 1);
    ob_arena_reset(a);
    return 0;
}
