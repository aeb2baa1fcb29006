#!/bin/sh
# The ctest fixture of the tests that need a Redis (label redis):
#   redis_fixture.sh start DIR   starts redis-server on a free loopback port, without
#                                persistence, and writes the port to DIR/port
#   redis_fixture.sh stop DIR    stops it
set -eu
action=$1
dir=$2
case "$action" in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    rm -f "$dir/port"
    if [ -f "$dir/redis.pid" ]; then
        kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
        rm -f "$dir/redis.pid"
    fi
    # A free port: the kernel's pick for a socket bound to port 0, released just before.
    for attempt in 1 2 3 4 5; do
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        if redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            --daemonize yes --pidfile "$dir/redis.pid" --dir "$dir" --logfile "$dir/redis.log"; then
            i=0
            while [ $i -lt 50 ]; do
                if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
                    echo "$port" > "$dir/port"
                    echo "redis-server on 127.0.0.1:$port"
                    exit 0
                fi
                i=$((i + 1))
                sleep 0.1
            done
        fi
        [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
    done
    echo "redis_fixture: could not start redis-server (see $dir/redis.log)" >&2
    exit 1
    ;;
stop)
    if [ -f "$dir/redis.pid" ]; then
        kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
        rm -f "$dir/redis.pid" "$dir/port"
    fi
    ;;
*)
    echo "usage: redis_fixture.sh start|stop DIR" >&2
    exit 2
    ;;
esac
