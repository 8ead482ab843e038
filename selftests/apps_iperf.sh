#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# iperf3 over xtcp through scripts/xtcp-run: apps.sh's iperf3 section (plain,
# -R, -P 4, -Z, each -J checked, with a TCP baseline), run as a test of its
# own so that neither script nears the per-test timeout in TCG.

export APPS_PARTS=iperf
. "$(dirname "$0")/apps.sh"
