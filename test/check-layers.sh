#!/bin/sh
# check-layers.sh - fails when a lower layer includes a header of a higher
# one.  Run by `make test` (and `make check-layers`).
#
# Every source file belongs to the layer of its directory: src/<layer>/ and
# include/openbook/<layer>/ (src/main.c is `main`).  Its `#include
# "openbook/<layer>/x.h"` lines, and relative ones ("relay.h",
# "../auth/routes_auth.inc"), name the layers it depends on.  The order is
# defined here and nowhere else: a layer may include its own headers and
# those of the layers on the lines above it; layers on one line are peers.
# The relay and the fuzz targets (core + http, and the relay's protocol)
# have their own short lists.
set -eu
cd "$(dirname "$0")/.."

ORDER='
core
http
db redis files
mail pool library
auth perm
api
cli
main
'
# Beside the order: what else may include what (its layer first).  The
# fuzz targets of the API's pure cores (the query compiler, the field
# validator) compile against the resource descriptions' header and link
# only those files (test/test.mk).
EXTRA='
relay core http
fuzz core http relay files api
'

awk -v order="$ORDER" -v extra="$EXTRA" '
BEGIN {
    n = split(order, lines, "\n"); rank_n = 0
    for (i = 1; i <= n; i++) {
        if (lines[i] ~ /^[ \t]*$/) continue
        rank_n++
        m = split(lines[i], ls, " ")
        for (j = 1; j <= m; j++) { rank[ls[j]] = rank_n; names = names (names ? " " : "") ls[j] }
        desc = desc (desc ? " < " : "") lines[i]
    }
    n = split(extra, lines, "\n")
    for (i = 1; i <= n; i++) {
        m = split(lines[i], ls, " ")
        if (m == 0) continue
        special[ls[1]] = 1
        for (j = 1; j <= m; j++) allowed[ls[1], ls[j]] = 1
        rest = rest (rest ? "; " : "") ls[1] ":"
        for (j = 2; j <= m; j++) rest = rest " " ls[j]
    }
    bad = 0; files = 0; edges = 0
}
# The layer of a path: src/<l>/..., include/openbook/<l>/..., test/fuzz/...
function layer_of(path,    p) {
    if (path ~ /^src\/[^\/]+$/) return "main"
    if (path ~ /^src\//) { sub(/^src\//, "", path); sub(/\/.*/, "", path); return path }
    if (path ~ /^include\/openbook\/[^\/]+\//) {
        sub(/^include\/openbook\//, "", path); sub(/\/.*/, "", path); return path
    }
    if (path ~ /^test\/fuzz\//) return "fuzz"
    return ""
}
function known(l) { return (l in rank) || (l in special) }
# Resolves a relative include against the directory of the including file.
function resolve(dir, inc,    parts, n, i, out, k) {
    n = split(dir "/" inc, parts, "/"); k = 0
    for (i = 1; i <= n; i++) {
        if (parts[i] == "" || parts[i] == ".") continue
        if (parts[i] == "..") { if (k > 0) k--; continue }
        out[++k] = parts[i]
    }
    res = out[1]; for (i = 2; i <= k; i++) res = res "/" out[i]
    return res
}
function may(from, to) {
    if (from == to) return 1
    if (from in special) return (from SUBSEP to) in allowed
    if (to in special) return 0
    return rank[to] <= rank[from]
}
FNR == 1 {
    files++
    cur = layer_of(FILENAME); dir = FILENAME; sub(/\/[^\/]*$/, "", dir)
    if (!known(cur)) {
        printf "%s: layer \"%s\" is not in the order of test/check-layers.sh\n", FILENAME, cur
        bad++
    }
}
/^[ \t]*#[ \t]*include[ \t]*"/ {
    inc = $0; sub(/^[^"]*"/, "", inc); sub(/".*/, "", inc)
    if (inc ~ /^openbook\//) {
        to = inc; sub(/^openbook\//, "", to)
        if (to !~ /\//) {
            printf "%s:%d: \"%s\" is not under include/openbook/<layer>/\n", FILENAME, FNR, inc
            bad++; next
        }
        sub(/\/.*/, "", to); target = "include/" inc
    } else {
        target = resolve(dir, inc); to = layer_of(target)
        if (to == "") next            # test-local headers (tests.h, fuzz_common.h)
    }
    edges++
    if (!known(to)) {
        printf "%s:%d: %s: layer \"%s\" is not in the order\n", FILENAME, FNR, inc, to
        bad++
    } else if (!may(cur, to)) {
        printf "%s:%d: %s includes %s (\"%s\"): a lower layer may not depend on a higher one\n",
               FILENAME, FNR, cur, to, inc
        bad++
    }
}
END {
    if (bad) { printf "check-layers: %d violation(s) of %s (%s)\n", bad, desc, rest; exit 1 }
    printf "check-layers: %d files, %d includes, none upward: %s (%s)\n", files, edges, desc, rest
}
' $(git ls-files -co --exclude-standard 'src/*.c' 'src/*.h' 'src/*.inc' 'include/openbook/*.h' 'test/fuzz/*.c' 'test/fuzz/*.h' | sort)
