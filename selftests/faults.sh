#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# /proc/net/xtcp/faults, the interface itself (no traffic needed): valid
# rules are listed back in canonical form with ids and counters, malformed
# lines fail with EINVAL and change nothing, "del" and "clear" work, the
# rule count is capped (ENOSPC), rules are per network namespace, and a
# namespace or module going away with rules installed is clean. Writing
# takes CAP_NET_ADMIN of the opener in the user namespace owning the
# network namespace (root of an unprivileged user namespace may write in
# its own), and add/delete loops switch the global hook on at most about
# once a second.
# Documentation/faults.md describes the grammar.
#
# Unloads and reloads xtcp.ko at the end; leaves it loaded.

. "$(dirname "$0")/lib.sh"

F=/proc/net/xtcp/faults

netns_create fa
netns_create fb

# fwrite NS STRING: write STRING (printf format, so \n, \t, \0 work) to the
# faults file of NS in one write(2); prints "OK" or the errno's name.
fwrite() {
	local out

	# dd gathers printf's output and writes it with a single write(2).
	# shellcheck disable=SC2059 # $2 is the format: \n, \t, \0 are wanted
	out=$(printf "$2" | nsenter --net="/run/netns/$1" \
		dd of=$F bs=4096 iflag=fullblock conv=notrunc status=none \
		2>&1) && {
		echo OK
		return
	}
	case $out in
	*"Invalid argument"*)		echo EINVAL ;;
	*"No space left on device"*)	echo ENOSPC ;;
	*"No such file or directory"*)	echo ENOENT ;;
	*"Permission denied"*)		echo EACCES ;;
	*"Operation not permitted"*)	echo EPERM ;;
	*)				echo "other: $out" ;;
	esac
}

# expect NS ERRNO STRING
expect() {
	local got

	got=$(fwrite "$1" "$3")
	[ "$got" = "$2" ] || {
		echo "# write '$3' in $1: got $got, want $2" >&2
		return 1
	}
}

# nsenter, not "ip netns exec" (a mount namespace and a sysfs remount per
# call, seconds each on the debug kernel): /proc/net is the caller's.
rules() { nsenter --net="/run/netns/$1" cat $F; }
nrules() { rules "$1" | wc -l; }
# The rule text of id $2 in $1, without id and counters.
rule_of() {
	rules "$1" | awk -v id="$2" '$1 == id {
		s = $2; for (i = 3; i <= NF; i++) if ($i !~ /^(seen|fired)=/) s = s " " $i
		print s }'
}

check "faults file exists" ip netns exec fa test -r $F
check "faults file is writable by root" ip netns exec fa test -w $F
check "no rules initially" test "$(nrules fa)" = 0

# Each valid line, then how it is listed back (canonical option order).
valid=(
	'out syn'			'out syn'
	'out syn count=2'		'out syn count=2'
	'in ack nth=3 port=5000'	'in ack port=5000 nth=3'
	'out fin skip=1 count=1'	'out fin skip=1 count=1'
	'in synack'			'in synack'
	'out rst port=65535'		'out rst port=65535'
	'in data skip=0'		'in data skip=0'
	'out any port=1'		'out any port=1'
	'in fin dport=80 sport=1024'	'in fin sport=1024 dport=80'
	'  out\tack \t count=4294967295 '	'out ack count=4294967295'
	'in rst skip=4294967295'	'in rst skip=4294967295'
	'out data nth=4294967295'	'out data nth=4294967295'
)
id=0
for ((i = 0; i < ${#valid[@]}; i += 2)); do
	id=$((id + 1))
	check "accepts '${valid[i]}'" expect fa OK "${valid[i]}\n"
	check "lists id $id as '${valid[i + 1]}'" \
		test "$(rule_of fa $id)" = "${valid[i + 1]}"
done
check "accepts a rule without trailing newline" expect fa OK 'in syn'
id=$((id + 1))
check "lists it" test "$(rule_of fa $id)" = "in syn"
check "every rule listed once" test "$(nrules fa)" = "$id"
check "ids ascend from 1" \
	test "$(rules fa | awk '{ printf "%s ", $1 }')" = "$(seq -s ' ' 1 $id) "
check "new rules show seen=0 fired=0" \
	test "$(rules fa | grep -c ' seen=0 fired=0$')" = "$id"
check "line format: ID DIR KIND [OPTS] seen=N fired=N" \
	test "$(rules fa | grep -cE \
		'^[0-9]+ (in|out) [a-z]+( [a-z]+=[0-9]+)* seen=[0-9]+ fired=[0-9]+$')" \
		= "$id"

# The listed form of a rule is itself a valid rule.
check "a listed rule can be written back" \
	expect fa OK "$(rule_of fa 3)\n"
id=$((id + 1))
check "and reads back the same" test "$(rule_of fa $id)" = "$(rule_of fa 3)"

before=$(rules fa)
long=$(printf 'out syn%*s' 260 '')
invalid=(
	'\n'			' \n'			'\t\n'
	'out'			'in\n'			'sideways syn'
	'out syns'		'OUT SYN'		'out SYN'
	'out syn-ack'		'out syn ack'		'syn out'
	'out syn port=0'	'out syn port=65536'	'out syn port=-1'
	'out syn port=abc'	'out syn port='		'out syn =5'
	'out syn port'		'out syn port=5000x'	'out syn port=0x50'
	'out syn port=+80'	'out syn port= 80'	'out syn port=99999999999'
	'out syn sport=0'	'out syn dport=70000'	'out syn count=0'
	'out syn nth=0'		'out syn count=-1'	'out syn skip=-1'
	'out syn count=4294967296'	'out syn skip=4294967296'
	'out syn nth=2 skip=1'	'out syn nth=2 count=1'	'out syn skip=1 nth=2'
	'out syn port=1 port=2'	'out syn count=1 count=1'
	'out syn bogus=1'	'out syn extra'		'out syn port=1 extra'
	'out syn\nin ack\n'	'out syn\n\n'		'out syn\0garbage'
	'out\rsyn'		'clear now'		'clear 1'
	'del'			'del x'			'del 0'
	'del 1 2'		'del -1'		'del 1x'
	"$long"
)
for line in "${invalid[@]}"; do
	check "rejects '$line' with EINVAL" expect fa EINVAL "$line"
done
check "rejected lines changed nothing" test "$(rules fa)" = "$before"

# del
check "del an existing id" expect fa OK 'del 2\n'
check "its rule is gone" test -z "$(rule_of fa 2)"
check "the others stay" test "$(nrules fa)" = $((id - 1))
check "del it again: ENOENT" expect fa ENOENT 'del 2'
check "del an id never used: ENOENT" expect fa ENOENT 'del 9999'
check "del without newline" expect fa OK 'del 1'
check "del with blanks" expect fa OK ' del\t3 \n'
check "three rules deleted" test "$(nrules fa)" = $((id - 3))

# clear
check "clear" expect fa OK 'clear\n'
check "no rules after clear" test "$(nrules fa)" = 0
check "clear on an empty list" expect fa OK 'clear'
check "a rule after clear" expect fa OK 'out syn\n'
check "ids are not reused after clear" \
	test "$(rules fa | awk '{ print $1 }')" = $((id + 1))
check "clear again" expect fa OK 'clear\n'

# The cap: 64 rules, the 65th is refused with ENOSPC.
ok=0
for ((i = 1; i <= 64; i++)); do
	[ "$(fwrite fa "in ack port=$i\n")" = OK ] && ok=$((ok + 1))
done
check "64 rules accepted" test "$ok" = 64
check "65th rule: ENOSPC" expect fa ENOSPC 'in ack port=65\n'
check "still 64 rules" test "$(nrules fa)" = 64
first=$(rules fa | awk 'NR == 1 { print $1 }')
check "del one of 64" expect fa OK "del $first\n"
check "then one more fits" expect fa OK 'in ack port=65\n'
check "and the next is refused again" expect fa ENOSPC 'in ack port=66\n'
check "a malformed rule at the cap is still EINVAL" expect fa EINVAL 'in ack port=0\n'
check "clear a full list" expect fa OK 'clear\n'
check "empty after clearing 64" test "$(nrules fa)" = 0

# Per namespace.
check "rule in fa" expect fa OK 'out syn count=1\n'
check "not visible in fb" test "$(nrules fb)" = 0
check "fb has its own ids" expect fb OK 'in fin\n'
check "fb's first rule is id 1" test "$(rule_of fb 1)" = "in fin"
check "fa has one rule" test "$(nrules fa)" = 1
check "clear in fb" expect fb OK 'clear\n'
check "leaves fa alone" test "$(nrules fa)" = 1
check "del in fb of fa's id: ENOENT" \
	expect fb ENOENT "del $(rules fa | awk '{ print $1 }')\n"
check "init namespace untouched" test "$(cat $F | wc -l)" = 0
check "fa cleared" expect fa OK 'clear\n'

# Only the namespace's root with CAP_NET_ADMIN may write (EACCES for
# others: the file is 0644; EPERM when opening without the capability);
# anyone may read.
unpriv() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
if command -v setpriv >/dev/null; then
	check_fail "unprivileged write refused" \
		unpriv bash -c "echo 'out syn' > $F"
	check "and it wrote nothing" test "$(cat $F | wc -l)" = 0
	check "unprivileged read allowed" unpriv cat $F
fi

# The opener's capability counts, not the writer's (file_ns_capable()):
# opening for writing without CAP_NET_ADMIN fails, so no descriptor can be
# handed to a writer that has it.
capwrite=$(selftest_tool xtcp_capwrite)
check "opened without CAP_NET_ADMIN, written with it: EPERM" \
	test "$(ip netns exec fa "$capwrite" $F 'out syn' 2>/dev/null)" = EPERM
check "and it wrote nothing" test "$(nrules fa)" = 0
check "opened and written with CAP_NET_ADMIN: OK" \
	expect fa OK 'out syn\n'
expect fa OK 'clear\n' >/dev/null

# Root of a user namespace owns the network namespaces it creates and may
# set rules there; root of a user namespace that does not own the network
# namespace may not. The file belongs to the namespace's root if that root
# is mapped when the namespace is made: after "unshare -Ur", not with
# "unshare -Urn" at once (then it stays the global root's, EACCES, as the
# kernel's own /proc/net entries do).
if command -v unshare >/dev/null && unpriv unshare -Ur unshare -n true 2>/dev/null; then
	check "unshare -Ur, unshare -n: the file belongs to the namespace's root" \
		unpriv unshare -Ur unshare -n bash -c "test \$(stat -c %u $F) = 0"
	check "and root of the new namespaces may set rules there" \
		unpriv unshare -Ur unshare -n bash -c \
		"echo 'out syn' > $F && echo 'in ack count=2' > $F && test \$(wc -l < $F) = 2"
	check "a nested user namespace's root may not (EPERM), and wrote nothing" \
		unpriv unshare -Ur unshare -n bash -c \
		"echo 'out syn' > $F &&
		 unshare -Ur bash -c \"echo 'in syn' > $F\" 2>&1 |
			grep -q 'Operation not permitted' &&
		 test \$(wc -l < $F) = 1"
	check "unshare -Urn at once: the file stays the global root's (EACCES)" \
		unpriv unshare -Urn bash -c \
		"bash -c \"echo 'out syn' > $F\" 2>&1 | grep -q 'Permission denied'"
else
	check_skip "root of a user namespace may set rules in its own" \
		"no unprivileged user namespaces"
fi

# The hook is a global static key; switching it patches kernel text. It
# goes off only a second after the last rule anywhere, so an add/delete
# loop switches it on at most 2 + (seconds the loop took) times, however
# fast; without the deferral it would be once per pair.
netns_create fd
check "FaultHookOn is counted" xtcp_counter FaultHookOn fd
# A second or so after the last rule the hook is off: a rule switches it on.
hook_switches_on() {
	local before after

	before=$(xtcp_counter FaultHookOn fd)
	sleep 2
	expect fd OK 'out syn\n' || return 1
	after=$(xtcp_counter FaultHookOn fd)
	expect fd OK 'clear\n'
	[ "$after" -gt "$before" ]
}
check "the hook goes off after the last rule, and on with the next" \
	wait_for 30 hook_switches_on
sleep 2		# off again, most likely: the loop's first rule switches it on
n=300
on0=$(xtcp_counter FaultHookOn fd)
t0=$(date +%s%N)
ip netns exec fd bash -c \
	"for i in \$(seq $n); do echo 'out syn' > $F; echo clear > $F; done"
t1=$(date +%s%N)
on=$(($(xtcp_counter FaultHookOn fd) - on0))
secs=$(((t1 - t0 + 999999999) / 1000000000))
echo "# $n add/delete pairs in ${secs} s switched the hook on $on times"
check "$n add/delete pairs: the hook switched on at most 2 + ${secs} times" \
	test "$on" -le $((2 + secs))
check "the loop was quick enough for that bound to mean something" \
	test $((2 + secs)) -lt $n
check "no rule left" test "$(nrules fd)" = 0

# Rules die with their namespace, and with the module.
netns_create fc
for r in 'out syn' 'in ack count=3' 'out fin nth=2'; do
	expect fc OK "$r\n"
done
check "a namespace with rules can be deleted" ip netns del fc
check "the other namespaces still work" expect fa OK 'out syn\n'
check "and list their rules" test "$(nrules fa)" = 1

if ko=$(xtcp_ko 2>/dev/null); then
	echo 'in ack' >$F
	check "unload with rules installed" rmmod xtcp
	check "reload" insmod "$ko"
	check "fresh module starts without rules" test "$(cat $F | wc -l)" = 0
	check "fa starts without rules after reload" test "$(nrules fa)" = 0
	check "fa takes rules after reload" expect fa OK 'out syn\n'
	expect fa OK 'clear\n' >/dev/null
	lsmod | grep -q '^xtcp ' || insmod "$ko"
else
	check_skip "unload with rules installed" "no xtcp.ko found"
fi

ksft_exit
