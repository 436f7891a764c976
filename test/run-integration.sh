#!/bin/sh
# Integration tests: the real binary behind nginx, with a private PostgreSQL
# and Redis per test module (deploy/local/stack.py), driven over HTTP.
#
#   sh test/run-integration.sh [-v] [-k PATTERN] [test_module.py ...]
#
# OPENBOOK_BIN     binary under test (default build/asan/openbook)
# OPENBOOK_KEEP_TMP=1  keep the /tmp/openbook-it-* directories (logs)
#
# The last line of the output is "N passed, N failed" (", N skipped" when
# any were skipped); the exit status is non-zero when anything failed.
set -u
cd "$(dirname "$0")/.." || exit 1
OPENBOOK_BIN=${OPENBOOK_BIN:-build/asan/openbook}
export OPENBOOK_BIN
if [ ! -x "$OPENBOOK_BIN" ]; then
    echo "run-integration: $OPENBOOK_BIN missing (make asan)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
exec python3 -u test/integration/run.py "$@"
