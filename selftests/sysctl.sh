#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# /proc/sys/net/xtcp: every tunable exists per namespace with its
# documented default, accepts values in range, rejects the rest with
# EINVAL, and one namespace's settings do not leak into another's.

. "$(dirname "$0")/lib.sh"

S=/proc/sys/net/xtcp

# name default min max (max "-" means INT_MAX)
tunables="
rto_init_ms	1000	1	600000
rto_min_ms	200	1	600000
rto_max_ms	120000	1	600000
syn_retries	6	1	127
synack_retries	5	1	255
msl_ms		30000	1	600000
fin_timeout_ms	60000	1	600000
max_tw_buckets	262144	0	2147483647
max_syn_backlog	1024	1	65535
rfc1337		0	0	1
timestamps	1	0	1
sack		1	0	1
rack		1	0	1
tlp		1	0	1
tw_reuse	2	0	2
delack_ms	40	1	1000
keepalive_time_ms	7200000	1	2147483647
keepalive_intvl_ms	75000	1	2147483647
keepalive_probes	9	1	127
orphan_retries	8	1	127
challenge_ack_limit	1000	1	2147483647
invalid_ratelimit_ms	500	0	600000
syncookies	1	0	2
"

netns_create a
netns_create b

# Writes in a subshell so that a failing write is seen as an exit status.
# nsenter, not "ip netns exec": /proc/sys/net shows the network namespace
# of the process that looks, and ip's private mount namespace and sysfs
# remount per call cost seconds on the debug kernel.
write() { nsenter --net="/run/netns/$1" sh -c "echo $3 > $S/$2" 2>/dev/null; }
read_in() { nsenter --net="/run/netns/$1" cat "$S/$2"; }

while read -r name dflt min max; do
	[ -n "$name" ] || continue
	check "$name default" test "$(read_in a "$name")" = "$dflt"
	check "$name accepts min $min" write a "$name" "$min"
	check "$name reads back $min" test "$(read_in a "$name")" = "$min"
	check "$name accepts max $max" write a "$name" "$max"
	check_fail "$name rejects $((min - 1))" write a "$name" $((min - 1))
	check_fail "$name rejects $((max + 1))" write a "$name" $((max + 1))
	check_fail "$name rejects garbage" write a "$name" bogus
	check "$name unchanged by rejected writes" \
		test "$(read_in a "$name")" = "$max"
	check "$name untouched in the other netns" \
		test "$(read_in b "$name")" = "$dflt"
done <<<"$tunables"

# The buffer sizes, as tcp_rmem/tcp_wmem: min default max, in order.
norm() { tr -s '\t ' ' '; }
for name in rmem wmem; do
	case $name in
	rmem) dflt="4096 131072 6291456" ;;
	wmem) dflt="4096 16384 4194304" ;;
	esac
	check "$name default" test "$(read_in a $name | norm)" = "$dflt"
	check "$name accepts three sizes in order" write a $name "'8192 65536 1048576'"
	check "$name reads them back" \
		test "$(read_in a $name | norm)" = "8192 65536 1048576"
	check_fail "$name rejects min > default" write a $name "'65536 8192 1048576'"
	check_fail "$name rejects default > max" write a $name "'8192 1048576 65536'"
	check_fail "$name rejects a size below 4096" write a $name "'4095 65536 1048576'"
	check_fail "$name rejects a size above INT_MAX/4" \
		write a $name "'8192 65536 536870912'"
	check "$name unchanged by rejected writes" \
		test "$(read_in a $name | norm)" = "8192 65536 1048576"
	check "$name untouched in the other netns" \
		test "$(read_in b $name | norm)" = "$dflt"
done

# The global ones, as tcp_mem and tcp_max_orphans: the initial namespace
# only, in pages and sockets, defaults from the machine's memory.
for name in mem max_orphans; do
	check "$name exists globally" test -r "$S/$name"
	check_fail "$name absent in a namespace" \
		nsenter --net=/run/netns/a test -e "$S/$name"
done
check "mem holds three limits" \
	test "$(wc -w <"$S/mem")" = 3
old_mem=$(cat "$S/mem")
check "mem accepts a write" sh -c "echo '64 96 128' > $S/mem"
check "mem reads back" test "$(cat "$S/mem" | tr -s '\t ' ' ')" = "64 96 128"
echo "$old_mem" > "$S/mem"
check_fail "max_orphans rejects -1" sh -c "echo -1 > $S/max_orphans 2>/dev/null"

ksft_exit
