#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/xtcp-ladder on recorded scenarios: the basic connection has the
# textbook arrows, in order and in the right direction, and each side's
# states in order; a lost SYN is drawn lost and its retransmission marked;
# the SVG output is one well-formed document with an arrow per segment;
# an unanswered FIN is resent by a tail loss probe, marked TLP;
# --ts shows the timestamp option, each side echoing the other's TSval.

. "$(dirname "$0")/lib.sh"

tool=$(selftest_tool xtcp-scenario) || ksft_fail "xtcp-scenario not built"
ladder=$KSFT_TOP/scripts/xtcp-ladder
[ -d /sys/kernel/tracing/events/xtcp ] || ksft_skip "no tracefs events/xtcp"
tmp=$(mktemp -d)
trap 'ksft_cleanup; rm -rf "$tmp"' EXIT

# "DIR LABEL" per arrow (">" left to right, "<" back, "X" lost), then
# "L STATE" / "R STATE" per state change, from the text diagram.
arrows() {
	"$ladder" "$@" | awk -F'|' '
		NF >= 3 && $2 ~ /-/ {
			l = $2; d = ">"
			if (l ~ /^</) d = "<"
			if (l ~ /X/) d = "X"
			sub(/^[<X ]*-+ /, "", l); sub(/ -+[>X]? *$/, "", l)
			print d " " l
		}'
}
states() {
	"$ladder" "$@" | awk -F'|' '
		NF == 3 && $2 !~ /-/ {
			l = $1; sub(/^ *[0-9.]+ */, "", l); gsub(/ /, "", l)
			r = $3; gsub(/ /, "", r)
			if (l != "") print "L " l
			if (r != "") print "R " r
		}'
}

record() {	# NAME
	"$ladder" record -o "$tmp/$1.trace" -- "$tool" -q "$1" >"$tmp/$1.out" 2>&1
}

check "record the basic scenario" record basic
cat >"$tmp/basic.arrows" <<'END'
> SYN seq=x
< SYN-ACK seq=y ack=x+1
> ACK ack=y+1
> data seq=x+1 ack=y+1 len=5
< ACK ack=x+6
< data seq=y+1 ack=x+6 len=5
> ACK ack=y+6
> FIN seq=x+6 ack=y+6
< ACK ack=x+7
< FIN seq=y+6 ack=x+7
> ACK ack=y+7
END
check "basic: the arrows in order" \
	diff -u "$tmp/basic.arrows" <(arrows --port 5000 "$tmp/basic.trace")
check "basic: client states in order" diff -u \
	<(printf 'L %s\n' SYN_SENT ESTABLISHED FIN_WAIT1 FIN_WAIT2 TIME_WAIT CLOSE) \
	<(states --port 5000 "$tmp/basic.trace" | grep '^L')
check "basic: server states in order" diff -u \
	<(printf 'R %s\n' LISTEN SYN_RECV ESTABLISHED CLOSE_WAIT LAST_ACK CLOSE) \
	<(states --port 5000 "$tmp/basic.trace" | grep '^R')
ts_ok() {
	local out
	out=$("$ladder" --ts --port 5000 "$tmp/basic.trace") || return 1
	grep -q '> *|  (TSval=tx TSecr=0)$' <<<"$out" ||
		{ echo "SYN: no 'TSval=tx TSecr=0'"; echo "$out"; return 1; }
	grep -q 'SYN-ACK seq=y ack=x+1.*(TSval=ty TSecr=tx)$' <<<"$out" ||
		{ echo "SYN-ACK: no 'TSval=ty TSecr=tx'"; echo "$out"; return 1; }
	[ "$(grep -c 'TSval=' <<<"$out")" = 11 ] ||
		{ echo "not every segment has a timestamp"; echo "$out"; return 1; }
}
check "--ts: TSval and TSecr on every segment, the SYN-ACK echoing the SYN" ts_ok
sack_ok() {	# SACK is on by default: both SYNs offer it, nothing else
	local out
	out=$("$ladder" --sack --port 5000 "$tmp/basic.trace") || return 1
	grep -q 'SYN seq=x.*(SACK-permitted)$' <<<"$out" ||
		{ echo "SYN: no SACK-permitted"; echo "$out"; return 1; }
	grep -q 'SYN-ACK seq=y ack=x+1.*(SACK-permitted)$' <<<"$out" ||
		{ echo "SYN-ACK: no SACK-permitted"; echo "$out"; return 1; }
	[ "$(grep -c 'SACK' <<<"$out")" = 2 ] ||
		{ echo "SACK notes beyond the SYNs"; echo "$out"; return 1; }
}
check "--sack: SACK-permitted on SYN and SYN-ACK" sack_ok
check "--absolute prints the ISNs" \
	bash -c "'$ladder' -a '$tmp/basic.trace' | grep -Eq 'SYN seq=[0-9]{2,}'"

svg_ok() {
	local n
	"$ladder" --svg --port 5000 "$tmp/basic.trace" >"$tmp/basic.svg" || return 1
	python3 -c "import sys, xml.dom.minidom as m; m.parse(sys.argv[1])" \
		"$tmp/basic.svg" || return 1
	n=$(grep -c 'marker-end=' "$tmp/basic.svg")
	[ "$n" = 11 ] || { echo "expected 11 arrows, got $n"; return 1; }
}
check "basic: SVG is well-formed with 11 arrows" svg_ok

check "record the syn-loss scenario" record syn-loss
check "syn-loss: first SYN lost, then retransmitted by RTO" diff -u \
	<(printf '%s\n' 'X SYN seq=x' '> SYN seq=x' '< SYN-ACK seq=y ack=x+1') \
	<(arrows --port 5000 "$tmp/syn-loss.trace" | head -n 3)
check "syn-loss: the retransmission says RTO #1" \
	bash -c "'$ladder' '$tmp/syn-loss.trace' | grep -q 'SYN seq=x.*(RTO #1)'"
# The server's FIN goes unanswered (the client's last ACK is dropped);
# with SACK and an RTT sample the loss probe timer, at most one RTO,
# resends it before the retransmission timeout could.
check "record the last-ack-loss scenario" record last-ack-loss
tlp_ok() {
	local out
	out=$("$ladder" --port 5000 "$tmp/last-ack-loss.trace") || return 1
	[ "$(arrows --port 5000 "$tmp/last-ack-loss.trace" |
	     grep -c '^< FIN seq=y+6 ack=x+7$')" = 2 ] ||
		{ echo "the server's FIN not sent twice"; echo "$out"; return 1; }
	grep -q 'FIN seq=y+6 ack=x+7.*(TLP)' <<<"$out" ||
		{ echo "no FIN marked TLP"; echo "$out"; return 1; }
	! grep -q 'RTO #' <<<"$out" ||
		{ echo "a timeout resent something"; echo "$out"; return 1; }
}
check "last-ack-loss: the FIN is resent once, by a tail loss probe" tlp_ok
check_fail "no connection on another port" "$ladder" --port 9 "$tmp/basic.trace"
ksft_exit
