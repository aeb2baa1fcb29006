#!/bin/sh
# Runs a command in a network namespace of its own (in a user namespace, so root is not
# needed), with its loopback up and net.ipv4.tcp_migrate_req = 1: the connections a closing
# listener holds move to the other listeners of its port (see rolling_restart_test.cpp).
# Says so and fails when the kernel refuses the namespaces, rather than test something else.
set -e
if ! command -v unshare >/dev/null || ! unshare -rn true 2>/dev/null; then
    echo "with_migrate_req.sh: unshare -rn (user and network namespaces) is not allowed here" >&2
    exit 1
fi
exec unshare -rn sh -c 'ip link set lo up && echo 1 > /proc/sys/net/ipv4/tcp_migrate_req && exec "$@"' sh "$@"
