/* manifest.h - the YAML files of an HTML component library archive
 * (libraries.md §1, §2.1, §2.2): library names, library.yml, component
 * definitions and their normalized JSON.  Read through libyaml's document
 * API; pure (no I/O), each takes (buf, len) and allocates from the arena.
 * Driven by test/fuzz/fuzz_manifest.c.
 *
 * YAML typing follows the original (PyYAML safe_load, YAML 1.1): only
 * quoted scalars and plain scalars that do not read as null, a boolean, a
 * number or a date are strings, so `version: 1.0` is a float and counts
 * as absent ("a value of the wrong type counts as absent").  Strings that
 * hold a NUL (a "\0" escape) count as absent too: the database cannot
 * store them. */
#ifndef OPENBOOK_MANIFEST_H
#define OPENBOOK_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include "openbook/core/arena.h"
#include "openbook/http/parse.h"

#define OB_LIBRARY_PART_MIN 3
#define OB_LIBRARY_PART_MAX 100
#define OB_TAG_NAME_MAX 100
/* Field bounds of the stored records (characters); longer values are cut. */
#define OB_LIBRARY_AUTHOR_MAX 100
#define OB_LIBRARY_LICENSE_MAX 50
#define OB_LIBRARY_SHORT_DESCRIPTION_MAX 255
#define OB_LIBRARY_URL_MAX 2000

#define OB_LIBRARY_PART_MESSAGE "Expected alpha-numeric name with at least three letters"
#define OB_LIBRARY_FQN_MESSAGE                                                                   \
    "Expected format: @organization/package with each part alpha-numeric and at least three "  \
    "letters"
#define OB_ARCHIVE_INVALID_MESSAGE "The archive file is no valid HTML library archive."
#define OB_MANIFEST_TOO_LARGE_MESSAGE "A manifest file is too large."
#define OB_SELF_DEPENDENCY_MESSAGE "A library cannot depend on itself."

/* One part of an fqn: 3..100 of a-z 0-9 . _ - with at least one a-z. */
bool ob_library_part_valid(const char *s, size_t len);

/* "@organization/name" with both parts valid.  On success the parts are
 * spans into buf. */
bool ob_library_fqn_parse(const char *buf, size_t len, const char **org, size_t *org_len,
                          const char **name, size_t *name_len);

/* A custom-element name: starts with a-z, holds a '-', only a-z 0-9 . _ -
 * (ASCII; the HTML spec would allow more), at most OB_TAG_NAME_MAX bytes,
 * and not one of the names HTML reserves (font-face, ...). */
bool ob_tag_name_valid(const char *s, size_t len);

/* library.yml, normalized.  Every string is NUL-terminated arena memory;
 * absent or mistyped optional values are "" (libraries.md §2.1). */
typedef struct ob_library_manifest {
    char *organization;      /* from `name` */
    char *name;
    char *version;           /* a valid semver */
    char *author;            /* cut to OB_LIBRARY_AUTHOR_MAX characters */
    char *license;           /* cut to OB_LIBRARY_LICENSE_MAX characters */
    char *website, *coderepo, *bugtracker; /* "" unless a valid URL */
    char *readme;
    /* language code -> short description (cut to 255 characters); the
     * caller keeps the languages that exist. */
    ob_kv *description;
    size_t ndescription;
    /* library fqn -> dependency expression, each expression valid. */
    ob_kv *dependencies;
    size_t ndependencies;
} ob_library_manifest;

typedef enum {
    OB_MANIFEST_OK = 0,
    OB_MANIFEST_INVALID,         /* not YAML, not a mapping, bad name or version */
    OB_MANIFEST_TOO_LARGE,       /* len > max_bytes */
    OB_MANIFEST_BAD_DEPENDENCY,  /* "Invalid version expression for <fqn>." */
    OB_MANIFEST_SELF_DEPENDENCY, /* "A library cannot depend on itself." */
} ob_manifest_status;

/* Parses library.yml.  On failure *message is the spec's text for the
 * `file` field (libraries.md §4), in the arena. */
ob_manifest_status ob_manifest_parse(ob_arena *a, const char *buf, size_t len, size_t max_bytes,
                                     ob_library_manifest *out, const char **message);

/* A component file, normalized (libraries.md §2.2). */
typedef struct ob_component_def {
    char *tag_name;
    char *definition;        /* the normalized definition as JSON text */
    size_t definition_len;
} ob_component_def;

typedef enum {
    OB_COMPONENT_OK = 0,
    OB_COMPONENT_SKIP,       /* tag-name missing or not a string: ignored */
    OB_COMPONENT_INVALID,    /* *reason says why */
} ob_component_status;

/* Parses one ".yml" file under components/.  OB_COMPONENT_INVALID sets *reason
 * (the <reason> of "Invalid component definition in <name>: <reason>"):
 * a YAML error, an invalid tag-name, or a document whose aliases would
 * expand beyond a fixed budget. */
ob_component_status ob_component_parse(ob_arena *a, const char *buf, size_t len,
                                       ob_component_def *out, const char **reason);

#endif
