#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# SO_REUSEPORT in an unmodified program over xtcp: the preload library
# (scripts/xtcp-run) sets and reads SOL_SOCKET's SO_REUSEPORT as
# XTCP_REUSEPORT, which the socket core would refuse on a non-inet family.
# Two python3 listeners in one process bind one port, read the option back
# as 1 and share 40 connections (each accepts some); xtcp carried them
# (xtcp's open counters rose, the namespaces' TCP counters did not). The
# same script over Linux TCP, without the library, is the baseline.

. "$(dirname "$0")/lib.sh"

run=$KSFT_TOP/scripts/xtcp-run
[ -f "$KSFT_TOP/build/preload/libxtcp-preload.so" ] ||
	ksft_fail "build/preload/libxtcp-preload.so not built (make preload)"
command -v python3 >/dev/null || ksft_skip "python3 missing"

C=rp-cli S=rp-srv
tmp=$(mktemp -d)
cleanup() {
	ip netns pids $S 2>/dev/null | xargs -r kill 2>/dev/null
	wait 2>/dev/null
	ksft_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
netns_create $C && netns_create $S && veth_pair $C $S 10.78.0.1 10.78.0.2 ||
	ksft_fail "topology"
SA=10.78.0.2

cat >"$tmp/srv.py" <<'PY'
import select, socket, sys
ls = []
for i in range(2):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((sys.argv[1], int(sys.argv[2])))
    s.listen(64)
    ls.append(s)
print("SO_REUSEPORT reads", [s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for s in ls])
sys.stdout.flush()
open(sys.argv[3], "w").close()
n = [0, 0]
while sum(n) < 40:
    r, _, _ = select.select(ls, [], [], 30)
    if not r:
        break
    for s in r:
        c, _ = s.accept()
        n[ls.index(s)] += 1
        c.close()
print("accepted", *n)
PY
cat >"$tmp/cli.py" <<'PY'
import socket, sys
for _ in range(40):
    socket.create_connection((sys.argv[1], int(sys.argv[2]))).close()
PY

# TCP open counters of a namespace; xtcp's.
tcp_opens() {
	ip netns exec "$1" awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 }
		else print $c["ActiveOpens"] + $c["PassiveOpens"] }' /proc/net/snmp
}
xtcp_opens() {
	echo $(( $(xtcp_counter ActiveOpens "$1") + $(xtcp_counter PassiveOpens "$1") ))
}

# share LAUNCHER PORT: both listeners bind, read 1, each accepts some of 40.
share() {
	local out=$tmp/out.$2
	rm -f "$tmp/ready"
	ip netns exec $S $1 python3 "$tmp/srv.py" $SA "$2" "$tmp/ready" >"$out" 2>&1 &
	local pid=$!
	wait_for 60 test -f "$tmp/ready" || { cat "$out"; return 1; }
	ip netns exec $C $1 python3 "$tmp/cli.py" $SA "$2" || return 1
	wait $pid
	cat "$out"
	grep -q "SO_REUSEPORT reads \[1, 1\]" "$out" &&
		grep -q "^accepted" "$out" &&
		awk '/^accepted/ { exit !($2 > 0 && $3 > 0 && $2 + $3 == 40) }' "$out"
}

x0=$(( $(xtcp_opens $C) + $(xtcp_opens $S) ))
t0=$(( $(tcp_opens $C) + $(tcp_opens $S) ))
check "baseline: over TCP, two listeners share port 7020 and 40 connections" share "" 7020
carried_by_tcp() {
	local x=$(( $(xtcp_opens $C) + $(xtcp_opens $S) - x0 ))
	local t=$(( $(tcp_opens $C) + $(tcp_opens $S) - t0 ))
	echo "xtcp opens +$x, tcp opens +$t"
	x0=$((x0 + x)) t0=$((t0 + t))
	[ $x -eq 0 ] && [ $t -ge 80 ]
}
check "baseline: carried by TCP" carried_by_tcp
check "xtcp-run: SO_REUSEPORT as XTCP_REUSEPORT, 40 connections split" share "$run" 7021
carried_by_xtcp() {
	local x=$(( $(xtcp_opens $C) + $(xtcp_opens $S) - x0 ))
	local t=$(( $(tcp_opens $C) + $(tcp_opens $S) - t0 ))
	echo "xtcp opens +$x, tcp opens +$t"
	[ $x -ge 80 ] && [ $t -eq 0 ]
}
check "xtcp-run: carried by xtcp, TCP untouched" carried_by_xtcp
ksft_exit
