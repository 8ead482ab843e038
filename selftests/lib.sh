#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/lib.sh - helpers for the shell selftests.  Source it first:
#
#	. "$(dirname "$0")/lib.sh"
#
# A test is a list of cases; each prints one TAP line, and ksft_exit ends
# the test with the plan, a "# Totals:" line like kselftest_harness.h's
# and the exit status the kselftest runner expects (0 pass, 1 fail, 4 all skipped):
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
# Every test starts with xtcp loaded (it is reloaded if an earlier test was
# killed with the module out) and deletes its namespaces at exit, also when
# the runner's timeout kills it (SIGTERM).
#
# Tests that set their own EXIT trap should call ksft_cleanup in it.

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

# Where things are.  Run from the source tree (lib.mk's run_tests, or
# linked into a kernel tree as net/xtcp) KSFT_TOP is lib.sh's parent;
# installed (make install, run_kselftest.sh) it is the tree named in
# xtcp-top, which the build writes next to the test binaries.  KSFT_BIN
# holds the built binaries: next to lib.sh when built or installed there,
# else build/selftests.
_ksft_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
if [ -z "${KSFT_TOP:-}" ]; then
	if [ -f "$_ksft_dir/../scripts/kernels" ]; then
		KSFT_TOP=$(dirname "$_ksft_dir")
	elif [ -r "$_ksft_dir/xtcp-top" ]; then
		KSFT_TOP=$(cat "$_ksft_dir/xtcp-top")
	fi
fi
if [ -z "${KSFT_BIN:-}" ]; then
	KSFT_BIN=$KSFT_TOP/build/selftests
	[ ! -e "$_ksft_dir/xtcp-top" ] || KSFT_BIN=$_ksft_dir
fi

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
	local _want=$1 _desc=$2 _out _rc
	shift 2
	_out=$(mktemp "${TMPDIR:-/tmp}/ksft.XXXXXX")
	"$@" >"$_out" 2>&1
	_rc=$?
	if { [ "$_want" = ok ] && [ $_rc -eq 0 ]; } ||
	   { [ "$_want" = fail ] && [ $_rc -ne 0 ]; }; then
		_ksft_result pass "$_desc"
	else
		sed 's/^/# /' "$_out"
		echo "# '$*' exited $_rc, expected $([ "$_want" = ok ] && echo 0 || echo non-zero)"
		_ksft_result fail "$_desc"
	fi
	rm -f "$_out"
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
# The runner's timeout sends SIGTERM: clean up then too.
trap 'exit $KSFT_FAIL' TERM

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
	# installed with the kernel's modules (make install, dkms)
	if r=$(modinfo -n xtcp 2>/dev/null) && [ -f "$r" ]; then
		echo "$r"
		return 0
	fi
	echo "xtcp_ko: no xtcp.ko built for $(uname -r)" >&2
	return 1
}

selftest_tool() {	# installed, the tools sit beside the tests
	local f
	for f in "$KSFT_BIN/tools/$1" "$KSFT_BIN/$1"; do
		if [ -x "$f" ]; then
			echo "$f"
			return 0
		fi
	done
	echo "selftest_tool: $KSFT_BIN/tools/$1 not built" >&2
	return 1
}

# A test killed by the runner's timeout may have left xtcp unloaded: every
# test starts with it loaded, when its xtcp.ko can be found.
if [ ! -d /sys/module/xtcp ] && _ksft_ko=$(xtcp_ko 2>/dev/null); then
	echo "# lib.sh: xtcp not loaded; insmod $_ksft_ko"
	insmod "$_ksft_ko" || echo "# lib.sh: insmod failed"
fi
