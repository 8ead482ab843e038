#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unmodified programs over xtcp (scripts/xtcp-run and its preload library),
# each run once over Linux TCP as the baseline, between two namespaces over
# veth: curl and wget fetch 10 MiB from python3's http.server, iperf3 -J
# (plain, -R, -P 4, -Z), nginx with sendfile and tcp_nopush serving 50
# files over one keep-alive connection and one 10 MiB file, nc -N
# half-close and a socat relay, byte-exact. Proof that xtcp carried the
# bytes: xtcp's ActiveOpens/PassiveOpens rose and the namespaces' TCP
# counters did not. Also the launcher's own behaviour: -p moves only the
# chosen ports, a bad list and an unloaded module are clear errors.

. "$(dirname "$0")/lib.sh"

run=$KSFT_TOP/scripts/xtcp-run
[ -f "$KSFT_TOP/build/preload/libxtcp-preload.so" ] ||
	ksft_fail "build/preload/libxtcp-preload.so not built (make preload)"
for p in curl wget python3 iperf3 nginx socat nc sha256sum; do
	command -v $p >/dev/null || ksft_fail "$p missing (scripts/deps installs it)"
done

# The sections this run takes: apps_iperf.sh runs iperf3's alone, so that
# each script stays well inside the runner's per-test timeout in TCG.
parts=${APPS_PARTS:-http nginx nc launcher}
part() { [[ " $parts " == *" $1 "* ]]; }

C=apps-cli S=apps-srv
tmp=$(mktemp -d)
pids=()
stop_all() {	# every process left in the two namespaces
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	ip netns pids $C 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns pids $S 2>/dev/null | xargs -r kill 2>/dev/null
	wait 2>/dev/null
	pids=()
}
cleanup() {
	stop_all
	ksft_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT

netns_create $C && netns_create $S && veth_pair $C $S 10.77.0.1 10.77.0.2 ||
	ksft_fail "topology"
SA=10.77.0.2
inC() { ip netns exec $C "$@"; }
inS() { ip netns exec $S "$@"; }

# The namespace's TCP open counters (ActiveOpens + PassiveOpens).
tcp_opens() {
	ip netns exec "$1" awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 }
		else print $c["ActiveOpens"] + $c["PassiveOpens"] }' /proc/net/snmp
}
xtcp_opens() {
	echo $(( $(xtcp_counter ActiveOpens "$1") + $(xtcp_counter PassiveOpens "$1") ))
}
snap() { x0=$(( $(xtcp_opens $C) + $(xtcp_opens $S) )); t0=$(( $(tcp_opens $C) + $(tcp_opens $S) )); }
# Since snap: xtcp opened at least $1 connections (both ends) and TCP none.
on_xtcp() {
	local x=$(( $(xtcp_opens $C) + $(xtcp_opens $S) - x0 ))
	local t=$(( $(tcp_opens $C) + $(tcp_opens $S) - t0 ))
	echo "xtcp opens +$x, tcp opens +$t"
	[ $x -ge "$1" ] && [ $t -eq 0 ]
}
# ... and the baseline: TCP did, xtcp did not.
on_tcp() {
	local x=$(( $(xtcp_opens $C) + $(xtcp_opens $S) - x0 ))
	local t=$(( $(tcp_opens $C) + $(tcp_opens $S) - t0 ))
	echo "xtcp opens +$x, tcp opens +$t"
	[ $x -eq 0 ] && [ $t -ge "$1" ]
}
listening() {	# PORT: a TCP or an xtcp listener on PORT in the server namespace
	local hex
	hex=$(printf %04X "$1")
	inS ss -Hltn "sport = :$1" | grep -q . ||
		inS awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" { f = 1 } END { exit !f }' \
			/proc/net/xtcp/sockets
}
# A server in the background; stop_all ends it with its section.
# Servers get two minutes to listen (wait_for returns as soon as they do):
# the debug lane's first python3 start, reading its modules over 9p under
# KASAN in TCG, once took longer than 30 s.
bg() { "$@" & pids+=($!); }

mkdir -p "$tmp/www"
chmod 755 "$tmp" "$tmp/www"	# nginx's worker is not root
head -c $((10 << 20)) /dev/urandom >"$tmp/www/big"
for i in $(seq 1 50); do head -c $((1000 + i * 37)) /dev/urandom >"$tmp/www/f$i"; done
bigsum=$(sha256sum <"$tmp/www/big")

# ---- python3 http.server, curl and wget ----
if part http; then
http_fetch() {	# PORT WRAP...: fetch big with curl and wget, compare
	local port=$1; shift
	local w=("$@")
	bg inS "${w[@]}" python3 -m http.server -b $SA -d "$tmp/www" $port >"$tmp/http.log" 2>&1
	wait_for 120 listening $port || { echo "http.server did not start"; cat "$tmp/http.log"; return 1; }
	inC "${w[@]}" curl -4 -sS -o "$tmp/got.curl" http://$SA:$port/big || return 1
	[ "$(sha256sum <"$tmp/got.curl")" = "$bigsum" ] || { echo "curl: bytes differ"; return 1; }
	inC "${w[@]}" wget -4 -q -O "$tmp/got.wget" http://$SA:$port/big || return 1
	[ "$(sha256sum <"$tmp/got.wget")" = "$bigsum" ] || { echo "wget: bytes differ"; return 1; }
	stop_all
}
snap
check "baseline: curl and wget over TCP" http_fetch 8000 env
check "baseline carried by TCP" on_tcp 2
snap
check "curl and wget download 10 MiB from http.server over xtcp, sha256 equal" http_fetch 8010 "$run"
check "curl and wget: carried by xtcp, TCP untouched" on_xtcp 4
fi

# ---- iperf3 ----
if part iperf; then
iperf() {	# WRAP ARGS...: one iperf3 test, JSON checked
	local wrap=$1; shift
	bg inS $wrap iperf3 -4 -s -B $SA -1 -J >"$tmp/iperf-s.json" 2>&1
	wait_for 120 listening 5201 || { cat "$tmp/iperf-s.json"; return 1; }
	inC timeout 60 $wrap iperf3 -4 -c $SA -t 1 -J "$@" >"$tmp/iperf-c.json" 2>&1
	stop_all
	python3 - "$tmp/iperf-c.json" "$*" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
if "error" in r:
    sys.exit("iperf3 error: " + r["error"])
e = r["end"]
sent, rcvd = e["sum_sent"]["bytes"], e["sum_received"]["bytes"]
print("sent %d received %d retransmits %s" % (sent, rcvd, e["sum_sent"].get("retransmits")))
# iperf3 counts what the sender wrote and what the receiver read before
# the end of the test: what was still queued in the two sockets' buffers
# then is sent but not received, on TCP as on xtcp: at most the largest
# send and receive buffers (TCP autotunes to 4 + 6 MiB by default), per
# stream (-P 4: four connections, each with its own two buffers).
nstreams = max(len(e.get("streams", [])), 1)
if sent <= 0 or rcvd > sent or sent - rcvd > nstreams * (16 << 20):
    sys.exit("bytes sent and received disagree (%d streams)" % nstreams)
if "retransmits" not in e["sum_sent"]:
    sys.exit("no retransmits field: TCP_INFO not read")
snd = [s["sender"] for s in e["streams"] if s["sender"].get("sender")]
for s in snd:
    if s.get("mean_rtt", 0) <= 0:
        sys.exit("no RTT from TCP_INFO")
PY
}
snap
check "baseline: iperf3 over TCP" iperf env
check "baseline carried by TCP" on_tcp 2
for args in "" "-R" "-P 4" "-Z"; do
	snap
	check "iperf3 ${args:-(plain)} over xtcp: no error, bytes sent = received, RTT from TCP_INFO" \
		iperf "$run" $args
	check "iperf3 ${args:-(plain)}: carried by xtcp" on_xtcp 4
done
fi

# ---- nginx: sendfile, tcp_nopush, keep-alive ----
if part nginx; then
cat >"$tmp/nginx.conf" <<NGX
daemon off;
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/error.log info;
events { worker_connections 64; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_timeout 65;
	keepalive_requests 1000;
	client_body_temp_path $tmp/nb; proxy_temp_path $tmp/np;
	fastcgi_temp_path $tmp/nf; uwsgi_temp_path $tmp/nu; scgi_temp_path $tmp/ns;
	server { listen $SA:8080; root $tmp/www; }
}
NGX
nginx_fetch() {	# WRAP
	local urls=() i n
	sed -i "s/listen [0-9.:]*;/listen $SA:$2;/" "$tmp/nginx.conf"
	bg inS $1 nginx -c "$tmp/nginx.conf" -e "$tmp/error.log"
	wait_for 120 listening $2 || { cat "$tmp/error.log"; return 1; }
	for i in $(seq 1 50); do urls+=(http://$SA:$2/f$i -o "$tmp/n$i"); done
	n=$(inC $1 curl -4 -sS -w '%{num_connects}\n' "${urls[@]}" | awk '{ s += $1 } END { print s }')
	echo "connections for 50 files: $n"
	[ "$n" = 1 ] || return 1
	for i in $(seq 1 50); do cmp -s "$tmp/www/f$i" "$tmp/n$i" || { echo "f$i differs"; return 1; }; done
	inC $1 curl -4 -sS -o "$tmp/got.nginx" http://$SA:$2/big || return 1
	[ "$(sha256sum <"$tmp/got.nginx")" = "$bigsum" ] || { echo "big differs"; return 1; }
	stop_all
	if grep -E '\[(alert|crit|error|emerg)\]' "$tmp/error.log"; then return 1; fi
	rm -f "$tmp/error.log"
}
snap
check "baseline: nginx over TCP" nginx_fetch env 8080
check "baseline carried by TCP" on_tcp 2
snap
check "nginx (sendfile, tcp_nopush): 50 files over one keep-alive connection and 10 MiB, error.log clean" \
	nginx_fetch "$run" 8090
check "nginx: carried by xtcp" on_xtcp 4
fi

# ---- nc -N half-close, socat relay ----
if part nc; then
nc_half_close() {
	bg inS "$run" sh -c "nc -l -s $SA -p 7000 >'$tmp/nc.out'; echo done >'$tmp/nc.done'"
	wait_for 120 listening 7000 || return 1
	inC "$run" nc -N $SA 7000 <"$tmp/www/big" || return 1
	wait_for 60 test -f "$tmp/nc.done" || return 1
	[ "$(sha256sum <"$tmp/nc.out")" = "$bigsum" ] || return 1
	stop_all
}
snap
check "nc -N: half-close ends the server's read, 10 MiB byte-exact" nc_half_close
check "nc: carried by xtcp" on_xtcp 2

socat_relay() {
	# sink on 7002; a relay on 7001 forwards to it; the client sends to 7001.
	bg inS "$run" sh -c "socat -u TCP4-LISTEN:7002,bind=$SA OPEN:'$tmp/socat.out',creat,trunc; echo done >'$tmp/socat.done'"
	bg inS "$run" socat TCP4-LISTEN:7001,bind=$SA TCP4:$SA:7002
	wait_for 120 listening 7001 && wait_for 120 listening 7002 || return 1
	inC "$run" socat -u OPEN:"$tmp/www/big" TCP4:$SA:7001 || return 1
	wait_for 60 test -f "$tmp/socat.done" || return 1
	[ "$(sha256sum <"$tmp/socat.out")" = "$bigsum" ] || return 1
	stop_all
}
snap
check "socat relays a stream over two xtcp connections, byte-exact" socat_relay
check "socat: carried by xtcp (two connections)" on_xtcp 4
fi

# ---- the launcher ----
if part launcher; then
ports_choose() {
	local log=$tmp/ports.log
	bg inS python3 -m http.server -b $SA -d "$tmp/www" 8001 >/dev/null 2>&1
	bg inS "$run" python3 -m http.server -b $SA -d "$tmp/www" 8002 >/dev/null 2>&1
	wait_for 120 listening 8001 && wait_for 120 listening 8002 || return 1
	inC "$run" -d -p 8002,9000-9010 curl -4 -sS -o /dev/null http://$SA:8001/f1 \
		-o /dev/null http://$SA:8002/f1 2>"$log" || { cat "$log"; return 1; }
	cat "$log"
	grep -q "connect to port 8001 stays TCP" "$log" &&
		grep -q "connect to port 8002 -> xtcp" "$log" || return 1
	stop_all
}
snap
check "-p 8002: the connection to 8002 is xtcp, the one to 8001 TCP" ports_choose
bad_list() {
	local out
	out=$("$run" -p 80,abc true 2>&1) && return 1
	echo "$out"
	[[ $out == *"bad port list"* ]]
}
check "a malformed port list is refused, with the reason" bad_list
no_module() {
	local out rc
	wait_for 60 rmmod xtcp || { echo "rmmod xtcp failed"; return 1; }
	out=$("$run" true 2>&1); rc=$?
	insmod "$(xtcp_ko)" || return 1
	echo "$out (exit $rc)"
	[ $rc = 1 ] && [[ $out == *"not loaded"* ]]
}
stop_all
ip netns del $C; ip netns del $S
check "without the module, xtcp-run says so and runs nothing" no_module
fi

ksft_exit
