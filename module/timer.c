// SPDX-License-Identifier: GPL-2.0
/*
 * The full socket's two hrtimers (soft mode: callbacks run in softirq):
 * the main timer, whose timer_kind says what it is doing (retransmission,
 * tail loss probe, zero-window probe, FIN_WAIT_2, keepalive), and the
 * delayed-ACK timer.
 *
 * Reference rule: a pending expiry holds one socket reference, recorded by
 * the timer's ref bit (XTCP_F_TIMER_REF, XTCP_F_DELACK_REF), so that
 * however often a timer is re-armed before it fires, one expiry owns
 * exactly one reference. The bit and the reference change only under the
 * socket lock (the owner, or the spinlock when nobody owns the socket), so
 * they are serialized with every arm and stop:
 *  - arming takes the reference if the bit was clear;
 *  - stopping drops it if it removed a queued expiry;
 *  - a handled expiry drops it unless the handler queued the timer again,
 *    in which case the new expiry inherits it.
 * hrtimer_try_to_cancel() alone cannot tell: it answers -1 for a callback
 * that is running even when the timer has been queued again meanwhile.
 *
 * Arming and stopping on the data path are lazy, as cheap as TCP's
 * timer-wheel re-arms: the deadline lives in timer_expires (delack_expires)
 * and an expiry already queued no later than it stays; an ACK that stops
 * the timer leaves the expiry queued. Sending a segment and taking its ACK
 * then touch no hrtimer at all, for as long as the earlier expiry has not
 * come. Only the socket leaving the tables (xtcp_timer_stop()) cancels.
 * A callback re-checks under the socket lock, so a stale or early run is
 * harmless:
 *  - timer_kind NONE (no ACK pending): stopped meanwhile;
 *  - the timer queued again: re-armed meanwhile, this run is stale;
 *  - before the deadline: armed lazily; it is queued for the deadline.
 * A callback that finds the socket owned by user context leaves the work,
 * and the reference, to release_sock() (proto->release_cb).
 */

#include <linux/hrtimer.h>
#include <net/sock.h>

#include "compat.h"
#include "cong.h"
#include "mib.h"
#include "netns.h"
#include "output.h"
#include "timer.h"
#include "trace.h"
#include "xtcp.h"

static const struct xtcp_sysctl *xtcp_sysctl(const struct sock *sk)
{
	return &xtcp_sk_pernet(sk)->sysctl;
}

/*
 * RFC 6298: rto_init_ms until the first RTT sample, then
 * SRTT + max(G, 4 * RTTVAR); both within [rto_min_ms, rto_max_ms].
 */
static u32 xtcp_rto_base_us(const struct sock *sk)
{
	const struct xtcp_sysctl *sc = xtcp_sysctl(sk);
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u64 lo = (u64)READ_ONCE(sc->rto_min_ms) * USEC_PER_MSEC;
	u64 hi = (u64)READ_ONCE(sc->rto_max_ms) * USEC_PER_MSEC;
	u64 us;

	if (xs->srtt_us)
		us = (xs->srtt_us >> 3) +
		     max_t(u32, xs->rttvar_us, XTCP_RTO_GRANULARITY_US);
	else
		us = (u64)READ_ONCE(sc->rto_init_ms) * USEC_PER_MSEC;
	return clamp_t(u64, us, lo, max(lo, hi));
}

/*
 * @base_us doubled @backoff times, at most XTCP_BACKOFF_MAX times, and
 * never above rto_max_ms: the one backoff rule of sockets and requests.
 */
u32 xtcp_rto_backoff_us(const struct xtcp_sysctl *sc, u32 base_us, u8 backoff)
{
	u64 max = (u64)READ_ONCE(sc->rto_max_ms) * USEC_PER_MSEC;

	return min((u64)base_us << min_t(u8, backoff, XTCP_BACKOFF_MAX), max);
}

/* Remove a queued expiry of @timer and the reference it held. */
static void xtcp_timer_cancel(struct sock *sk, struct hrtimer *timer,
			      int ref_bit)
{
	if (hrtimer_try_to_cancel(timer) == 1 &&
	    test_and_clear_bit(ref_bit, &xtcp_sk(sk)->flags))
		__sock_put(sk);
}

/*
 * An expiry of @timer was handled: its reference goes unless the handler
 * queued the timer again. True if the caller must drop it.
 */
static bool xtcp_timer_unref(struct sock *sk, struct hrtimer *timer,
			     int ref_bit)
{
	return !hrtimer_is_queued(timer) &&
	       test_and_clear_bit(ref_bit, &xtcp_sk(sk)->flags);
}

/*
 * Queue @timer for @expires, unless an expiry no later is queued already:
 * that one finds the deadline ahead and queues the timer again.
 */
static void xtcp_timer_queue(struct sock *sk, struct hrtimer *timer,
			     ktime_t expires, int ref_bit)
{
	if (hrtimer_is_queued(timer) &&
	    ktime_compare(hrtimer_get_expires(timer), expires) <= 0)
		return;
	if (!test_and_set_bit(ref_bit, &xtcp_sk(sk)->flags))
		sock_hold(sk);
	hrtimer_start(timer, expires, HRTIMER_MODE_ABS_SOFT);
}

/*
 * An expiry of @timer ran before @expires, the deadline (armed lazily):
 * queue it for the deadline, which keeps the pending reference. True if
 * it did.
 */
static bool xtcp_timer_early(struct sock *sk, struct hrtimer *timer,
			     ktime_t expires)
{
	xtcp_clock_refresh(sk);
	if (ktime_compare(ns_to_ktime(xtcp_sk(sk)->clock_ns), expires) >= 0)
		return false;
	hrtimer_start(timer, expires, HRTIMER_MODE_ABS_SOFT);
	return true;
}

/* From the socket's clock: callers run within an event (xtcp.h). */
static void xtcp_timer_arm(struct sock *sk, u8 kind, u64 us)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->timer_kind = kind;
	xs->timer_expires = ktime_add_us(ns_to_ktime(xs->clock_ns), us);
	xtcp_timer_queue(sk, &xs->timer, xs->timer_expires, XTCP_F_TIMER_REF);
}

static void xtcp_timer_stop_main(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->timer_kind = XTCP_TIMER_NONE;
	xtcp_timer_cancel(sk, &xs->timer, XTCP_F_TIMER_REF);
}

/* Both timers, queued expiries cancelled; the socket leaves the tables. */
void xtcp_timer_stop(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xtcp_timer_stop_main(sk);
	xs->ack_pending = 0;
	xtcp_timer_cancel(sk, &xs->delack_timer, XTCP_F_DELACK_REF);
}

s64 xtcp_timer_expires_ms(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->timer_kind == XTCP_TIMER_NONE)
		return 0;
	return ktime_ms_delta(xs->timer_expires, ktime_get());
}

static void xtcp_timer_idle(struct sock *sk);

/* Retransmissions or zero-window probes an orphan gets. */
static int xtcp_orphan_retries(const struct sock *sk)
{
	return READ_ONCE(xtcp_sysctl(sk)->orphan_retries);
}

static void xtcp_timer_fail(struct sock *sk)
{
	WRITE_ONCE(sk->sk_err, sk->sk_err_soft ? : ETIMEDOUT);
	xtcp_done(sk);
	if (!sock_flag(sk, SOCK_DEAD))
		sk_error_report(sk);
}

/*
 * XTCP_USER_TIMEOUT: ms since what is outstanding was first sent (or the
 * first probe), 0 if the option is off; *@left: what remains of it.
 */
static bool xtcp_user_timed_out(const struct sock *sk, u64 *left_us)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u32 limit = READ_ONCE(xs->user_timeout_ms), elapsed;

	if (!limit || !xs->rtx_stamp)
		return false;
	elapsed = jiffies_to_msecs(jiffies - xs->rtx_stamp);
	if (left_us)
		*left_us = elapsed < limit ?
			   (u64)(limit - elapsed) * USEC_PER_MSEC : 0;
	return elapsed >= limit;
}

/* Start the clock XTCP_USER_TIMEOUT measures (0 means stopped). */
static void xtcp_rtx_stamp(struct xtcp_sock *xs)
{
	xs->rtx_stamp = jiffies ? : 1;
}

/*
 * Arm the retransmission timer for the current RTO, but never to sleep
 * past the user timeout (TCP clamps the same way).
 */
static void xtcp_timer_arm_rto(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u64 us = xs->rto_us, left = us;

	if (xs->user_timeout_ms && !xtcp_user_timed_out(sk, &left))
		us = clamp_t(u64, left, 1, us);
	xtcp_timer_arm(sk, XTCP_TIMER_RETRANS, us);
}

static void xtcp_backoff(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->retransmits++;
	xs->backoff++;
	xs->rto_us = xtcp_rto_backoff_us(xtcp_sysctl(sk), xs->rto_us, 1);
	xtcp_trace_retransmit(sk);
	xtcp_timer_arm_rto(sk);
}

static bool xtcp_keepalive_state(const struct sock *sk)
{
	return sock_flag(sk, SOCK_KEEPOPEN) &&
	       ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
				       TCPF_FIN_WAIT2));
}

static u32 xtcp_keepidle_ms(const struct sock *sk)
{
	return xtcp_sk(sk)->keepidle_ms ? :
	       READ_ONCE(xtcp_sysctl(sk)->keepalive_time_ms);
}

static u32 xtcp_keepintvl_ms(const struct sock *sk)
{
	return xtcp_sk(sk)->keepintvl_ms ? :
	       READ_ONCE(xtcp_sysctl(sk)->keepalive_intvl_ms);
}

/* Nothing outstanding: the timer is free for keepalive, if enabled. */
static void xtcp_timer_idle(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 idle, when = xtcp_keepidle_ms(sk);

	if (!xtcp_keepalive_state(sk) || xs->send_head ||
	    xs->snd_una != xs->snd_nxt) {
		if (xs->timer_kind == XTCP_TIMER_KEEPALIVE)
			xtcp_timer_stop_main(sk);
		return;
	}
	if (xs->timer_kind != XTCP_TIMER_NONE &&
	    xs->timer_kind != XTCP_TIMER_KEEPALIVE)
		return;
	idle = jiffies_to_msecs(jiffies - xs->rcv_tstamp);
	if (xs->probes)
		when = xtcp_keepintvl_ms(sk);
	else if (idle < when)
		when -= idle;
	xtcp_timer_arm(sk, XTCP_TIMER_KEEPALIVE, (u64)when * USEC_PER_MSEC);
}

/* RFC 9122 keepalive: probe an idle peer, give up after keepcnt probes. */
static void xtcp_keepalive_timer(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	u32 idle, cnt;

	if (!xtcp_keepalive_state(sk) || xs->send_head ||
	    xs->snd_una != xs->snd_nxt)
		return;
	idle = jiffies_to_msecs(jiffies - xs->rcv_tstamp);
	if (idle < xtcp_keepidle_ms(sk) && !xs->probes) {
		xtcp_timer_idle(sk);
		return;
	}
	cnt = xs->keepcnt ? : READ_ONCE(xtcp_sysctl(sk)->keepalive_probes);
	/* With XTCP_USER_TIMEOUT, the silence decides, not the count. */
	if (xs->user_timeout_ms ?
	    xs->probes && idle >= xs->user_timeout_ms : xs->probes >= cnt) {
		XTCP_INC_STATS(net, KEEPALIVE_TIMEOUTS);
		xtcp_send_active_reset(sk);
		xtcp_timer_fail(sk);
		return;
	}
	xtcp_send_probe(sk);
	xs->probes++;
	XTCP_INC_STATS(net, KEEPALIVE_PROBES);
	xtcp_timer_arm(sk, XTCP_TIMER_KEEPALIVE,
		       (u64)xtcp_keepintvl_ms(sk) * USEC_PER_MSEC);
}

/* Zero window: probe with exponential backoff while the peer answers. */
static void xtcp_persist_timer(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xs->send_head || xs->snd_una != xs->snd_nxt ||
	    ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN)))
		return;
	/*
	 * A peer that answers every probe keeps a connection open for ever
	 * (RFC 9293 3.8.6.1), but not an orphan: nobody will write to it,
	 * and its data and FIN may never be taken. It gets orphan_retries
	 * probes (the backoff counts them; answers do not reset it), as
	 * tcp_probe_timer() gives tcp_orphan_retries.
	 */
	if (sock_flag(sk, SOCK_DEAD)) {
		if (xtcp_out_of_resources(sk))
			return;
		if (xs->backoff >= xtcp_orphan_retries(sk)) {
			XTCP_INC_STATS(sock_net(sk), ORPHAN_ABORTS);
			xtcp_timer_fail(sk);
			return;
		}
	}
	if (xs->probes >= XTCP_DATA_RETRIES || xtcp_user_timed_out(sk, NULL)) {
		xtcp_timer_fail(sk);
		return;
	}
	if (!xtcp_probe_window(sk))
		return;		/* data went out; the RTO timer runs */
	xs->probes++;
	xs->backoff++;
	xtcp_timer_arm(sk, XTCP_TIMER_PROBE,
		       xtcp_rto_backoff_us(xtcp_sysctl(sk), xs->rto_us,
					   xs->backoff));
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
		limit = XTCP_DATA_RETRIES;
		if (sock_flag(sk, SOCK_DEAD)) {
			if (xtcp_out_of_resources(sk))
				return;
			limit = xtcp_orphan_retries(sk);
		}
		if (xs->user_timeout_ms ? xtcp_user_timed_out(sk, NULL) :
		    xs->retransmits >= limit) {
			if (sock_flag(sk, SOCK_DEAD))
				XTCP_INC_STATS(net, ORPHAN_ABORTS);
			xtcp_timer_fail(sk);
			return;
		}
		xtcp_cong_rto(sk);
		if (xs->sack_ok)
			xtcp_sack_retransmit(sk, true);
		else
			xtcp_retransmit_head(sk);
		break;
	}
	xtcp_backoff(sk);
}

/*
 * The loss probe timer (RFC 8985 7): 2 SRTT passed without an ACK of new
 * data while nothing was known lost. One probe, then the RTO as before.
 */
static void xtcp_tlp_timer(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->snd_una == xs->snd_nxt)
		return;
	if (xs->ca_state == XTCP_CA_OPEN && !xs->tlp_out &&
	    xtcp_send_loss_probe(sk)) {
		xs->tlp_out = 1;
		XTCP_INC_STATS(sock_net(sk), TLP_PROBES);
	}
	xtcp_timer_arm_rto(sk);
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

	if (kind == XTCP_TIMER_NONE || hrtimer_is_queued(&xs->timer) ||
	    xtcp_timer_early(sk, &xs->timer, xs->timer_expires))
		return;
	xs->timer_kind = XTCP_TIMER_NONE;

	switch (kind) {
	case XTCP_TIMER_RETRANS:
		xtcp_retransmit_timer(sk);
		break;
	case XTCP_TIMER_TLP:
		xtcp_tlp_timer(sk);
		break;
	case XTCP_TIMER_PROBE:
		xtcp_persist_timer(sk);
		break;
	case XTCP_TIMER_FIN_WAIT2:
		xtcp_fin_wait2_timer(sk);
		break;
	case XTCP_TIMER_KEEPALIVE:
		xtcp_keepalive_timer(sk);
		break;
	}
	if (xs->timer_kind == XTCP_TIMER_NONE &&
	    !((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN)))
		xtcp_timer_idle(sk);
}

/*
 * A socket timer fired; its pending reference keeps the socket alive. Run
 * @handler now, or, while the owner holds the socket, leave it (and the
 * reference) to release_sock() by setting @defer_bit.
 */
static enum hrtimer_restart xtcp_timer_fire(struct sock *sk,
					    struct hrtimer *timer,
					    int ref_bit, int defer_bit,
					    void (*handler)(struct sock *sk))
{
	bool put = false;

	bh_lock_sock(sk);
	if (sock_owned_by_user(sk)) {
		set_bit(defer_bit, &xtcp_sk(sk)->flags);
	} else {
		handler(sk);
		put = xtcp_timer_unref(sk, timer, ref_bit);
	}
	bh_unlock_sock(sk);
	if (put)
		sock_put(sk);
	return HRTIMER_NORESTART;
}

static enum hrtimer_restart xtcp_timer_fn(struct hrtimer *timer)
{
	struct xtcp_sock *xs = container_of(timer, struct xtcp_sock, timer);

	return xtcp_timer_fire(&xs->inet.sk, timer, XTCP_F_TIMER_REF,
			       XTCP_F_TIMER_DEFERRED, xtcp_timer_handler);
}

/* The delayed ACK is due, unless an ACK went out or it was re-armed. */
static void xtcp_delack_handler(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xs->ack_pending || hrtimer_is_queued(&xs->delack_timer) ||
	    xtcp_timer_early(sk, &xs->delack_timer, xs->delack_expires))
		return;
	xs->ack_pending = 0;
	if ((1 << sk->sk_state) &
	    (TCPF_CLOSE | TCPF_LISTEN | TCPF_SYN_SENT | TCPF_SYN_RECV))
		return;
	XTCP_INC_STATS(sock_net(sk), DELAYED_ACKS);
	xtcp_send_ack(sk);
}

static enum hrtimer_restart xtcp_delack_fn(struct hrtimer *timer)
{
	struct xtcp_sock *xs = container_of(timer, struct xtcp_sock,
					    delack_timer);

	return xtcp_timer_fire(&xs->inet.sk, timer, XTCP_F_DELACK_REF,
			       XTCP_F_DELACK_DEFERRED, xtcp_delack_handler);
}

/* From release_sock(), with the socket's spinlock held. */
void xtcp_timer_release_cb(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	/* release_sock()'s caller still holds a reference: __sock_put(). */
	if (test_and_clear_bit(XTCP_F_TIMER_DEFERRED, &xs->flags)) {
		xtcp_timer_handler(sk);
		if (xtcp_timer_unref(sk, &xs->timer, XTCP_F_TIMER_REF))
			__sock_put(sk);
	}
	if (test_and_clear_bit(XTCP_F_DELACK_DEFERRED, &xs->flags)) {
		xtcp_delack_handler(sk);
		if (xtcp_timer_unref(sk, &xs->delack_timer, XTCP_F_DELACK_REF))
			__sock_put(sk);
	}
}

void xtcp_timer_init(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xtcp_hrtimer_setup(&xs->timer, xtcp_timer_fn, CLOCK_MONOTONIC,
			   HRTIMER_MODE_ABS_SOFT);
	xs->timer_kind = XTCP_TIMER_NONE;
	xtcp_hrtimer_setup(&xs->delack_timer, xtcp_delack_fn, CLOCK_MONOTONIC,
			   HRTIMER_MODE_ABS_SOFT);
	xtcp_clock_refresh(sk);
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

/*
 * RFC 8985 7.2: a loss probe is scheduled instead of the RTO while the
 * connection uses SACK, nothing is known lost, and no probe awaits its
 * ACK; its timeout is 2 SRTT, plus the worst delayed ACK when one
 * segment is out (its ACK may wait for a second), at least
 * XTCP_TLP_MIN_US and never later than the RTO.
 */
static void xtcp_timer_arm_rtx(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u64 pto;

	if (!xs->sack_ok || xs->ca_state != XTCP_CA_OPEN || xs->tlp_out ||
	    !xs->srtt_us || !READ_ONCE(xtcp_sysctl(sk)->tlp)) {
		xtcp_timer_arm(sk, XTCP_TIMER_RETRANS, xs->rto_us);
		return;
	}
	pto = (u64)(xs->srtt_us >> 3) * 2;
	if (xs->snd_nxt - xs->snd_una <= xs->mss)
		pto += XTCP_TLP_DELACK_US;
	pto = clamp_t(u64, pto, XTCP_TLP_MIN_US, xs->rto_us);
	xtcp_timer_arm(sk, XTCP_TIMER_TLP, pto);
}

void xtcp_timer_data_sent(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->timer_kind != XTCP_TIMER_RETRANS &&
	    xs->timer_kind != XTCP_TIMER_TLP) {
		xtcp_rtx_stamp(xs);
		xtcp_timer_arm_rtx(sk);
	}
}

void xtcp_timer_window_closed(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->timer_kind == XTCP_TIMER_NONE ||
	    xs->timer_kind == XTCP_TIMER_KEEPALIVE) {
		xs->backoff = 0;
		xtcp_rtx_stamp(xs);
		xtcp_timer_arm(sk, XTCP_TIMER_PROBE, xs->rto_us);
	}
}

/* New data was acknowledged: forget the backoff, restart or stop. */
void xtcp_timer_ack_received(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->retransmits = 0;
	xs->backoff = 0;
	xs->tlp_out = 0;
	xs->rto_us = xtcp_rto_base_us(sk);
	if (xs->snd_una != xs->snd_nxt) {
		xtcp_rtx_stamp(xs);
		xtcp_timer_arm_rtx(sk);
		return;
	}
	xs->rtx_stamp = 0;
	/* Stopped lazily: the expiry stays queued (see the top). */
	if (xs->timer_kind == XTCP_TIMER_RETRANS ||
	    xs->timer_kind == XTCP_TIMER_TLP ||
	    xs->timer_kind == XTCP_TIMER_PROBE)
		xs->timer_kind = XTCP_TIMER_NONE;
	xtcp_timer_idle(sk);
}

/* A segment arrived: the peer is alive (keepalive, persist). */
void xtcp_timer_segment_in(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->rcv_tstamp = jiffies;
	if (xs->probes && xs->timer_kind == XTCP_TIMER_KEEPALIVE) {
		xs->probes = 0;
		xtcp_timer_idle(sk);
	}
	xs->probes = 0;
}

/* SO_KEEPALIVE or the XTCP_KEEP* options changed. */
void xtcp_timer_keepalive_changed(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xtcp_clock_refresh(sk);
	if (xs->timer_kind == XTCP_TIMER_KEEPALIVE)
		xtcp_timer_stop_main(sk);
	if (xs->timer_kind == XTCP_TIMER_NONE)
		xtcp_timer_idle(sk);
}

/* The socket is unconnected again: forget the path's RTT and backoff. */
void xtcp_timer_reset(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xtcp_timer_stop(sk);
	xs->retransmits = 0;
	xs->backoff = 0;
	xs->srtt_us = 0;
	xs->rttvar_us = 0;
	xs->min_rtt_us = 0;
	xs->tlp_out = 0;
}

/* A new connection is synchronized and idle. */
void xtcp_timer_established(struct sock *sk)
{
	xtcp_sk(sk)->rcv_tstamp = jiffies;
	xtcp_timer_idle(sk);
}

/*
 * An RTT measurement (RFC 6298 2.2-2.3), in us, with alpha 1/8, beta 1/4:
 * srtt_us holds 8 x SRTT, rttvar_us 4 x RTTVAR.
 */
void xtcp_timer_rtt_sample(struct sock *sk, u32 m)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	s64 err;

	m = max(m, 1U);
	XTCP_SK_INC_STATS(sk, RTT_SAMPLES);
	/*
	 * The lowest sample, renewed once it is XTCP_MIN_RTT_WIN old: a path
	 * that got longer is believed after that long, as on TCP.
	 */
	if (!xs->min_rtt_us || m <= xs->min_rtt_us ||
	    (u32)jiffies - xs->min_rtt_stamp > XTCP_MIN_RTT_WIN) {
		xs->min_rtt_us = m;
		xs->min_rtt_stamp = jiffies;
	}
	if (!xs->srtt_us) {
		xs->srtt_us = m << 3;
		xs->rttvar_us = m << 1;
	} else {
		err = (s64)m - (xs->srtt_us >> 3);
		xs->srtt_us = (s64)xs->srtt_us + err;
		if (err < 0)
			err = -err;
		xs->rttvar_us = (s64)xs->rttvar_us + err - (xs->rttvar_us >> 2);
	}
	xs->rto_us = xtcp_rto_backoff_us(xtcp_sysctl(sk), xtcp_rto_base_us(sk),
					 xs->backoff);
}

/* An ACK is owed: send it within delack_ms unless one goes out first. */
void xtcp_timer_delack(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 ms = READ_ONCE(xtcp_sysctl(sk)->delack_ms);

	if (xs->ack_pending)
		return;
	xs->ack_pending = 1;
	xs->delack_expires = ktime_add_ms(ns_to_ktime(xs->clock_ns), ms);
	xtcp_timer_queue(sk, &xs->delack_timer, xs->delack_expires,
			 XTCP_F_DELACK_REF);
}

/* An ACK went out: the delayed one is not needed (its expiry may stay). */
void xtcp_timer_ack_sent(struct sock *sk)
{
	xtcp_sk(sk)->ack_pending = 0;
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
	xtcp_clock_refresh(sk);
	xtcp_timer_arm(sk, XTCP_TIMER_FIN_WAIT2, ms * USEC_PER_MSEC);
}
