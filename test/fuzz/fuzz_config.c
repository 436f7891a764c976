/* fuzz_config.c - ob_config_parse (libyaml event stream + key table).
 *
 * Input: a YAML document, parsed on top of the defaults.  Invariants: on
 * failure the message is terminated and names the file; on success every
 * integer is inside its key's bounds, every string is set, lists hold at
 * most 256 items, and non-secret strings are single lines.  Then the
 * configuration is validated and printed, and (when its values are plain
 * printable ASCII) the printed YAML must load back to the same settings.
 * Everything is freed with ob_config_free (leaks are reported). */
#include <string.h>
#include "openbook/core/config.h"
#include "fuzz_common.h"

#define FIELD(c, k, T) ((T *)(void *)((char *)(c) + (k)->offset))

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

static bool all_printable(ob_config *c)
{
    for (size_t i = 0; i < ob_config_nkeys; i++) {
        const ob_config_key *k = &ob_config_keys[i];
        if (k->type == OB_CT_STRING && !printable(*FIELD(c, k, char *)))
            return false;
        if (k->type == OB_CT_LIST) {
            ob_strlist *l = FIELD(c, k, ob_strlist);
            for (size_t j = 0; j < l->count; j++)
                if (!printable(l->items[j]))
                    return false;
        }
    }
    return true;
}

static void check_invariants(ob_config *c)
{
    for (size_t i = 0; i < ob_config_nkeys; i++) {
        const ob_config_key *k = &ob_config_keys[i];
        switch (k->type) {
        case OB_CT_INT: {
            long v = *FIELD(c, k, long);
            FUZZ_CHECK(v >= k->min && v <= k->max, "%s.%s = %ld", k->section, k->key, v);
            break;
        }
        case OB_CT_STRING: {
            const char *s = *FIELD(c, k, char *);
            FUZZ_CHECK(s != NULL, "%s.%s unset", k->section, k->key);
            if (!k->secret)
                FUZZ_CHECK(strchr(s, '\n') == NULL, "%s.%s spans lines", k->section, k->key);
            break;
        }
        case OB_CT_LIST: {
            ob_strlist *l = FIELD(c, k, ob_strlist);
            FUZZ_CHECK(l->count <= 256, "%s.%s has %zu items", k->section, k->key, l->count);
            for (size_t j = 0; j < l->count; j++)
                FUZZ_CHECK(l->items[j] != NULL, "%s.%s item %zu", k->section, k->key, j);
            break;
        }
        case OB_CT_BOOL:
            break;
        }
    }
}

/* The printed configuration loads back to the same non-secret settings. */
static void check_roundtrip(ob_config *c)
{
    char *text = NULL;
    size_t tlen = 0;
    FILE *f = open_memstream(&text, &tlen);
    FUZZ_CHECK(f != NULL, "open_memstream");
    ob_config_print(c, f);
    fclose(f);
    ob_config d;
    ob_config_error err;
    ob_config_defaults(&d);
    int rc = ob_config_parse(&d, text, tlen, "printed", &err);
    if (rc != 0)
        fprintf(stderr, "printed:\n%s\nerror: %s\n", text, err.msg);
    FUZZ_CHECK(rc == 0, "printed configuration does not load: %s", err.msg);
    for (size_t i = 0; i < ob_config_nkeys; i++) {
        const ob_config_key *k = &ob_config_keys[i];
        if (k->secret)
            continue;
        switch (k->type) {
        case OB_CT_INT:
            FUZZ_CHECK(*FIELD(c, k, long) == *FIELD(&d, k, long), "%s.%s", k->section, k->key);
            break;
        case OB_CT_BOOL:
            FUZZ_CHECK(*FIELD(c, k, bool) == *FIELD(&d, k, bool), "%s.%s", k->section, k->key);
            break;
        case OB_CT_STRING:
            FUZZ_CHECK(strcmp(*FIELD(c, k, char *), *FIELD(&d, k, char *)) == 0,
                       "%s.%s: \"%s\" came back as \"%s\"", k->section, k->key,
                       *FIELD(c, k, char *), *FIELD(&d, k, char *));
            break;
        case OB_CT_LIST: {
            ob_strlist *x = FIELD(c, k, ob_strlist), *y = FIELD(&d, k, ob_strlist);
            FUZZ_CHECK(x->count == y->count, "%s.%s count", k->section, k->key);
            for (size_t j = 0; j < x->count; j++)
                FUZZ_CHECK(strcmp(x->items[j], y->items[j]) == 0, "%s.%s item %zu: \"%s\" vs \"%s\"",
                           k->section, k->key, j, x->items[j], y->items[j]);
            break;
        }
        }
    }
    ob_config_free(&d);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ob_config cfg;
    ob_config_error err;
    memset(&err, 0x55, sizeof err);
    ob_config_defaults(&cfg);
    int rc = ob_config_parse(&cfg, (const char *)data, size, "fuzz.yaml", &err);
    FUZZ_CHECK(rc == 0 || rc == -1, "rc %d", rc);
    if (rc != 0) {
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof err.msg) != NULL, "message not terminated");
        FUZZ_CHECK(strncmp(err.msg, "fuzz.yaml", 9) == 0, "message lacks the file: %s",
                   err.msg);
    } else {
        check_invariants(&cfg);
        ob_config_validate(&cfg, &err);
        if (all_printable(&cfg))
            check_roundtrip(&cfg);
    }
    ob_config_free(&cfg);
    return 0;
}
