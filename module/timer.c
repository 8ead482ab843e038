// SPDX-License-Identifier: GPL-2.0
/*
 * The full socket's one hrtimer (soft mode: callbacks run in softirq).
 *
 * Reference rule: an armed timer holds one socket reference. Arming takes
 * one unless it cancelled a pending expiry (whose reference it inherits);
 * the callback drops its own at the end. Stopping drops the reference only
 * if it cancelled a pending expiry; a callback already running notices by
 * itself, because it re-checks under the socket lock:
 *  - timer_kind NONE: stopped meanwhile;
 *  - the timer queued again: re-armed meanwhile, this run is stale.
 * A callback that finds the socket owned by user context leaves the work
 * to release_sock() (proto->release_cb), keeping a reference for it.
 */

#include <linux/hrtimer.h>
#include <net/sock.h>

#include "compat.h"
#include "netns.h"
#include "output.h"
#include "timer.h"
#include "trace.h"
#include "xtcp.h"

/* Data and FIN give up after this many retransmissions, as TCP's retries2. */
#define XTCP_DATA_RETRIES	15

static const struct xtcp_sysctl *xtcp_sysctl(const struct sock *sk)
{
	return &xtcp_pernet(sock_net(sk))->sysctl;
}

static u32 xtcp_rto_base_us(const struct sock *sk)
{
	const struct xtcp_sysctl *sc = xtcp_sysctl(sk);
	int ms = clamp(READ_ONCE(sc->rto_init_ms), READ_ONCE(sc->rto_min_ms),
		       READ_ONCE(sc->rto_max_ms));

	return ms * USEC_PER_MSEC;
}

static void xtcp_timer_arm(struct sock *sk, u8 kind, u64 us)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->timer_kind = kind;
	xs->timer_expires = ktime_add_us(ktime_get(), us);
	if (hrtimer_try_to_cancel(&xs->timer) != 1)
		sock_hold(sk);
	hrtimer_start(&xs->timer, xs->timer_expires, HRTIMER_MODE_ABS_SOFT);
}

void xtcp_timer_stop(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->timer_kind = XTCP_TIMER_NONE;
	if (hrtimer_try_to_cancel(&xs->timer) == 1)
		__sock_put(sk);
}

s64 xtcp_timer_expires_ms(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->timer_kind == XTCP_TIMER_NONE)
		return 0;
	return ktime_ms_delta(xs->timer_expires, ktime_get());
}

static void xtcp_timer_fail(struct sock *sk)
{
	WRITE_ONCE(sk->sk_err, sk->sk_err_soft ? : ETIMEDOUT);
	xtcp_done(sk);
	if (!sock_flag(sk, SOCK_DEAD))
		sk_error_report(sk);
}

static void xtcp_backoff(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 max = READ_ONCE(xtcp_sysctl(sk)->rto_max_ms) * USEC_PER_MSEC;

	xs->retransmits++;
	xs->backoff++;
	xs->rto_us = min(xs->rto_us * 2, max);
	xtcp_trace_retransmit(sk);
	xtcp_timer_arm(sk, XTCP_TIMER_RETRANS, xs->rto_us);
}

static void xtcp_retransmit_timer(struct sock *sk)
{
	const struct xtcp_sysctl *sc = xtcp_sysctl(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	int limit;

	switch (sk->sk_state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		if (sk->sk_state == TCP_SYN_SENT)
			limit = xs->syn_retries ? : READ_ONCE(sc->syn_retries);
		else
			limit = READ_ONCE(sc->synack_retries);
		if (xs->retransmits >= limit) {
			xtcp_timer_fail(sk);
			return;
		}
		xtcp_send_syn(sk);
		XTCP_INC_STATS(net, RETRANS_SEGS);
		if (sk->sk_state == TCP_SYN_SENT)
			XTCP_INC_STATS(net, SYN_RETRANS);
		else
			XTCP_INC_STATS(net, SYNACK_RETRANS);
		break;
	case TCP_CLOSE:
	case TCP_LISTEN:
		return;
	default:
		if (xs->snd_una == xs->snd_nxt)
			return;
		if (xs->retransmits >= XTCP_DATA_RETRIES) {
			xtcp_timer_fail(sk);
			return;
		}
		xtcp_retransmit_head(sk);
		break;
	}
	xtcp_backoff(sk);
}

/* An orphan waited fin_timeout for the peer's FIN: give up, as TCP does. */
static void xtcp_fin_wait2_timer(struct sock *sk)
{
	if (sk->sk_state != TCP_FIN_WAIT2)
		return;
	xtcp_send_active_reset(sk);
	xtcp_done(sk);
}

static void xtcp_timer_handler(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u8 kind = xs->timer_kind;

	if (kind == XTCP_TIMER_NONE || hrtimer_is_queued(&xs->timer))
		return;
	xs->timer_kind = XTCP_TIMER_NONE;

	switch (kind) {
	case XTCP_TIMER_RETRANS:
		xtcp_retransmit_timer(sk);
		break;
	case XTCP_TIMER_PROBE:
		xtcp_probe_window(sk);
		break;
	case XTCP_TIMER_FIN_WAIT2:
		xtcp_fin_wait2_timer(sk);
		break;
	}
}

static enum hrtimer_restart xtcp_timer_fn(struct hrtimer *timer)
{
	struct xtcp_sock *xs = container_of(timer, struct xtcp_sock, timer);
	struct sock *sk = &xs->inet.sk;

	bh_lock_sock(sk);
	if (sock_owned_by_user(sk)) {
		if (!test_and_set_bit(XTCP_DEFER_TIMER, &xs->deferred))
			sock_hold(sk);
	} else {
		xtcp_timer_handler(sk);
	}
	bh_unlock_sock(sk);
	sock_put(sk);
	return HRTIMER_NORESTART;
}

/* From release_sock(), with the socket's spinlock held. */
void xtcp_timer_release_cb(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (test_and_clear_bit(XTCP_DEFER_TIMER, &xs->deferred)) {
		xtcp_timer_handler(sk);
		/* release_sock()'s caller still holds a reference. */
		__sock_put(sk);
	}
}

void xtcp_timer_init(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xtcp_hrtimer_setup(&xs->timer, xtcp_timer_fn, CLOCK_MONOTONIC,
			   HRTIMER_MODE_ABS_SOFT);
	xs->timer_kind = XTCP_TIMER_NONE;
	xs->rto_us = xtcp_rto_base_us(sk);
}

/* ---- events ---- */

void xtcp_timer_syn_sent(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->retransmits = 0;
	xs->backoff = 0;
	xs->rto_us = xtcp_rto_base_us(sk);
	xtcp_timer_arm(sk, XTCP_TIMER_RETRANS, xs->rto_us);
}

void xtcp_timer_data_sent(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->timer_kind != XTCP_TIMER_RETRANS)
		xtcp_timer_arm(sk, XTCP_TIMER_RETRANS, xs->rto_us);
}

void xtcp_timer_window_closed(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->timer_kind == XTCP_TIMER_NONE)
		xtcp_timer_arm(sk, XTCP_TIMER_PROBE, xs->rto_us);
}

/* New data was acknowledged: forget the backoff, restart or stop. */
void xtcp_timer_ack_received(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->retransmits = 0;
	xs->backoff = 0;
	xs->rto_us = xtcp_rto_base_us(sk);
	if (xs->snd_una != xs->snd_nxt)
		xtcp_timer_arm(sk, XTCP_TIMER_RETRANS, xs->rto_us);
	else if (xs->timer_kind == XTCP_TIMER_RETRANS ||
		 xs->timer_kind == XTCP_TIMER_PROBE)
		xtcp_timer_stop(sk);
}

/* An orphan in FIN_WAIT_2 waits XTCP_LINGER2 or fin_timeout_ms. */
void xtcp_timer_fin_wait2(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u64 ms;

	if (xs->linger2 < 0)
		ms = 0;
	else if (xs->linger2 > 0)
		ms = (u64)xs->linger2 * MSEC_PER_SEC;
	else
		ms = READ_ONCE(xtcp_sysctl(sk)->fin_timeout_ms);
	xtcp_timer_arm(sk, XTCP_TIMER_FIN_WAIT2, ms * USEC_PER_MSEC);
}
