#!/bin/sh
# OpenBook under spawn-fcgi: the exact command lines (see README beside it).
#
#   openbook-spawn-fcgi.sh pool         (a) the pre-forked pool under its own
#                                           master, in the foreground (-n):
#                                           for runit, daemontools, s6, ...
#   openbook-spawn-fcgi.sh single [N]   (b) N single-process servers (default
#                                           4), started in the background
#   openbook-spawn-fcgi.sh stop         stops what (b) started
#
# Run as root: spawn-fcgi opens the socket, gives it to openbook:www-data
# with mode 0660 (the front server, www-data, connects to it), then runs
# the application as user and group openbook.  Configuration overrides can
# come from the environment (OPENBOOK_<SECTION>_<KEY>, e.g.
# OPENBOOK_SECURITY_SECRET_KEY); spawn-fcgi passes it on.
#
# Prefer (a).  spawn-fcgi starts processes and exits (or, with -n, becomes
# the one process); it never restarts anything.  In (a) the openbook master
# replaces crashed and recycled workers itself, so only the master needs a
# supervisor.  In (b) a process that crashes or is killed for running past
# server.request_timeout is gone for good, and capacity silently shrinks.
#
# The integration tests (test/integration/test_deploy_spawn_fcgi.py) run
# this very file.  They only replace literal strings: "/usr/bin/openbook",
# "/etc/openbook/openbook.yaml", "/run/openbook" and the user options
# "-u openbook -g openbook -U openbook -G www-data".  Keep those spelled
# exactly like this.
set -eu

case "${1:-}" in
pool)
    install -d -m 0755 /run/openbook
    # -n: no fork; spawn-fcgi binds the socket, puts it on fd 0 and execs
    # the master, which takes it from fd 0 and pre-forks server.workers.
    exec spawn-fcgi -n -s /run/openbook/openbook.sock -M 0660 -u openbook -g openbook -U openbook -G www-data -- /usr/bin/openbook serve -c /etc/openbook/openbook.yaml
    ;;
single)
    n=${2:-4}
    install -d -m 0755 /run/openbook
    # -F N: N processes share the socket, each `serve --single` (no master).
    # Their pids go to the pid file.
    exec spawn-fcgi -F "$n" -P /run/openbook/openbook-spawn-fcgi.pid -s /run/openbook/openbook.sock -M 0660 -u openbook -g openbook -U openbook -G www-data -- /usr/bin/openbook serve --single -c /etc/openbook/openbook.yaml
    ;;
stop)
    # SIGTERM: each process finishes its request in flight, then exits.
    if [ -f /run/openbook/openbook-spawn-fcgi.pid ]; then
        # shellcheck disable=SC2046
        kill $(cat /run/openbook/openbook-spawn-fcgi.pid) 2>/dev/null || true
        rm -f /run/openbook/openbook-spawn-fcgi.pid
    fi
    ;;
*)
    echo "usage: $0 pool | single [N] | stop" >&2
    exit 2
    ;;
esac
