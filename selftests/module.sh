#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Module lifecycle: parameters, what a load creates and an unload removes,
# refusal to unload under an open socket, and clean failures when the
# family or IP protocol number is taken.
#
# Unloads and reloads xtcp.ko; leaves it loaded with default parameters.

. "$(dirname "$0")/lib.sh"

ko=$(xtcp_ko) || ksft_fail "cannot find xtcp.ko for $(uname -r)"
hold=$(selftest_tool xtcp_hold) || ksft_fail "xtcp_hold not built"

reload() {
	rmmod xtcp 2>/dev/null
	insmod "$ko" "$@"
}

# Whatever happens, leave a loaded module behind for the tests that follow.
trap 'ksft_cleanup; lsmod | grep -q "^xtcp " || insmod "$ko"' EXIT

check "default family parameter" \
	test "$(cat /sys/module/xtcp/parameters/family)" = 22
check "default ipproto parameter" \
	test "$(cat /sys/module/xtcp/parameters/ipproto)" = 253

for f in snmp states transitions; do
	check "/proc/net/xtcp/$f exists" test -r /proc/net/xtcp/$f
done
check "/proc/sys/net/xtcp exists" test -d /proc/sys/net/xtcp

# A fresh namespace gets its own files, and loses them with the module.
netns_create ns1
check "procfs in a new netns" ip netns exec ns1 test -r /proc/net/xtcp/snmp
check "sysctl in a new netns" \
	ip netns exec ns1 test -w /proc/sys/net/xtcp/syn_retries

# An open socket pins the module.
check_fail "rmmod refused while a socket is open" "$hold" rmmod xtcp
check "module still loaded" grep -q '^xtcp ' /proc/modules
check "rmmod succeeds once the socket is closed" rmmod xtcp
check "procfs gone after unload" test ! -e /proc/net/xtcp
check "sysctl gone after unload" test ! -e /proc/sys/net/xtcp
check "netns procfs gone after unload" \
	ip netns exec ns1 test ! -e /proc/net/xtcp

# Collisions and bad parameters fail the load and say why.
dmesg -C
check_fail "ipproto=6 (TCP) refused" insmod "$ko" ipproto=6
check "ipproto collision explained" \
	grep -q 'IP protocol 6 is already registered' <(dmesg)
check_fail "family=2 (AF_INET) refused" insmod "$ko" family=2
check "family collision explained" \
	grep -q 'address family 2 is already registered' <(dmesg)
check_fail "family=0 refused" insmod "$ko" family=0
check_fail "ipproto=256 refused" insmod "$ko" ipproto=256
check "out-of-range parameter explained" \
	grep -q 'ipproto=256 is out of range' <(dmesg)
check "no module left after failed loads" test ! -e /sys/module/xtcp

# Other numbers work and are reported.
check "load with family=25 ipproto=254" insmod "$ko" family=25 ipproto=254
check "family parameter reported" \
	test "$(cat /sys/module/xtcp/parameters/family)" = 25
check "socket of the chosen family" "$hold" true
check "procfs present in the existing netns" \
	ip netns exec ns1 test -r /proc/net/xtcp/snmp

# Repeated load/unload with a namespace alive leaks nothing visible.
for i in 1 2 3; do
	reload || break
done
check "load/unload cycles" grep -q '^xtcp ' /proc/modules
check "default parameters after reload" reload

ksft_exit
