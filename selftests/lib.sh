#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/lib.sh - helpers for the shell selftests.  Source it first:
#
#	. "$(dirname "$0")/lib.sh"
#
# A test is a list of cases; each prints one TAP line, and ksft_exit ends
# the test with the plan, a "# Totals:" line like kselftest_harness.h's
# and the exit status run_tests expects (0 pass, 1 fail, 4 all skipped):
#
#	check DESC CMD [ARGS...]	case passes if CMD succeeds
#	check_fail DESC CMD [ARGS...]	case passes if CMD fails
#	check_skip DESC REASON		case skipped
#	ksft_fail MSG			fail the test now (counts one failure)
#	ksft_skip REASON		skip the rest of the test
#	ksft_exit			end the test
#
# CMD runs in the test's shell (functions work); its output is shown,
# prefixed with "# ", only when the case fails.  Other helpers:
#
#	netns_create NAME		fresh netns with lo up, deleted at exit
#	veth_pair NS1 NS2 ADDR1 ADDR2	veth "v-NS2" in NS1 <-> "v-NS1" in NS2,
#					addresses (default /24) set, links up
#	xtcp_counter NAME [NS]		value of NAME in /proc/net/xtcp/snmp
#	wait_for SECS CMD [ARGS...]	poll CMD every 0.1 s until it succeeds
#					or SECS pass (also: wait_for 'CMD' SECS)
#	xtcp_ko				path of xtcp.ko for the running kernel
#	selftest_tool NAME		path of the built selftests/tools/NAME
#
# Tests that set their own EXIT trap should call ksft_cleanup in it.

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

KSFT_TOP=${KSFT_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
KSFT_BIN=${KSFT_BIN:-$KSFT_TOP/build/selftests}

_ksft_n=0
_ksft_pass=0
_ksft_fail=0
_ksft_skip=0
_ksft_netns=()

echo "TAP version 13"

_ksft_result() {	# STATUS DESC [DIRECTIVE]
	_ksft_n=$((_ksft_n + 1))
	case $1 in
	pass)	_ksft_pass=$((_ksft_pass + 1))
		echo "ok $_ksft_n $2" ;;
	fail)	_ksft_fail=$((_ksft_fail + 1))
		echo "not ok $_ksft_n $2" ;;
	skip)	_ksft_skip=$((_ksft_skip + 1))
		echo "ok $_ksft_n $2 # SKIP ${3:-}" ;;
	esac
}

_ksft_run() {	# WANT DESC CMD...
	local want=$1 desc=$2 out rc
	shift 2
	out=$(mktemp "${TMPDIR:-/tmp}/ksft.XXXXXX")
	"$@" >"$out" 2>&1
	rc=$?
	if { [ "$want" = ok ] && [ $rc -eq 0 ]; } ||
	   { [ "$want" = fail ] && [ $rc -ne 0 ]; }; then
		_ksft_result pass "$desc"
	else
		sed 's/^/# /' "$out"
		echo "# '$*' exited $rc, expected $([ "$want" = ok ] && echo 0 || echo non-zero)"
		_ksft_result fail "$desc"
	fi
	rm -f "$out"
	return 0
}

check()      { _ksft_run ok "$@"; }
check_fail() { _ksft_run fail "$@"; }
check_skip() { _ksft_result skip "$1" "${2:-}"; }

ksft_exit() {
	echo "1..$_ksft_n"
	echo "# Totals: pass:$_ksft_pass fail:$_ksft_fail xfail:0 xpass:0 skip:$_ksft_skip error:0"
	if [ $_ksft_fail -gt 0 ]; then
		exit $KSFT_FAIL
	elif [ $_ksft_pass -eq 0 ] && [ $_ksft_skip -gt 0 ]; then
		exit $KSFT_SKIP
	fi
	exit $KSFT_PASS
}

ksft_fail() {
	echo "# $*"
	_ksft_result fail "${*:-aborted}"
	ksft_exit
}

ksft_skip() {
	if [ $_ksft_n -eq 0 ]; then
		echo "1..0 # SKIP $*"
		exit $KSFT_SKIP
	fi
	_ksft_result skip "rest of $(basename "$0")" "$*"
	ksft_exit
}

ksft_cleanup() {
	local ns
	for ns in "${_ksft_netns[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	_ksft_netns=()
}
trap ksft_cleanup EXIT

netns_create() {
	ip netns del "$1" 2>/dev/null
	ip netns add "$1" || return 1
	_ksft_netns+=("$1")
	ip -n "$1" link set lo up
}

veth_pair() {	# NS1 NS2 ADDR1 ADDR2
	local a1=$3 a2=$4
	case $a1 in */*) ;; *) a1=$a1/24 ;; esac
	case $a2 in */*) ;; *) a2=$a2/24 ;; esac
	ip -n "$1" link add name "v-$2" type veth peer name "v-$1" netns "$2" &&
	ip -n "$1" addr add "$a1" dev "v-$2" &&
	ip -n "$2" addr add "$a2" dev "v-$1" &&
	ip -n "$1" link set "v-$2" up &&
	ip -n "$2" link set "v-$1" up
}

xtcp_counter() {	# NAME [NS]
	local f=/proc/net/xtcp/snmp
	if [ -n "${2:-}" ]; then
		ip netns exec "$2" cat "$f"
	else
		cat "$f"
	fi | awk -v n="$1" '$1 == n { print $2; found = 1 } END { exit !found }'
}

wait_for() {	# SECS CMD [ARGS...]  or  'CMD' SECS
	local secs deadline
	if [ $# -eq 2 ] && [[ $2 =~ ^[0-9]+$ ]] && ! [[ $1 =~ ^[0-9]+$ ]]; then
		set -- "$2" eval "$1"
	fi
	secs=$1
	shift
	deadline=$((SECONDS + secs))
	until "$@"; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.1
	done
}

xtcp_ko() {
	local r s
	if [ -n "${XTCP_KO:-}" ] && [ -f "$XTCP_KO" ]; then
		echo "$XTCP_KO"
		return 0
	fi
	r=$(uname -r)
	for s in $("$KSFT_TOP/scripts/kernels"); do
		if [[ $r =~ ^$("$KSFT_TOP/scripts/kernels" "$s" pattern)$ ]] &&
		   [ -f "$KSFT_TOP/build/$s/xtcp.ko" ]; then
			echo "$KSFT_TOP/build/$s/xtcp.ko"
			return 0
		fi
	done
	if [ -f "$KSFT_TOP/build/$r/xtcp.ko" ]; then
		echo "$KSFT_TOP/build/$r/xtcp.ko"
		return 0
	fi
	echo "xtcp_ko: no xtcp.ko built for $r" >&2
	return 1
}

selftest_tool() {
	if [ -x "$KSFT_BIN/tools/$1" ]; then
		echo "$KSFT_BIN/tools/$1"
	else
		echo "selftest_tool: $KSFT_BIN/tools/$1 not built" >&2
		return 1
	fi
}
