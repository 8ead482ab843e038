#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/xtcp-stat: its deltas match the counters. In a fresh namespace a
# crafted SYN to a closed port (python3 raw socket) draws a RST, which
# loopback delivers to xtcp too (no socket: no answer), so exactly InSegs
# +2, InNoSocket +2, OutSegs +1, OutRsts +1 since a saved snapshot;
# the absolute view and -n agree with /proc/net/xtcp/snmp; -d over a
# quiet interval prints no counter; -s prints its table.

. "$(dirname "$0")/lib.sh"

stat=$KSFT_TOP/scripts/xtcp-stat
ns=xtstat$$
netns_create "$ns" || ksft_fail "cannot create netns"
tmp=$(mktemp -d)
trap 'ksft_cleanup; rm -rf "$tmp"' EXIT
proto=$(cat /sys/module/xtcp/parameters/ipproto)

# One SYN from 127.0.0.1:40000 to 127.0.0.1:9 with a correct checksum.
syn() {
	ip netns exec "$ns" python3 - "$proto" <<'PY'
import socket, struct, sys
proto = int(sys.argv[1])
src = dst = socket.inet_aton("127.0.0.1")
hdr = struct.pack("!HHIIBBHHH", 40000, 9, 1000, 0, 5 << 4, 0x02, 65535, 0, 0)
pseudo = src + dst + struct.pack("!BBH", 0, proto, len(hdr))
data = pseudo + hdr
s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
while s >> 16:
    s = (s & 0xffff) + (s >> 16)
hdr = hdr[:16] + struct.pack("!H", ~s & 0xffff) + hdr[18:]
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)
r.sendto(hdr, ("127.0.0.1", 0))
PY
}

delta_is() {	# NAME VALUE
	"$stat" -n "$ns" --since "$tmp/snap" | awk -v n="$1" -v v="$2" '
		$1 == n { found = 1; if ($2 + 0 != v) { print n " is " $2 ", expected " v; bad = 1 } }
		END { if (!found) print n " missing"; exit bad || !found }'
}

check "--save a snapshot" "$stat" -n "$ns" --save "$tmp/snap"
check "a crafted SYN is sent" syn
check "wait for the RST to come back" wait_for 10 bash -c "[ \"\$(ip netns exec $ns cat /proc/net/xtcp/snmp | awk '\$1 == \"InSegs\" { print \$2 }')\" = 2 ]"
for c in InSegs:2 InNoSocket:2 OutSegs:1 OutRsts:1; do
	check "--since: ${c%:*} +${c#*:}" delta_is "${c%:*}" "${c#*:}"
done
check "--since: nothing else changed" \
	bash -c "[ \$('$stat' -n $ns --since '$tmp/snap' | wc -l) = 4 ]"
same() {
	diff -u <(ip netns exec "$ns" awk '$2 != 0 { print $1, $2 }' /proc/net/xtcp/snmp) \
		<("$stat" -n "$ns" | awk 'NF == 2 { print $1, $2 }')
}
check "absolute view equals /proc/net/xtcp/snmp" same
check "-d over a quiet interval shows no counter" \
	bash -c "[ \$('$stat' -n $ns -d 1 -c 1 | grep -vc '^#') = 0 ]"
sockets_header() {
	"$stat" -n "$ns" -s | head -n 1 | grep -q '^State *Recv-Q *Send-Q *Local *Peer'
}
check "-s prints the ss-like header" sockets_header
ksft_exit
