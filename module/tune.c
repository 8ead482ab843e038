// SPDX-License-Identifier: GPL-2.0
/*
 * Buffer autotuning and the "what limited the sender" clocks.
 *
 * A socket starts with the buffers of the rmem/wmem sysctls' middle values
 * and, unless SO_RCVBUF/SO_SNDBUF fixed them, grows them up to their
 * maxima from what the connection actually does:
 *
 * - the receive buffer, once per receiver RTT, to hold twice what the
 *   application read in the last RTT (plus room for a burst), so that the
 *   advertised window never limits a reader that keeps up
 *   (tcp_rcv_space_adjust() is the model). The receiver's RTT is the time
 *   the peer takes to fill one advertised window, the smallest seen
 *   (tcp_rcv_rtt_measure()'s estimate without timestamps);
 * - the send buffer, when new data is acknowledged and the congestion
 *   window is not full, to twice the congestion window in skb truesize
 *   (tcp_sndbuf_expand()), so that the sender can keep cwnd in flight and
 *   as much again queued.
 *
 * The clocks measure, while data waits to be sent or acknowledged, how long
 * the sender was held by the peer's window (data queued that the window
 * does not admit) or by its own send buffer (everything queued is sent,
 * the congestion window has room, the writer waits for buffer); the rest
 * of the busy time it was held by the congestion window, or sending.
 * TCP_INFO's tcpi_busy_time, tcpi_rwnd_limited and tcpi_sndbuf_limited
 * report them, as TCP's chronographs do.
 *
 * All functions run with the socket locked (owner or bh_lock_sock).
 */

#include <linux/log2.h>
#include <net/sock.h>

#include "compat.h"
#include "cong.h"
#include "netns.h"
#include "output.h"
#include "proto.h"
#include "tune.h"
#include "xtcp.h"

static int xtcp_rmem_max(const struct sock *sk)
{
	return READ_ONCE(xtcp_sk_pernet(sk)->sysctl.rmem[2]);
}

static int xtcp_wmem_max(const struct sock *sk)
{
	return READ_ONCE(xtcp_sk_pernet(sk)->sysctl.wmem[2]);
}

/* A new socket's buffers: the sysctls' defaults (tcp_init_sock()'s rule). */
void xtcp_buf_init_sock(struct sock *sk)
{
	const struct xtcp_sysctl *s = &xtcp_sk_pernet(sk)->sysctl;

	WRITE_ONCE(sk->sk_rcvbuf, READ_ONCE(s->rmem[1]));
	WRITE_ONCE(sk->sk_sndbuf, READ_ONCE(s->wmem[1]));
}

/*
 * The receive buffer the window scale must be able to announce: the
 * buffer itself if SO_RCVBUF fixed it, else the most autotuning or a
 * later SO_RCVBUF (up to rmem_max) may give it.
 */
u32 xtcp_rcvbuf_max(const struct sock *sk)
{
	u32 buf = READ_ONCE(sk->sk_rcvbuf);

	if (sk->sk_userlocks & SOCK_RCVBUF_LOCK)
		return buf;
	return max3(buf, (u32)xtcp_rmem_max(sk),
		    (u32)READ_ONCE(sysctl_rmem_max));
}

/* Skb memory one segment of @mss costs on the write queue. */
static u32 xtcp_per_mss_mem(u16 mss)
{
	return roundup_pow_of_two(SKB_TRUESIZE(XTCP_SKB_HEADROOM + mss));
}

/*
 * Room for twice the congestion window (at least the initial one), unless
 * SO_SNDBUF fixed the buffer, the protocol is short of memory, or the
 * congestion window is full anyway (more buffer would not send more).
 */
void xtcp_sndbuf_expand(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u64 want;
	u32 segs;

	if (sk->sk_userlocks & SOCK_SNDBUF_LOCK)
		return;
	if (sk_under_memory_pressure(sk) ||
	    sk_memory_allocated(sk) >= sk_prot_mem_limits(sk, 0))
		return;
	if (xs->snd_una != xs->snd_nxt && xtcp_in_flight(xs) >= xs->cwnd)
		return;
	segs = max_t(u32, XTCP_INIT_CWND, DIV_ROUND_UP(xs->cwnd, xs->mss));
	want = 2ULL * segs * xtcp_per_mss_mem(xs->mss);
	want = min_t(u64, want, xtcp_wmem_max(sk));
	if (want > READ_ONCE(sk->sk_sndbuf)) {
		WRITE_ONCE(sk->sk_sndbuf, want);
		if (sk->sk_socket &&
		    test_bit(SOCK_NOSPACE, &sk->sk_socket->flags))
			sk->sk_write_space(sk);
	}
}

/* The connection is synchronized: start measuring, size the send side. */
void xtcp_buf_init_transfer(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u64 now = xtcp_clock_us64(sk);

	xs->rcvq_space = min_t(u32, READ_ONCE(sk->sk_rcvbuf) / 2,
			       XTCP_INIT_CWND * (u32)xs->mss);
	xs->rcvq_seq = xs->copied_seq;
	xs->rcvq_time_us = now;
	xs->rcv_rtt_us = 0;
	xs->rcv_rtt_seq = xs->rcv_nxt + xs->rcv_wnd;
	xs->rcv_rtt_time_us = now;
	xtcp_sndbuf_expand(sk);
}

/*
 * In-order data arrived: when RCV.NXT passes the right edge announced
 * when the last measurement began, the peer took one "window time" to
 * send a window's worth. The smallest such time is the receiver's RTT
 * (a sender held by anything else only makes the sample longer).
 */
void xtcp_rcv_rtt_measure(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u64 now;
	u32 m;

	if (xtcp_before(xs->rcv_nxt, xs->rcv_rtt_seq))
		return;
	now = xtcp_clock_us64(sk);
	m = (u32)min_t(u64, now - xs->rcv_rtt_time_us, U32_MAX);
	m = max(m, 1U);
	if (!xs->rcv_rtt_us || m < xs->rcv_rtt_us)
		xs->rcv_rtt_us = m;
	xs->rcv_rtt_seq = xs->rcv_nxt + max_t(u32, xs->rcv_wnd, xs->mss);
	xs->rcv_rtt_time_us = now;
}

/*
 * After recvmsg() consumed data: once per receiver RTT, compare what the
 * application read in that RTT with the last period's; if it grew, size
 * the buffer so that the window covers twice as much plus a burst of 16
 * segments, more if the rate is still climbing. The window the buffer
 * allows is half of it (xtcp_select_window()), which also covers the
 * skbs' overhead.
 */
void xtcp_rcv_space_adjust(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 rtt = xs->rcv_rtt_us ? : xs->srtt_us >> 3;
	u64 now, win, grow;
	u32 copied;

	xtcp_clock_refresh(sk);
	now = xtcp_clock_us64(sk);
	if (!rtt || now - xs->rcvq_time_us < rtt)
		return;
	copied = xs->copied_seq - xs->rcvq_seq;
	if (copied > xs->rcvq_space &&
	    !(sk->sk_userlocks & SOCK_RCVBUF_LOCK)) {
		win = 2ULL * copied + 16ULL * xs->mss;
		if (xs->rcvq_space) {
			grow = div_u64(win * (copied - xs->rcvq_space),
				       xs->rcvq_space);
			win += 2 * grow;
		}
		win = min_t(u64, 2 * win, xtcp_rmem_max(sk));
		if (win > READ_ONCE(sk->sk_rcvbuf))
			WRITE_ONCE(sk->sk_rcvbuf, win);
		xs->rcvq_space = copied;
	}
	xs->rcvq_seq = xs->copied_seq;
	xs->rcvq_time_us = now;
}

/* ---- the sender's clocks ---- */

/* From the socket's clock: the callers run in a push or a segment's event. */
static void xtcp_chrono_set(struct sock *sk, u8 type)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u64 now = xtcp_clock_us64(sk);

	if (xs->chrono_type == type)
		return;
	if (xs->chrono_type)
		xs->chrono_us[xs->chrono_type - 1] += now - xs->chrono_start_us;
	xs->chrono_start_us = now;
	xs->chrono_type = type;
}

/* The sender is held by @type (or busy): a higher type takes precedence. */
void xtcp_chrono_start(struct sock *sk, u8 type)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (type > xs->chrono_type)
		xtcp_chrono_set(sk, type);
}

/* @type no longer holds the sender: busy, or idle if nothing is queued. */
void xtcp_chrono_stop(struct sock *sk, u8 type)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (skb_queue_empty(&sk->sk_write_queue))
		xtcp_chrono_set(sk, XTCP_CHRONO_NONE);
	else if (type == xs->chrono_type)
		xtcp_chrono_set(sk, XTCP_CHRONO_BUSY);
}

/* The clocks up to now, in us: busy (all three), rwnd- and sndbuf-held. */
void xtcp_chrono_read(const struct sock *sk, u64 *busy, u64 *rwnd,
		      u64 *sndbuf)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u64 t[XTCP_CHRONO_MAX];
	int i;

	for (i = 0; i < XTCP_CHRONO_MAX; i++)
		t[i] = xs->chrono_us[i];
	if (xs->chrono_type)
		t[xs->chrono_type - 1] += div_u64(ktime_get_ns(),
						  NSEC_PER_USEC) -
					  xs->chrono_start_us;
	*busy = t[0] + t[1] + t[2];
	*rwnd = t[XTCP_CHRONO_RWND - 1];
	*sndbuf = t[XTCP_CHRONO_SNDBUF - 1];
}
