#!/bin/sh
# move-headers.sh - puts each include/openbook/<name>.h into
# include/openbook/<layer>/, the layer whose src/ directory implements it
# (test/check-layers.sh), and rewrites every #include "openbook/<name>.h"
# under src/, include/ and test/ to match.
#
# The move was made once, mechanically, by this script.  A branch started
# before it runs the script too (then commits) and merges without
# conflicts over include lines.  A header it has no layer for stops it:
# add the header to MAP.
set -eu
cd "$(git rev-parse --show-toplevel)"
MAP='
account auth
alloc core
app api
archive files
arena core
auth auth
auth_api auth
backup files
buf core
cache core
cli cli
compress http
config core
db db
events redis
fields http
filename files
http http
json core
library library
upload files
jsonvalue http
log core
mail mail
manifest files
metrics pool
metrics_http http
migrations db
mime files
multipart http
net core
parse http
password auth
perm api
pool pool
promtext core
ratelimit auth
read_cache api
redis redis
registry api
resource api
resources api
router http
routes api
semver files
session auth
staging files
ticket core
validate http
ws api
ws_handshake http
'
sed_script=$(mktemp)
trap 'rm -f "$sed_script"' EXIT
for h in include/openbook/*.h; do
    [ -e "$h" ] || continue
    name=$(basename "$h" .h)
    layer=$(printf '%s\n' "$MAP" | awk -v n="$name" '$1 == n { print $2 }')
    if [ -z "$layer" ]; then
        echo "move-headers: no layer for $h: add it to MAP in $0" >&2
        exit 1
    fi
    mkdir -p "include/openbook/$layer"
    git mv "$h" "include/openbook/$layer/$name.h"
    printf 's|"openbook/%s\\.h"|"openbook/%s/%s.h"|g\n' "$name" "$layer" "$name" >> "$sed_script"
done
git ls-files -z 'src/*' 'include/*' 'test/*' | grep -z -E '\.(c|h|inc|sh)$' |
    xargs -0 sed -i -f "$sed_script"
echo "move-headers: done; check with sh test/check-layers.sh"
