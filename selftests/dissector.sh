#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/xtcp.lua, the Wireshark dissector, on a real connection: dumpcap
# captures the basic scenario (selftests/tools/xtcp-scenario: handshake,
# "hello" and "world", orderly close) on the client's veth, and tshark
# with the dissector decodes it.  The decoded fields must show the
# textbook connection: SYN, SYN-ACK, ACK in order with ack = peer's ISN + 1,
# the ports, MSS on the SYNs, 5-byte payloads, both FINs and their ACKs,
# every checksum good.  Two doctored copies of the first data segment are
# appended to the capture: one with a flipped payload byte (checksum
# bad) and one cut short by the snap length (checksum unverified).
#
# tshark starts slowly under TCG (~30 s), so it runs once, for all fields.
# Skipped where tshark or dumpcap is missing (scripts/deps installs them).

. "$(dirname "$0")/lib.sh"

tool=$(selftest_tool xtcp-scenario) || ksft_fail "xtcp-scenario not built"
lua=$KSFT_TOP/scripts/xtcp.lua
command -v tshark >/dev/null || ksft_skip "tshark not installed (scripts/deps)"
command -v dumpcap >/dev/null || ksft_skip "dumpcap not installed (scripts/deps)"
command -v perl >/dev/null || ksft_skip "perl not installed"
command -v ethtool >/dev/null || ksft_skip "ethtool not installed (scripts/deps)"
ipproto=$(cat /sys/module/xtcp/parameters/ipproto) ||
	ksft_fail "xtcp not loaded"
tmp=$(mktemp -d)
dpid=
spid=
cleanup() {
	[ -z "$dpid" ] || kill "$dpid" 2>/dev/null
	[ -z "$spid" ] || kill "$spid" 2>/dev/null
	ksft_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
export HOME=${HOME:-/tmp}

# The scenario runs this once its namespaces exist: it turns off transmit
# checksum offload on both veth ends (xtcp, like TCP, leaves the checksum
# to the device, and a capture would see only the pseudo-header sum), tells
# us the client's namespace, then waits (at most 60 s, and only while this
# test runs) until the capture runs.
cat >"$tmp/hook" <<END
ip netns exec "\$XTCP_CLIENT_NS" ethtool -K v0 tx off >"$tmp/ethtool.log" 2>&1 &&
ip netns exec "\$XTCP_SERVER_NS" ethtool -K v1 tx off >>"$tmp/ethtool.log" 2>&1 ||
	{ echo "ethtool failed" >>"$tmp/ethtool.log"; exit 1; }
echo "\$XTCP_CLIENT_NS" >"$tmp/ns.new" && mv "$tmp/ns.new" "$tmp/ns"
i=0
while [ -d "$tmp" ] && [ ! -e "$tmp/go" ] && [ \$i -lt 600 ]; do
	sleep 0.1
	i=\$((i + 1))
done
[ -e "$tmp/go" ]
END

gone() {	# PID: exited (a zombie counts)
	! [ -d "/proc/$1" ] ||
		[ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ]
}
started() { [ -s "$tmp/ns" ] || gone "$spid"; }
capturing() { grep -q "^Capturing on" "$tmp/dumpcap.log"; }
dumpcap_gone() { gone "$dpid"; }

capture() {
	local ns rc
	"$tool" -q -x "sh $tmp/hook" basic >"$tmp/scenario.out" 2>&1 &
	spid=$!
	if ! wait_for 120 started || ! [ -s "$tmp/ns" ]; then
		cat "$tmp/scenario.out" "$tmp/ethtool.log" 2>/dev/null
		echo "the scenario did not reach its -x command"
		return 1
	fi
	ns=$(cat "$tmp/ns")
	# pcap (-P): simple to doctor below.  The capture ends by itself
	# when the scenario deletes the namespace and with it v0.
	ip netns exec "$ns" dumpcap -q -P -i v0 -f "ip proto $ipproto" \
		-w "$tmp/cap.pcap" >"$tmp/dumpcap.log" 2>&1 &
	dpid=$!
	if ! wait_for 60 capturing; then
		cat "$tmp/dumpcap.log"
		return 1
	fi
	touch "$tmp/go"
	wait "$spid"
	rc=$?
	spid=
	cat "$tmp/scenario.out"
	[ $rc = 0 ] || return 1
	if ! wait_for 10 dumpcap_gone; then
		kill -INT "$dpid" 2>/dev/null
		wait_for 10 dumpcap_gone
	fi
	wait "$dpid" 2>/dev/null
	dpid=
	cat "$tmp/dumpcap.log"
	[ -s "$tmp/cap.pcap" ]
}

# Append two copies of the first segment with a payload: one with its
# last byte flipped, one whose last two bytes were not captured.  (Perl:
# python3 takes many seconds to start under TCG.)
doctor() {
	perl -e '
		local $/;
		open(my $in, "<:raw", $ARGV[0]) or die "$ARGV[0]: $!";
		my $d = <$in>;
		my $e = substr($d, 0, 4) eq "\xd4\xc3\xb2\xa1" ? "V" : "N";
		unpack($e, $d) == 0xa1b2c3d4 or die "not a pcap\n";
		my $l2 = { 1 => 14, 113 => 16, 101 => 0 }->{unpack($e, substr($d, 20, 4))};
		defined $l2 or die "unknown link type\n";
		my ($off, @r) = (24);
		while ($off + 16 <= length $d) {
			my ($s, $us, $incl, $orig) = unpack("${e}4", substr($d, $off, 16));
			push @r, [$s, $us, $incl, $orig, substr($d, $off + 16, $incl)];
			$off += 16 + $incl;
		}
		my ($i, $data) = (0);
		for (@r) {	# xtcp payload length: IP total - IP header - xtcp header
			$i++;
			my $ip = substr($_->[4], $l2);
			my $ihl = (ord($ip) & 15) * 4;
			my $plen = unpack("n", substr($ip, 2, 2)) - $ihl -
				   (ord(substr($ip, $ihl + 12, 1)) >> 4) * 4;
			if ($plen > 0) { $data = $_; last; }
		}
		$data or die "no segment with a payload\n";
		my @bad = @$data;
		substr($bad[4], -1, 1) = chr(ord(substr($bad[4], -1, 1)) ^ 0xff);
		my @cut = @$data;
		$cut[4] = substr($cut[4], 0, -2);
		$cut[2] -= 2;
		open(my $out, ">:raw", $ARGV[1]) or die "$ARGV[1]: $!";
		print $out substr($d, 0, 24);
		print $out pack("${e}4", @{$_}[0 .. 3]), $_->[4] for @r, \@bad, \@cut;
		close($out) or die "$ARGV[1]: $!";
		printf "%d segments captured, data segment: frame %d\n", scalar @r, $i;
	' "$tmp/cap.pcap" "$tmp/all.pcap"
}

FIELDS="frame.number _ws.col.Protocol ip.src xtcp.srcport xtcp.dstport
	xtcp.flags xtcp.flags.syn xtcp.flags.ack xtcp.flags.fin xtcp.flags.rst
	xtcp.seq xtcp.ack xtcp.hdr_len xtcp.len xtcp.option.mss
	xtcp.checksum.status xtcp.payload xtcp.option.wscale
	xtcp.option.tsval xtcp.option.tsecr"

decode() {
	local e=() f
	for f in $FIELDS; do
		e+=(-e "$f")
	done
	# tshark 4.0 runs Lua scripts as root (init.lua:
	# run_user_scripts_when_superuser = true); it only warns.  No
	# plugins (WIRESHARK_PLUGIN_DIR): they are not needed and cost
	# seconds under TCG.
	WIRESHARK_PLUGIN_DIR=/nonexistent tshark -n -X "lua_script:$lua" -X "lua_script1:ipproto=$ipproto" \
		-r "$tmp/all.pcap" -T fields -E separator=/t -E occurrence=f \
		"${e[@]}" >"$tmp/fields" 2>"$tmp/tshark.err"
	local rc=$?
	grep -v 'Running as user "root"' "$tmp/tshark.err"
	[ $rc = 0 ] && [ -s "$tmp/fields" ] && ! grep -qi 'lua.*error' "$tmp/tshark.err"
}

# Field NAME of row N (1-based, frame order), from the decoded fields
# read once (load_fields): no process per lookup, which TCG makes slow.
declare -A F=()
load_fields() {
	local line v r=0 i f
	while IFS= read -r line; do
		r=$((r + 1))
		IFS='|' read -r -a v <<<"${line//$'\t'/|}"
		i=0
		for f in $FIELDS; do
			F[$r,$f]=${v[$i]:-}
			i=$((i + 1))
		done
	done <"$tmp/fields"
}
col() { echo "${F[$1,$2]:-}"; }

if ! check "capture the basic scenario with dumpcap" capture; then
	ksft_exit
fi
check "append a corrupted and a truncated copy of a data segment" doctor
check "tshark decodes the capture with scripts/xtcp.lua" decode
[ -s "$tmp/fields" ] || ksft_exit
sed 's/^/# /' "$tmp/fields"
load_fields

# What the basic scenario puts on the wire: side (c client, s server),
# flags, payload length.
cat >"$tmp/expect" <<'END'
c SYN 0
s SYN,ACK 0
c ACK 0
c ACK 5
s ACK 0
s ACK 5
c ACK 0
c FIN,ACK 0
s ACK 0
s FIN,ACK 0
c ACK 0
END
n=$(wc -l <"$tmp/expect")

# "side flags len" per real segment (the doctored copies excluded).
segments() {
	awk -F'\t' -v n="$n" '
		NR > n { exit }
		{
			side = $3 == "10.99.0.1" ? "c" : $3 == "10.99.0.2" ? "s" : "?"
			fl = ""	# booleans: 1/0 (tshark 4.0), True/False (4.2)
			if ($7 ~ /^(1|True)$/) fl = fl "SYN,"
			if ($9 ~ /^(1|True)$/) fl = fl "FIN,"
			if ($10 ~ /^(1|True)$/) fl = fl "RST,"
			if ($8 ~ /^(1|True)$/) fl = fl "ACK,"
			sub(/,$/, "", fl)
			print side, fl, $14
		}' "$tmp/fields"
}
check "the protocol column says XTCP on every segment" \
	test "$(cut -f2 "$tmp/fields" | sort -u)" = XTCP
check "$n segments plus 2 doctored copies" \
	test "$(wc -l <"$tmp/fields")" = $((n + 2))
check "flags, direction and payload length of every segment, in order" \
	diff -u "$tmp/expect" <(segments)

cport=$(col 1 xtcp.srcport)
ports_ok() {
	awk -F'\t' -v n="$n" -v c="$cport" '
		NR > n { exit }
		$3 == "10.99.0.1" && !($4 == c && $5 == 5000) { bad = 1 }
		$3 == "10.99.0.2" && !($4 == 5000 && $5 == c) { bad = 1 }
		END { exit bad }' "$tmp/fields" &&
	[ "$cport" -ge 1024 ] && [ "$cport" != 5000 ]
}
check "ports: client's ephemeral port <-> server's 5000, every segment" \
	ports_ok

# Sequence arithmetic, modulo 2^32.
x=$(col 1 xtcp.seq)	# client ISN
y=$(col 2 xtcp.seq)	# server ISN
seq_is() {	# ROW FIELD ISN DELTA [ROW FIELD ISN DELTA ...]
	local v want
	while [ $# -ge 4 ]; do
		v=$(col "$1" "$2")
		want=$((($3 + $4) % 4294967296))
		[ "$v" = "$want" ] ||
			{ echo "frame $1: $2 = $v, want $want"; return 1; }
		shift 4
	done
}
check "SYN-ACK ack = SYN seq + 1" seq_is 2 xtcp.ack "$x" 1
check "third ACK: seq = x + 1, ack = SYN-ACK seq + 1" \
	seq_is 3 xtcp.seq "$x" 1 3 xtcp.ack "$y" 1
check "client data: seq = x + 1, acked with x + 6" \
	seq_is 4 xtcp.seq "$x" 1 5 xtcp.ack "$x" 6
check "server data: seq = y + 1, acked with y + 6" \
	seq_is 6 xtcp.seq "$y" 1 7 xtcp.ack "$y" 6
check "client FIN: seq = x + 6, acked with x + 7" \
	seq_is 8 xtcp.seq "$x" 6 9 xtcp.ack "$x" 7
check "server FIN: seq = y + 6, acked with y + 7" \
	seq_is 10 xtcp.seq "$y" 6 11 xtcp.ack "$y" 7

check "payloads: \"hello\" then \"world\"" test \
	"$(col 4 xtcp.payload) $(col 6 xtcp.payload)" = "68656c6c6f 776f726c64"
# Timestamps are on by default (the timestamps sysctl): MSS 4, NOP NOP TS
# 12 and NOP WS 4 bytes on SYN and SYN-ACK, NOP NOP TS after.
check "MSS, timestamp and window scale options on SYN and SYN-ACK, header length 40" test \
	"$(col 1 xtcp.option.mss)/$(col 1 xtcp.hdr_len) $(col 2 xtcp.option.mss)/$(col 2 xtcp.hdr_len)" \
	= "1460/40 1460/40"
wscale_ok() {	# FRAME...: a shift count RFC 7323 allows (0-14)
	local i v
	for i; do
		v=$(col "$i" xtcp.option.wscale)
		case $v in
		[0-9] | 1[0-4]) ;;
		*) echo "frame $i: window scale '$v'"; return 1 ;;
		esac
	done
}
check "window scale option (0-14) on SYN and SYN-ACK" wscale_ok 1 2
check "no MSS or window scale option, header length 32 after the handshake" test \
	"$(awk -F'\t' -v n="$n" 'NR > 2 && NR <= n { print $13 "/" $15 "/" $18 }' \
	   "$tmp/fields" | sort -u)" = "32//"
ts_ok() {	# every segment a TSval; SYN TSecr 0; each side echoes the other
	local i
	for ((i = 1; i <= n; i++)); do
		[ -n "$(col $i xtcp.option.tsval)" ] ||
			{ echo "frame $i: no timestamp"; return 1; }
	done
	[ "$(col 1 xtcp.option.tsecr)" = 0 ] || { echo "SYN's TSecr"; return 1; }
	[ "$(col 2 xtcp.option.tsecr)" = "$(col 1 xtcp.option.tsval)" ] ||
		{ echo "SYN-ACK's TSecr is not the SYN's TSval"; return 1; }
	[ "$(col 3 xtcp.option.tsecr)" = "$(col 2 xtcp.option.tsval)" ] ||
		{ echo "ACK's TSecr is not the SYN-ACK's TSval"; return 1; }
}
check "timestamp option on every segment, each end echoing the other" ts_ok
# SACK is on by default too (the sack sysctl): SACK-permitted on both SYNs.
sack_perm_frames() {
	WIRESHARK_PLUGIN_DIR=/nonexistent tshark -n -X "lua_script:$lua" \
		-X "lua_script1:ipproto=$ipproto" -r "$tmp/all.pcap" \
		-Y xtcp.option.sack_perm -T fields -e frame.number 2>/dev/null |
		tr '\n' ' '
}
check "SACK-permitted option on SYN and SYN-ACK only" \
	test "$(sack_perm_frames)" = "1 2 "
check "every captured segment's checksum is good" test \
	"$(awk -F'\t' -v n="$n" 'NR <= n { print $16 }' "$tmp/fields" | sort -u)" = 1
check "a flipped payload byte: checksum bad" test "$(col $((n + 1)) xtcp.checksum.status)" = 0
check "a segment cut short: checksum unverified, length 5" test \
	"$(col $((n + 2)) xtcp.checksum.status) $(col $((n + 2)) xtcp.len)" = "2 5"
ksft_exit
