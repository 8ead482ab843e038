#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every scenario of "make demo SCENARIO=<name>": runs
# selftests/tools/xtcp-scenario NAME, which implements the scenario once
# (for the demo and for this test) and checks its outcome: states
# entered, errnos, counter deltas. One case per scenario; a scenario that
# cannot run here (exit 4, e.g. no netem) is a skip. The curl scenario
# runs curl and python3 through scripts/xtcp-run (XTCP_RUN), which needs
# the preload library built.

. "$(dirname "$0")/lib.sh"

tool=$(selftest_tool xtcp-scenario) || ksft_fail "xtcp-scenario not built"
[ -f "$KSFT_TOP/build/preload/libxtcp-preload.so" ] &&
	export XTCP_RUN=$KSFT_TOP/scripts/xtcp-run

for s in $("$tool" -l | cut -f1); do
	out=$("$tool" -q "$s" 2>&1)
	rc=$?
	case $rc in
	0) _ksft_result pass "scenario $s" ;;
	4) check_skip "scenario $s" "$(echo "$out" | grep SKIP | head -n 1)" ;;
	*) echo "$out" | sed 's/^/# /'
	   _ksft_result fail "scenario $s (exit $rc)" ;;
	esac
done
ksft_exit
