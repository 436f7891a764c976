#!/bin/sh
# Checks that the documentation names every configuration key the server
# knows: each key printed by `openbook check-config` must appear in
# conf/openbook.yaml (with its comment) and in the README's reference table,
# and every command must answer --help (and be in the README's command list).
set -eu
bin=${1:-build/openbook}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'server:\n  development: true\nhttp:\n  allowed_hosts: [localhost]\n' > "$tmp/c.yaml"
"$bin" check-config -c "$tmp/c.yaml" > "$tmp/out"
missing=0
section=""
while IFS= read -r line; do
    case "$line" in
    "#"*) ;;
    "  "*)
        key=$(echo "$line" | sed 's/^  \([a-z_]*\):.*/\1/')
        if ! grep -q "\`$section.$key\`" README.md; then
            echo "check-docs: README.md does not document $section.$key" >&2; missing=1
        fi
        if ! awk -v s="$section:" -v k="  $key:" '$0==s{on=1;next} /^[a-z]/{on=0} on && index($0,k)==1{f=1} END{exit !f}' conf/openbook.yaml; then
            echo "check-docs: conf/openbook.yaml lacks $section.$key" >&2; missing=1
        fi ;;
    *) section=$(echo "$line" | tr -d ':') ;;
    esac
done < "$tmp/out"
# The commands are taken from `openbook --help`, so that a new one cannot
# be forgotten here: each must answer --help, exit 2 on a wrong option and
# be in the README's command list.
cmds=$("$bin" --help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {exit}')
for cmd in serve migrate load-initial-data load-demo-data check-config createsuperuser changepassword send-mail; do
    case " $(echo $cmds) " in
    *" $cmd "*) ;;
    *) echo "check-docs: openbook --help does not list $cmd" >&2; missing=1 ;;
    esac
done
for cmd in $cmds; do
    "$bin" "$cmd" --help > /dev/null || { echo "check-docs: $cmd --help failed" >&2; missing=1; }
    set +e
    "$bin" "$cmd" --no-such-option > /dev/null 2>&1; rc=$?
    set -e
    [ "$rc" -eq 2 ] || { echo "check-docs: $cmd --no-such-option exited $rc, not 2" >&2; missing=1; }
    grep -q "^openbook $cmd\( \|\$\)" README.md ||
        { echo "check-docs: README.md's command list lacks openbook $cmd" >&2; missing=1; }
done
"$bin" --help > /dev/null
"$bin" --version > /dev/null
relay="$(dirname "$bin")/openbook-relay"
if [ -x "$relay" ]; then
    "$relay" --help > /dev/null || { echo "check-docs: openbook-relay --help failed" >&2; missing=1; }
    "$relay" --version > /dev/null || { echo "check-docs: openbook-relay --version failed" >&2; missing=1; }
fi
set +e
"$bin" no-such-command > /dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] || { echo "check-docs: unknown command exited $rc, not 2" >&2; missing=1; }
"$bin" serve --no-such-option > /dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] || { echo "check-docs: unknown option exited $rc, not 2" >&2; missing=1; }
set -e
[ "$missing" -eq 0 ] && echo "check-docs: configuration reference and --help complete"
exit "$missing"
