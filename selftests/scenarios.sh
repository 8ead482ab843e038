#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every scenario of "make demo SCENARIO=<name>": runs
# selftests/tools/xtcp-scenario NAME, which implements the scenario once
# (for the demo and for this test) and checks its outcome: states
# entered, errnos, counter deltas. One case per scenario; a scenario that
# cannot run here (exit 4, e.g. no netem) is a skip.

. "$(dirname "$0")/lib.sh"

tool=$(selftest_tool xtcp-scenario) || ksft_fail "xtcp-scenario not built"

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
