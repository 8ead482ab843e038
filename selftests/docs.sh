#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The documentation that lists code cannot drift from it: every file in
# module/, every counter and every sysctl appears in Documentation/, and
# nothing documented there is gone from the code (scripts/check-docs).
# The checker is also run on altered copies, to show that it notices.

. "$(dirname "$0")/lib.sh"

top=$KSFT_TOP
checker=$top/scripts/check-docs
tmp=$(mktemp -d)
trap 'ksft_cleanup; rm -rf "$tmp"' EXIT

check "module.md and procfs.md match the code" "$checker" "$top"

# A copy of the tree parts the checker reads, to alter.
copy() {
	rm -rf "$tmp/t"
	mkdir -p "$tmp/t"
	cp -r "$top/module" "$top/Documentation" "$tmp/t/"
}

copy
touch "$tmp/t/module/undocumented.c"
says() {	# TREE TEXT: the checker's output on TREE contains TEXT
	"$checker" "$1" | grep -qF -- "$2"
}
check "the checker names the undocumented file" says "$tmp/t" \
	"module files: 'undocumented.c' is in the code but not documented"
check_fail "an undocumented module file fails the check" "$checker" "$tmp/t"

copy
rm "$tmp/t/module/isn.c"
check_fail "a documented file that is gone fails the check" \
	"$checker" "$tmp/t"

copy
echo 'XTCP_MIB(NEW_THING,		"NewThing")' >>"$tmp/t/module/mib_list.h"
check_fail "an undocumented counter fails the check" "$checker" "$tmp/t"

copy
sed -i 's/^\(\s*\)XTCP_SYSCTL(rfc1337,/\1XTCP_SYSCTL(rfc1337, x)\n\1XTCP_SYSCTL(new_knob,/' \
	"$tmp/t/module/sysctl.c"
check_fail "an undocumented sysctl fails the check" "$checker" "$tmp/t"

ksft_exit
