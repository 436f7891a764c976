/* manifest.c - library.yml and component definitions (manifest.h,
 * libraries.md §2).  libyaml loads the document; the helpers below read
 * it with PyYAML's YAML 1.1 typing and a budget on node visits, since
 * aliases can make a small document reach the same nodes many times. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>
#include "openbook/core/buf.h"
#include "openbook/http/fields.h"
#include "openbook/core/json.h"
#include "openbook/files/manifest.h"
#include "openbook/files/semver.h"

/* ---- names ------------------------------------------------------------ */

bool ob_library_part_valid(const char *s, size_t len)
{
    if (len < OB_LIBRARY_PART_MIN || len > OB_LIBRARY_PART_MAX)
        return false;
    bool letter = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c >= 'a' && c <= 'z')
            letter = true;
        else if (!((c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return letter;
}

bool ob_library_fqn_parse(const char *buf, size_t len, const char **org, size_t *org_len,
                          const char **name, size_t *name_len)
{
    if (len < 2 || buf[0] != '@')
        return false;
    const char *slash = memchr(buf + 1, '/', len - 1);
    if (!slash)
        return false;
    size_t ol = (size_t)(slash - buf) - 1;
    size_t nl = len - ol - 2;
    if (!ob_library_part_valid(buf + 1, ol) || !ob_library_part_valid(slash + 1, nl))
        return false;
    *org = buf + 1;
    *org_len = ol;
    *name = slash + 1;
    *name_len = nl;
    return true;
}

bool ob_tag_name_valid(const char *s, size_t len)
{
    static const char *const reserved[] = {
        "annotation-xml", "color-profile",    "font-face",   "font-face-src",
        "font-face-uri",  "font-face-format", "font-face-name", "missing-glyph",
    };
    if (len == 0 || len > OB_TAG_NAME_MAX || !(s[0] >= 'a' && s[0] <= 'z') ||
        !memchr(s, '-', len))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return false;
    }
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strlen(reserved[i]) == len && memcmp(reserved[i], s, len) == 0)
            return false;
    return true;
}

/* ---- YAML 1.1 implicit types of plain scalars (PyYAML's resolver) ------ */

static bool dig(char c)
{
    return c >= '0' && c <= '9';
}

static bool all_of(const char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if (!memchr(set, s[i], strlen(set)))
            return false;
    return true;
}

static bool one_of(const char *s, size_t n, const char *const *words)
{
    for (; *words; words++)
        if (strlen(*words) == n && memcmp(*words, s, n) == 0)
            return true;
    return false;
}

/* [0-9_]* from i; returns the new position. */
static size_t digits_us(const char *s, size_t n, size_t i)
{
    while (i < n && (dig(s[i]) || s[i] == '_'))
        i++;
    return i;
}

/* (:[0-5]?[0-9])+ from i, stopping at the end or at '.'; returns the new
 * position, or 0 when there is not one group or a group is malformed. */
static size_t sexagesimal(const char *s, size_t n, size_t i)
{
    size_t groups = 0;
    while (i < n && s[i] == ':') {
        i++;
        if (i + 1 < n && s[i] >= '0' && s[i] <= '5' && dig(s[i + 1]))
            i += 2;
        else if (i < n && dig(s[i]))
            i++;
        else
            return 0;
        groups++;
    }
    return groups ? i : 0;
}

/* ([eE][-+][0-9]+)? at i, to the end. */
static bool exponent_to_end(const char *s, size_t n, size_t i)
{
    if (i == n)
        return true;
    if ((s[i] != 'e' && s[i] != 'E') || i + 2 >= n || (s[i + 1] != '-' && s[i + 1] != '+'))
        return false;
    for (i += 2; i < n; i++)
        if (!dig(s[i]))
            return false;
    return true;
}

static bool yaml11_int(const char *s, size_t n)
{
    size_t i = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    const char *t = s + i;
    size_t m = n - i;
    if (m == 0)
        return false;
    if (m > 2 && t[0] == '0' && t[1] == 'b')
        return all_of(t + 2, m - 2, "01_");
    if (m > 2 && t[0] == '0' && t[1] == 'x')
        return all_of(t + 2, m - 2, "0123456789abcdefABCDEF_");
    if (t[0] == '0')
        return all_of(t + 1, m - 1, "01234567_");
    if (!dig(t[0]))
        return false;
    size_t j = digits_us(t, m, 1);
    return j == m || sexagesimal(t, m, j) == m;
}

static bool yaml11_float(const char *s, size_t n)
{
    static const char *const inf[] = {".inf", ".Inf", ".INF", NULL};
    static const char *const nan[] = {".nan", ".NaN", ".NAN", NULL};
    if (one_of(s, n, nan))
        return true;
    size_t i = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    if (one_of(s + i, n - i, inf))
        return true;
    if (n > 0 && s[0] == '.') /* \.[0-9_]+ exponent, unsigned */
        return n > 1 && (dig(s[1]) || s[1] == '_') && exponent_to_end(s, n, digits_us(s, n, 1));
    if (i >= n || !dig(s[i]))
        return false;
    size_t j = digits_us(s, n, i + 1);
    if (j < n && s[j] == ':') { /* base 60: the fraction part is required */
        j = sexagesimal(s, n, j);
        return j && j < n && s[j] == '.' && digits_us(s, n, j + 1) == n;
    }
    if (j >= n || s[j] != '.')
        return false;
    return exponent_to_end(s, n, digits_us(s, n, j + 1));
}

/* 2002-12-14, or 2001-12-14t21:59:43.10-05:00 and its variants. */
static bool yaml11_timestamp(const char *s, size_t n)
{
    size_t i = 0;
    for (; i < 4; i++)
        if (i >= n || !dig(s[i]))
            return false;
    if (i >= n || s[i++] != '-')
        return false;
    if (n == 10) /* the short form needs two-digit month and day */
        return dig(s[5]) && dig(s[6]) && s[7] == '-' && dig(s[8]) && dig(s[9]);
    /* [0-9][0-9]?-[0-9][0-9]? */
    for (int part = 0; part < 2; part++) {
        if (i >= n || !dig(s[i]))
            return false;
        i++;
        if (i < n && dig(s[i]))
            i++;
        if (part == 0 && (i >= n || s[i++] != '-'))
            return false;
    }
    if (i < n && (s[i] == 'T' || s[i] == 't')) {
        i++;
    } else {
        size_t ws = i;
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i == ws)
            return false;
    }
    /* [0-9][0-9]?:[0-9][0-9]:[0-9][0-9] */
    if (i >= n || !dig(s[i]))
        return false;
    i++;
    if (i < n && dig(s[i]))
        i++;
    for (int k = 0; k < 2; k++) {
        if (i + 3 > n || s[i] != ':' || !dig(s[i + 1]) || !dig(s[i + 2]))
            return false;
        i += 3;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && dig(s[i]))
            i++;
    }
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i == n)
        return true;
    if (s[i] == 'Z')
        return i + 1 == n;
    if (s[i] != '-' && s[i] != '+')
        return false;
    i++;
    if (i >= n || !dig(s[i]))
        return false;
    i++;
    if (i < n && dig(s[i]))
        i++;
    if (i < n && s[i] == ':') {
        if (i + 3 != n || !dig(s[i + 1]) || !dig(s[i + 2]))
            return false;
        i += 3;
    }
    return i == n;
}

static const char *const yaml11_true[] = {"yes", "Yes", "YES", "true", "True", "TRUE",
                                          "on",  "On",  "ON",  NULL};
static const char *const yaml11_false[] = {"no",  "No",    "NO",    "false", "False",
                                           "FALSE", "off", "Off", "OFF",   NULL};

/* True when a plain scalar resolves to anything but a string. */
static bool yaml11_not_string(const char *s, size_t n)
{
    static const char *const special[] = {"~", "null", "Null", "NULL", NULL};
    return n == 0 || one_of(s, n, special) || one_of(s, n, yaml11_true) ||
           one_of(s, n, yaml11_false) || yaml11_int(s, n) || yaml11_float(s, n) ||
           yaml11_timestamp(s, n);
}

/* ---- reading a loaded document ---------------------------------------- */

/* Node visits allowed per document: far above what any real file needs,
 * far below what aliases can make a 1 MiB document ask for. */
#define VISIT_BUDGET 4000000L
/* Bytes of normalized JSON one component may produce. */
#define DEFINITION_MAX (4u << 20)

typedef struct ydoc {
    yaml_document_t doc;
    long budget;
    bool exhausted;
} ydoc;

static yaml_node_t *node(ydoc *d, int id)
{
    if (d->budget <= 0) {
        d->exhausted = true;
        return NULL;
    }
    d->budget--;
    return yaml_document_get_node(&d->doc, id);
}

static bool is_default_tag(const yaml_node_t *n, const char *tag)
{
    return n->tag && strcmp((const char *)n->tag, tag) == 0;
}

static bool is_string(const yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE || !is_default_tag(n, YAML_STR_TAG))
        return false;
    const char *v = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    if (memchr(v, '\0', len))
        return false;
    return n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || !yaml11_not_string(v, len);
}

/* 1 for a true boolean, 0 for anything else (false, absent, mistyped). */
static bool is_true(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE && is_default_tag(n, YAML_STR_TAG) &&
           n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           one_of((const char *)n->data.scalar.value, n->data.scalar.length, yaml11_true);
}

static const char *sval(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static bool key_is(const yaml_node_t *k, const char *key)
{
    return is_string(k) && k->data.scalar.length == strlen(key) &&
           memcmp(sval(k), key, k->data.scalar.length) == 0;
}

/* The value of key in a mapping (the last one, as PyYAML keeps it). */
static yaml_node_t *map_get(ydoc *d, yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE)
        return NULL;
    yaml_node_t *found = NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++)
        if (key_is(node(d, p->key), key))
            found = node(d, p->value);
    return found;
}

/* A string value as an arena copy, or NULL. */
static char *str_copy(ob_arena *a, const yaml_node_t *n)
{
    return is_string(n) ? ob_arena_strndup(a, sval(n), n->data.scalar.length) : NULL;
}

/* A mapping with string keys, as PyYAML builds a dict: a repeated key
 * keeps its first position and takes its last value. */
typedef struct map_entry {
    const char *key;
    size_t key_len;
    yaml_node_t *value;
    size_t pos;
    bool live;
} map_entry;

static int entry_cmp(const void *pa, const void *pb)
{
    const map_entry *a = *(map_entry *const *)pa, *b = *(map_entry *const *)pb;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    if (c)
        return c;
    if (a->key_len != b->key_len)
        return a->key_len < b->key_len ? -1 : 1;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* Entries of m whose key is a string (and, with string_values, whose
 * value is one); dead entries are repeats.  NULL with *n 0 for anything
 * that is not a mapping. */
static map_entry *string_map(ob_arena *a, ydoc *d, yaml_node_t *m, bool string_values, size_t *n)
{
    *n = 0;
    if (!m || m->type != YAML_MAPPING_NODE)
        return NULL;
    size_t cap = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
    if (cap == 0)
        return NULL;
    map_entry *e = ob_arena_calloc(a, cap, sizeof *e);
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(d, p->key), *v = node(d, p->value);
        if (!is_string(k) || !v || (string_values && !is_string(v)))
            continue;
        e[*n] = (map_entry){sval(k), k->data.scalar.length, v, *n, true};
        (*n)++;
    }
    if (*n < 2)
        return e;
    map_entry **order = ob_arena_calloc(a, *n, sizeof *order);
    for (size_t i = 0; i < *n; i++)
        order[i] = &e[i];
    qsort(order, *n, sizeof *order, entry_cmp);
    for (size_t i = 0; i < *n;) {
        size_t j = i + 1;
        while (j < *n && order[j]->key_len == order[i]->key_len &&
               memcmp(order[j]->key, order[i]->key, order[i]->key_len) == 0) {
            order[j]->live = false;
            j++;
        }
        order[i]->value = order[j - 1]->value;
        i = j;
    }
    return e;
}

/* Number of characters to keep so that s is at most max characters
 * (s is valid UTF-8: libyaml checked it). */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xc0) != 0x80) {
            if (chars == max)
                return i;
            chars++;
        }
    }
    return len;
}

static char *str_cut(ob_arena *a, const yaml_node_t *n, size_t max)
{
    if (!is_string(n))
        return ob_arena_strdup(a, "");
    return ob_arena_strndup(a, sval(n), utf8_cut(sval(n), n->data.scalar.length, max));
}

static char *url_or_empty(ob_arena *a, const yaml_node_t *n)
{
    if (!is_string(n) || n->data.scalar.length > OB_LIBRARY_URL_MAX ||
        !ob_valid_url(sval(n), n->data.scalar.length))
        return ob_arena_strdup(a, "");
    return str_copy(a, n);
}

/* Loads buf as one YAML document.  On failure writes the parser's
 * complaint to *reason. */
static bool load(ob_arena *a, const char *buf, size_t len, ydoc *d, const char **reason)
{
    memset(d, 0, sizeof *d);
    d->budget = VISIT_BUDGET;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        *reason = "out of memory";
        return false;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    bool ok = yaml_parser_load(&p, &d->doc);
    if (!ok)
        *reason = ob_arena_printf(a, "YAML error: %s (line %lu, column %lu)",
                                  p.problem ? p.problem : "unknown",
                                  (unsigned long)p.problem_mark.line + 1,
                                  (unsigned long)p.problem_mark.column + 1);
    yaml_parser_delete(&p);
    return ok;
}

static yaml_node_t *root(ydoc *d)
{
    return yaml_document_get_root_node(&d->doc);
}

/* ---- library.yml --------------------------------------------------------- */

static ob_kv *kv_list(ob_arena *a, const map_entry *e, size_t n, size_t value_max, size_t *count)
{
    ob_kv *kv = ob_arena_calloc(a, n ? n : 1, sizeof *kv);
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        if (!e[i].live)
            continue;
        const yaml_node_t *v = e[i].value;
        size_t vlen = utf8_cut(sval(v), v->data.scalar.length, value_max);
        ob_kv *o = &kv[(*count)++];
        o->key = ob_arena_strndup(a, e[i].key, e[i].key_len);
        o->key_len = e[i].key_len;
        o->value = ob_arena_strndup(a, sval(v), vlen);
        o->value_len = vlen;
    }
    return kv;
}

static ob_manifest_status manifest_fail(const char **message, const char *text,
                                        ob_manifest_status s)
{
    *message = text;
    return s;
}

ob_manifest_status ob_manifest_parse(ob_arena *a, const char *buf, size_t len, size_t max_bytes,
                                     ob_library_manifest *out, const char **message)
{
    memset(out, 0, sizeof *out);
    *message = NULL;
    if (len > max_bytes)
        return manifest_fail(message, OB_MANIFEST_TOO_LARGE_MESSAGE, OB_MANIFEST_TOO_LARGE);
    ydoc d;
    const char *reason;
    if (!load(a, buf, len, &d, &reason))
        return manifest_fail(message, OB_ARCHIVE_INVALID_MESSAGE, OB_MANIFEST_INVALID);
    ob_manifest_status st = OB_MANIFEST_INVALID;
    *message = OB_ARCHIVE_INVALID_MESSAGE;
    yaml_node_t *top = root(&d);
    yaml_node_t *name = map_get(&d, top, "name"), *version = map_get(&d, top, "version");
    const char *org, *nm;
    size_t org_len, nm_len;
    ob_semver sv;
    if (!is_string(name) || !is_string(version) ||
        !ob_library_fqn_parse(sval(name), name->data.scalar.length, &org, &org_len, &nm,
                              &nm_len) ||
        !ob_semver_parse(sval(version), version->data.scalar.length, &sv))
        goto done;
    out->organization = ob_arena_strndup(a, org, org_len);
    out->name = ob_arena_strndup(a, nm, nm_len);
    out->version = str_copy(a, version);
    out->author = str_cut(a, map_get(&d, top, "author"), OB_LIBRARY_AUTHOR_MAX);
    out->license = str_cut(a, map_get(&d, top, "license"), OB_LIBRARY_LICENSE_MAX);
    out->website = url_or_empty(a, map_get(&d, top, "website"));
    out->coderepo = url_or_empty(a, map_get(&d, top, "coderepo"));
    out->bugtracker = url_or_empty(a, map_get(&d, top, "bugtracker"));
    out->readme = str_cut(a, map_get(&d, top, "readme"), (size_t)-1);

    size_t n;
    map_entry *e = string_map(a, &d, map_get(&d, top, "description"), true, &n);
    out->description = kv_list(a, e, n, OB_LIBRARY_SHORT_DESCRIPTION_MAX, &out->ndescription);
    e = string_map(a, &d, map_get(&d, top, "dependencies"), true, &n);
    out->dependencies = kv_list(a, e, n, (size_t)-1, &out->ndependencies);
    if (d.exhausted)
        goto done;
    char *self = ob_arena_printf(a, "@%s/%s", out->organization, out->name);
    for (size_t i = 0; i < out->ndependencies; i++) {
        const ob_kv *dep = &out->dependencies[i];
        ob_version_expr expr;
        if (!ob_version_expr_parse(a, dep->value, dep->value_len, &expr)) {
            st = OB_MANIFEST_BAD_DEPENDENCY;
            *message = ob_arena_printf(a, "Invalid version expression for %s.", dep->key);
            goto done;
        }
    }
    for (size_t i = 0; i < out->ndependencies; i++) {
        if (strcasecmp(out->dependencies[i].key, self) == 0) {
            st = OB_MANIFEST_SELF_DEPENDENCY;
            *message = OB_SELF_DEPENDENCY_MESSAGE;
            goto done;
        }
    }
    st = OB_MANIFEST_OK;
    *message = NULL;
done:
    yaml_document_delete(&d.doc);
    if (st != OB_MANIFEST_OK)
        memset(out, 0, sizeof *out);
    return st;
}

/* ---- component definitions ---------------------------------------------- */

static void json_string_map(ob_json *j, ob_arena *a, ydoc *d, yaml_node_t *m)
{
    size_t n;
    map_entry *e = string_map(a, d, m, true, &n);
    ob_json_object_begin(j);
    for (size_t i = 0; i < n; i++) {
        if (!e[i].live)
            continue;
        ob_json_key(j, e[i].key); /* NUL-terminated at key_len (libyaml) */
        ob_json_string_n(j, sval(e[i].value), e[i].value->data.scalar.length);
    }
    ob_json_object_end(j);
}

static void json_string_list(ob_json *j, ydoc *d, yaml_node_t *s)
{
    ob_json_array_begin(j);
    if (s && s->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = s->data.sequence.items.start; it < s->data.sequence.items.top;
             it++) {
            yaml_node_t *v = node(d, *it);
            if (is_string(v))
                ob_json_string_n(j, sval(v), v->data.scalar.length);
        }
    }
    ob_json_array_end(j);
}

static void json_string_value(ob_json *j, yaml_node_t *v)
{
    if (is_string(v))
        ob_json_string_n(j, sval(v), v->data.scalar.length);
    else
        ob_json_string(j, "");
}

ob_component_status ob_component_parse(ob_arena *a, const char *buf, size_t len,
                                       ob_component_def *out, const char **reason)
{
    memset(out, 0, sizeof *out);
    *reason = NULL;
    ydoc d;
    if (!load(a, buf, len, &d, reason))
        return OB_COMPONENT_INVALID;
    ob_component_status st = OB_COMPONENT_SKIP;
    yaml_node_t *top = root(&d);
    yaml_node_t *tag = map_get(&d, top, "tag-name");
    if (d.exhausted) {
        st = OB_COMPONENT_INVALID;
        *reason = "the document is too complex";
        goto done;
    }
    if (!is_string(tag))
        goto done;
    if (!ob_tag_name_valid(sval(tag), tag->data.scalar.length)) {
        st = OB_COMPONENT_INVALID;
        *reason = ob_arena_printf(a,
                                  "\"%s\" is no valid custom element name (lower case, with a "
                                  "hyphen, at most %d characters)",
                                  sval(tag), OB_TAG_NAME_MAX);
        goto done;
    }
    ob_buf b;
    ob_buf_init(&b, a);
    ob_json j;
    ob_json_init(&j, &b);
    ob_json_object_begin(&j);
    ob_json_kv_string(&j, "tag-name", sval(tag));
    ob_json_key(&j, "description");
    json_string_map(&j, a, &d, map_get(&d, top, "description"));
    ob_json_key(&j, "text-allowed");
    ob_json_bool(&j, is_true(map_get(&d, top, "text-allowed")));
    ob_json_key(&j, "html-allowed");
    ob_json_bool(&j, is_true(map_get(&d, top, "html-allowed")));
    ob_json_key(&j, "allowed-children");
    json_string_list(&j, &d, map_get(&d, top, "allowed-children"));
    ob_json_key(&j, "attributes");
    ob_json_object_begin(&j);
    size_t n;
    map_entry *attrs = string_map(a, &d, map_get(&d, top, "attributes"), false, &n);
    for (size_t i = 0; i < n && !d.exhausted && b.len <= DEFINITION_MAX; i++) {
        if (!attrs[i].live)
            continue;
        /* An attribute whose value is not a mapping still exists, with
         * every property at its default. */
        yaml_node_t *attr = attrs[i].value;
        ob_json_key(&j, attrs[i].key);
        ob_json_object_begin(&j);
        ob_json_key(&j, "name");
        ob_json_string_n(&j, attrs[i].key, attrs[i].key_len);
        ob_json_key(&j, "description");
        json_string_map(&j, a, &d, map_get(&d, attr, "description"));
        ob_json_key(&j, "regex");
        json_string_value(&j, map_get(&d, attr, "regex"));
        ob_json_key(&j, "enum");
        json_string_list(&j, &d, map_get(&d, attr, "enum"));
        ob_json_object_end(&j);
    }
    ob_json_object_end(&j);
    ob_json_key(&j, "events");
    json_string_list(&j, &d, map_get(&d, top, "events"));
    ob_json_object_end(&j);
    if (d.exhausted || b.len > DEFINITION_MAX) {
        st = OB_COMPONENT_INVALID;
        *reason = "the document is too complex";
        goto done;
    }
    out->tag_name = str_copy(a, tag);
    out->definition = (char *)ob_buf_cstr(&b);
    out->definition_len = b.len;
    st = OB_COMPONENT_OK;
done:
    yaml_document_delete(&d.doc);
    return st;
}
