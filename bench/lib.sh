# Shell helpers of the benchmarks (sourced): bench/messages.sh, bench/instructions.sh, bench/cpu.sh.

# need_tools SCRIPT TOOL...: exits with a message naming the first tool that is not installed
need_tools() {
    local me=$1 tool
    shift
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || { echo "$me: $tool is not installed" >&2; exit 1; }
    done
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on
free_port() { node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# wait_http URL [TENTHS]: 0 once URL answers 2xx, within TENTHS tenths of a second (default 100)
wait_http() {
    for _ in $(seq 1 "${2:-100}"); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done
    return 1
}

# one_server: a scratch folder $tmp, and $PID, the server a script starts; both go when it exits
one_server() {
    tmp=$(mktemp -d)
    PID=
    trap one_server_cleanup EXIT
}
one_server_cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$tmp"
}
