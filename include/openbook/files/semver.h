/* semver.h - library versions (libraries.md §1): semver 2.0.0 parsing,
 * precedence, a byte sort key that makes SQL ORDER BY follow precedence,
 * and dependency expressions.  Pure functions over (buf, len), no NUL
 * termination assumed; driven by test/fuzz/fuzz_semver.c. */
#ifndef OPENBOOK_SEMVER_H
#define OPENBOOK_SEMVER_H

#include <stdbool.h>
#include <stddef.h>
#include "openbook/core/arena.h"

/* Longest version string (libraries.md §1). */
#define OB_SEMVER_MAX 50
/* Bytes a sort key can take (see ob_semver_sort_key). */
#define OB_SEMVER_KEY_MAX 192
/* Longest dependency expression, and most clauses in one. */
#define OB_VERSION_EXPR_MAX 1000
#define OB_VERSION_EXPR_MAX_CLAUSES 32

#define OB_SEMVER_MESSAGE \
    "The version must be in semver format with optional -prerelease and +build tags."
#define OB_VERSION_EXPR_MESSAGE "Invalid version expression."

/* A parsed version: spans into the caller's buffer (not copied). */
typedef struct ob_semver {
    const char *text;       /* the whole version */
    size_t len;
    const char *major, *minor, *patch;
    size_t major_len, minor_len, patch_len;
    const char *pre;        /* after '-', NULL when there is none */
    size_t pre_len;
    const char *build;      /* after '+', NULL when there is none */
    size_t build_len;
} ob_semver;

/* MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] as semver.org 2.0.0 defines it:
 * numeric parts and numeric pre-release identifiers without leading
 * zeros, identifiers of [0-9A-Za-z-] and never empty, at most
 * OB_SEMVER_MAX bytes.  No white space anywhere. */
bool ob_semver_parse(const char *buf, size_t len, ob_semver *out);

/* Semver precedence: <0, 0, >0.  Build metadata is ignored. */
int ob_semver_cmp(const ob_semver *a, const ob_semver *b);

/* The order of libraries.md §1: precedence, then equal precedence by the
 * version string (bytewise).  0 only for identical strings. */
int ob_semver_order(const ob_semver *a, const ob_semver *b);

/* A key whose bytewise order (memcmp, then shorter first: PostgreSQL's
 * bytea order) is ob_semver_order.  Writes at most OB_SEMVER_KEY_MAX bytes
 * to out and returns the count.  Layout: each of major, minor, patch as
 * <digit count><digits>; then 0x02 for a release, or 0x01, each
 * pre-release identifier (numeric: 0x01 <digit count><digits>;
 * alphanumeric: 0x02 <chars> 0x00) and 0x00; then the version string. */
size_t ob_semver_sort_key(const ob_semver *v, unsigned char out[OB_SEMVER_KEY_MAX]);

/* The key as PostgreSQL's text form of a bytea ("\x0101..."), for a
 * $n::bytea parameter.  NUL-terminated, in the arena. */
char *ob_semver_sort_key_text(ob_arena *a, const ob_semver *v);

typedef enum {
    OB_VOP_EQ,
    OB_VOP_NE,
    OB_VOP_LT,
    OB_VOP_LE,
    OB_VOP_GT,
    OB_VOP_GE,
} ob_version_op;

typedef struct ob_version_clause {
    ob_version_op op;
    ob_semver version;      /* spans into the parsed expression */
} ob_version_clause;

/* Clauses that must all hold; count 0 means any version. */
typedef struct ob_version_expr {
    ob_version_clause *clauses;
    size_t count;
} ob_version_expr;

/* A dependency expression (libraries.md §1): clauses separated by ',',
 * each an optional operator (<, >, <=, >=, ==, !=; none means ==),
 * optional white space and a full semver, with white space around the
 * clause allowed.  Empty (or only white space) or "*" means any version.
 * At most OB_VERSION_EXPR_MAX bytes and OB_VERSION_EXPR_MAX_CLAUSES
 * clauses.  The clauses point into buf, which must outlive *out.
 * Returns false for anything else (OB_VERSION_EXPR_MESSAGE). */
bool ob_version_expr_parse(ob_arena *a, const char *buf, size_t len, ob_version_expr *out);

/* True if v satisfies every clause.  Comparisons use precedence, so
 * "==1.0.0" matches "1.0.0+build.5". */
bool ob_version_expr_match(const ob_version_expr *e, const ob_semver *v);

#endif
