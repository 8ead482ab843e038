#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/run, the benchmark driver, can tell: with a stand-in measuring
# program (BENCH_BIN) whose samples are known, the rounds run in ABBA
# order, the reported ratio is the median of the paired ratios with their
# min-max (not the ratio of the medians), targets are judged, and a
# missing or unparsable sample fails the run and marks its row MISSING.
# Then a smoke run (BENCH_QUICK=1) of RR and bulk over loopback with the
# real xtcp_bench: every sample parsed, bulk byte counts checked. It is
# kept small: under TCG on a busy host every sample costs seconds beyond
# its own (the memory metric is left to make bench).
#
# It runs in a network namespace of its own, so the init namespace's
# sysctls stay as they were; bench/run restores the global ones it sets.

. "$(dirname "$0")/lib.sh"

top=$KSFT_TOP
run=$top/bench/run
real=$top/build/bench/xtcp_bench
tmp=$(mktemp -d)
trap 'ksft_cleanup; rm -rf "$tmp"' EXIT

# The stand-in: the Nth sample of PROTO prints rate = the Nth word of
# FAKE_XTCP or FAKE_TCP; FAKE_FAIL="PROTO N" makes that sample fail,
# FAKE_BAD="PROTO N" makes it print no number. Every call is logged.
cat >"$tmp/fake" <<'EOF'
#!/bin/bash
for a; do case $a in xtcp|tcp) p=$a; break ;; esac; done
echo "$p" >>"$FAKE_LOG"
n=$(grep -cx "$p" "$FAKE_LOG")
[ "${FAKE_FAIL:-}" = "$p $n" ] && exit 1
[ "${FAKE_BAD:-}" = "$p $n" ] && { echo "rate=-"; exit 0; }
if [ "$p" = xtcp ]; then set -- $FAKE_XTCP; else set -- $FAKE_TCP; fi
v=${!n}
more=
if [ -n "${FAKE_LIM:-}" ]; then	# bulk's sender clocks: rwndlim varies
	r=(0 0.100 0.600 0.500) a=(0 30 10 20.5)
	if [ "$p" = xtcp ]; then more=" rwndlim=${r[n]} sndbuflim=0.050 acks=${a[n]}"
	else more=" rwndlim=0.000 sndbuflim=0.250 acks=4.25"; fi
fi
echo "rate=$v units=$((v * 10)) secs=1.00 cpu=1.00 idle=0.250$more"
EOF
chmod +x "$tmp/fake"

fake_run() {	# ONLY [VAR=VALUE...]: bench/run with the stand-in
	: >"$tmp/log"
	unshare -n env BENCH_BIN="$tmp/fake" FAKE_LOG="$tmp/log" \
		BENCH_ROUNDS=3 BENCH_SECS=1 BENCH_ONLY="$1" "${@:2}" "$run" \
		>"$tmp/out" 2>"$tmp/err"
}
has() { grep -qF -- "$1" "$tmp/out" || { cat "$tmp/out"; return 1; }; }

export FAKE_XTCP="100 300 200" FAKE_TCP="100 100 400"
check "a run with every sample succeeds" fake_run rr-lo
echo "# $SECONDS s so far"
check "rounds alternate ABBA" \
	test "$(tr '\n' ' ' <"$tmp/log")" = "xtcp tcp tcp xtcp xtcp tcp "
# Pairs 1, 3, 0.5: median 1.00 (the medians' ratio would be 2.00).
check "the ratio is the median of the paired ratios, with min-max" \
	has "| rr-lo | RR loopback, 1 byte each way (trans/s) | 200 | 100 | 1.00 | 0.50-3.00 | 25% / 25% | >= 1.0 | yes |"

export FAKE_XTCP="100 100 100" FAKE_TCP="200 200 200"
fake_run bulk-lo-1
check "a missed target says no" \
	has "| bulk-lo-1 | bulk loopback, 1 stream (Mbit/s) | 100 | 200 | 0.50 | 0.50-0.50 | 25% / 25% | >= 0.9 | no |"
# CPU per unit: 1 s per 1000 vs 2000 units, so xtcp costs twice TCP's.
check "CPU per byte from the same samples" \
	has "| bulk-lo-1-cpu | CPU per byte, loopback, 1 stream (ns) | 1e+06 | 5e+05 | 2.00 | 2.00-2.00 | - | <= 1.1 | no |"

fake_run bulk-lo-1 FAKE_LIM=1
# xtcp's receive-window shares 10, 60, 50 %: median 50 (mean 40); its
# ACKs per MB 30, 10, 20.5: median 20.5 (mean 20.2).
check "bulk notes the senders' limits and ACK rates, medians of the rounds" \
	has "note: bulk-lo-1: senders held by the receive window / by the send buffer (median share of their busy time): xtcp 50% / 5%, TCP 0% / 25%; ACKs per MB received: xtcp 20.5, TCP 4.25"

check_fail "a failed sample fails the run" fake_run rr-lo FAKE_FAIL="tcp 2"
check "its row says MISSING" has "| rr-lo | RR loopback, 1 byte each way (trans/s) | MISSING"
check "and the run says why" has "FAILED: missing samples"
check_fail "an unparsable sample fails the run" fake_run crr-veth FAKE_BAD="xtcp 3"
check "its row says MISSING" has "| crr-veth | CRR veth (conn/s) | MISSING"

# The real program, briefly: numbers in every row, byte counts checked.
if [ -x "$real" ]; then
	real_run() {
		unshare -n env BENCH_QUICK=1 BENCH_ONLY="rr-lo bulk-lo-1" \
			"$run" >"$tmp/out" 2>"$tmp/err"
	}
	check "a quick run of the real benchmark succeeds" real_run
	sed 's/^/# /' "$tmp/out"
	echo "# $SECONDS s so far"
	for k in rr-lo bulk-lo-1 bulk-lo-1-cpu; do
		check "$k: numbers and a ratio" grep -qE \
			"^\| $k \| [^|]+ \| [0-9.e+]+ \| [0-9.e+]+ \| [0-9.]+ \| [0-9.]+-[0-9.]+ \|" \
			"$tmp/out"
	done
	check "bulk-lo-1: the senders' limits in shares, nonzero ACK rates" grep -qE \
		"^note: bulk-lo-1: senders held .* xtcp [0-9]+% / [0-9]+%, TCP [0-9]+% / [0-9]+%; ACKs per MB received: xtcp [1-9][0-9.]*(e[-+][0-9]+)?, TCP [1-9][0-9.]*(e[-+][0-9]+)?$" \
		"$tmp/out"
	check "bulk checked its byte counts" \
		test "$(grep -c 'bytes sent and received' "$tmp/err")" = 4
else
	check_skip "the real benchmark" "$real not built (make selftests)"
fi

ksft_exit
