// SPDX-License-Identifier: GPL-2.0
/*
 * The state machine of a full socket (RFC 9293 3.10.7, with RFC 5961's
 * RST/SYN/ACK checks). Runs with the socket locked: in softirq under
 * bh_lock_sock, or from the backlog when the owner releases the socket.
 * Every function here consumes the skb it is given.
 *
 * Data is accepted in order only: anything else is dropped and answered
 * with a duplicate ACK; the peer's retransmission fills the gap.
 */

#include <linux/skbuff.h>
#include <net/sock.h>

#include "netns.h"
#include "output.h"
#include "proto.h"
#include "timer.h"
#include "timewait.h"
#include "xtcp.h"

/* Half the free receive buffer: queued skbs cost more than their data. */
u32 xtcp_rcv_window(const struct sock *sk)
{
	int space = READ_ONCE(sk->sk_rcvbuf) - atomic_read(&sk->sk_rmem_alloc);

	if (space <= 0)
		return 0;
	return min_t(u32, space / 2, XTCP_WND_MAX);
}

bool xtcp_challenge_ack_allowed(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);
	unsigned long now = jiffies / HZ;

	/* A racy reset at a second boundary only grants a few more. */
	if (READ_ONCE(xn->challenge_stamp) != now) {
		WRITE_ONCE(xn->challenge_stamp, now);
		atomic_set(&xn->challenge_count, 0);
	}
	return atomic_inc_return(&xn->challenge_count) <= XTCP_CHALLENGE_PER_SEC;
}

static void xtcp_wake_connected(struct sock *sk)
{
	if (!sock_flag(sk, SOCK_DEAD)) {
		sk->sk_state_change(sk);
		sk_wake_async(sk, SOCK_WAKE_IO, POLL_OUT);
	}
}

/* SYN_SENT (RFC 9293 3.10.7.3). */
static void xtcp_rcv_syn_sent(struct sock *sk, struct sk_buff *skb)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);

	if (cb->flags & XTCP_FLAG_ACK) {
		/* Only SND.UNA < SEG.ACK =< SND.NXT acknowledges our SYN. */
		if (!xtcp_after(cb->ack_seq, xs->snd_una) ||
		    xtcp_after(cb->ack_seq, xs->snd_nxt)) {
			xtcp_send_reset_reply(net, skb);
			goto drop;
		}
	}
	if (cb->flags & XTCP_FLAG_RST) {
		if (cb->flags & XTCP_FLAG_ACK) {
			XTCP_INC_STATS(net, IN_RSTS);
			xtcp_reset(sk);
		}
		goto drop;
	}
	if (!(cb->flags & XTCP_FLAG_SYN))
		goto drop;

	xs->irs = cb->seq;
	xs->rcv_nxt = cb->seq + 1;
	xs->copied_seq = xs->rcv_nxt;
	xs->snd_wnd = cb->window;
	xs->peer_mss = xtcp_parse_mss(skb);
	xs->mss = min(xs->mss, xs->peer_mss);

	if (cb->flags & XTCP_FLAG_ACK) {
		xs->snd_una = cb->ack_seq;
		xtcp_set_state(sk, TCP_ESTABLISHED);
		xtcp_timer_ack_received(sk);
		xtcp_send_ack(sk);
		xtcp_wake_connected(sk);
	} else {
		/* Simultaneous open: answer SYN-ACK and wait for its ACK. */
		xtcp_set_state(sk, TCP_SYN_RECV);
		xtcp_send_syn(sk);
		xtcp_timer_syn_sent(sk);
	}
drop:
	consume_skb(skb);
}

/* Free what the peer acknowledged; the writer may have room again. */
static void xtcp_clean_acked(struct sock *sk, u32 ack)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	while ((skb = skb_peek(&sk->sk_write_queue)) &&
	       skb != xs->send_head &&
	       !xtcp_after(XTCP_SKB_CB(skb)->end_seq, ack)) {
		__skb_unlink(skb, &sk->sk_write_queue);
		sk_wmem_queued_add(sk, -skb->truesize);
		consume_skb(skb);
	}
	xs->snd_una = ack;
	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_write_space(sk);
}

/*
 * In-order data goes to the receive queue. Returns true if @skb was
 * queued (it then belongs to the queue). Sets *ack if we owe an ACK.
 */
static bool xtcp_data_queue(struct sock *sk, struct sk_buff *skb, bool *ack)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_sock *xs = xtcp_sk(sk);

	*ack = true;
	if (cb->seq != xs->rcv_nxt) {
		u32 old = xs->rcv_nxt - cb->seq;

		/* Only a retransmission overlapping RCV.NXT is trimmed. */
		if (!xtcp_before(cb->seq, xs->rcv_nxt) || old >= skb->len ||
		    !pskb_pull(skb, old))
			return false;
		cb->seq = xs->rcv_nxt;
	}
	if (atomic_read(&sk->sk_rmem_alloc) > READ_ONCE(sk->sk_rcvbuf))
		return false;

	skb_set_owner_r(skb, sk);
	__skb_queue_tail(&sk->sk_receive_queue, skb);
	xs->rcv_nxt = cb->seq + skb->len;
	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_data_ready(sk);
	return true;
}

/* The peer's FIN, in order: one sequence number, and the state moves. */
static void xtcp_fin(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->rcv_nxt++;
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | RCV_SHUTDOWN);
	sock_set_flag(sk, SOCK_DONE);

	switch (sk->sk_state) {
	case TCP_SYN_RECV:
	case TCP_ESTABLISHED:
		xtcp_set_state(sk, TCP_CLOSE_WAIT);
		break;
	case TCP_FIN_WAIT1:
		/* Our FIN is not acknowledged yet: simultaneous close. */
		xtcp_set_state(sk, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT2:
		/* xtcp_rcv_synchronized() ACKs and enters TIME_WAIT. */
		break;
	}
	if (!sock_flag(sk, SOCK_DEAD)) {
		sk->sk_state_change(sk);
		if (sk->sk_shutdown == SHUTDOWN_MASK ||
		    sk->sk_state == TCP_CLOSE)
			sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_HUP);
		else
			sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_IN);
	}
}

/* Our FIN was acknowledged. Returns false if the socket is done. */
static bool xtcp_fin_acked(struct sock *sk)
{
	switch (sk->sk_state) {
	case TCP_FIN_WAIT1:
		xtcp_set_state(sk, TCP_FIN_WAIT2);
		sk->sk_state_change(sk);
		if (sock_flag(sk, SOCK_DEAD))
			xtcp_timer_fin_wait2(sk);
		return true;
	case TCP_CLOSING:
		xtcp_time_wait(sk);
		return false;
	case TCP_LAST_ACK:
		xtcp_done(sk);
		return false;
	}
	return true;
}

/* Simultaneous open: the peer's SYN-ACK acknowledges ours. */
static bool xtcp_simultaneous_synack(struct sock *sk,
				     const struct xtcp_skb_cb *cb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	return sk->sk_state == TCP_SYN_RECV && (cb->flags & XTCP_FLAG_ACK) &&
	       cb->seq + 1 == xs->rcv_nxt && cb->ack_seq == xs->snd_nxt;
}

static void xtcp_establish_simultaneous(struct sock *sk, u32 ack)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->snd_una = ack;
	xtcp_set_state(sk, TCP_ESTABLISHED);
	xtcp_timer_ack_received(sk);
	xtcp_wake_connected(sk);
	xtcp_push(sk);
}

/* SYN_RCVD (simultaneous open only) and every later state. */
static void xtcp_rcv_synchronized(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	u32 wnd = max(xs->rcv_wnd, 1U);
	bool ack = false, fin = false, queued = false;
	u8 flags = cb->flags;

	/* Acceptable: overlaps [RCV.NXT, RCV.NXT + RCV.WND]. */
	if (xtcp_before(cb->end_seq, xs->rcv_nxt) ||
	    xtcp_after(cb->seq, xs->rcv_nxt + wnd)) {
		/* RFC 5961 4.2: a SYN is challenged whatever its sequence. */
		if (flags & XTCP_FLAG_SYN)
			xtcp_send_challenge_ack(sk);
		else if (!(flags & XTCP_FLAG_RST))
			xtcp_send_ack(sk);
		goto drop;
	}

	/* RFC 5961 3.2: only an exact RST resets, others are challenged. */
	if (flags & XTCP_FLAG_RST) {
		XTCP_INC_STATS(net, IN_RSTS);
		if (cb->seq == xs->rcv_nxt)
			xtcp_reset(sk);
		else
			xtcp_send_challenge_ack(sk);
		goto drop;
	}

	/* RFC 5961 4.2: a SYN in a synchronized state is challenged. */
	if (flags & XTCP_FLAG_SYN) {
		if (xtcp_simultaneous_synack(sk, cb))
			xtcp_establish_simultaneous(sk, cb->ack_seq);
		else
			xtcp_send_challenge_ack(sk);
		goto drop;
	}

	if (!(flags & XTCP_FLAG_ACK))
		goto drop;

	if (sk->sk_state == TCP_SYN_RECV) {
		if (!xtcp_after(cb->ack_seq, xs->snd_una) ||
		    xtcp_after(cb->ack_seq, xs->snd_nxt)) {
			xtcp_send_reset_reply(net, skb);
			goto drop;
		}
		xtcp_establish_simultaneous(sk, cb->ack_seq);
	}

	/* RFC 5961 5.2: an ACK of data never sent is answered and dropped. */
	if (xtcp_after(cb->ack_seq, xs->snd_nxt)) {
		xtcp_send_challenge_ack(sk);
		goto drop;
	}
	if (!xtcp_before(cb->ack_seq, xs->snd_una))
		xs->snd_wnd = cb->window;
	if (xtcp_after(cb->ack_seq, xs->snd_una)) {
		xtcp_clean_acked(sk, cb->ack_seq);
		xtcp_timer_ack_received(sk);
		if (xs->fin_queued && xs->snd_una == xs->write_seq &&
		    !xtcp_fin_acked(sk))
			goto drop;
	}
	xtcp_push(sk);

	if (skb->len) {
		switch (sk->sk_state) {
		case TCP_FIN_WAIT1:
		case TCP_FIN_WAIT2:
			/* Data after close(): nobody will read it (RFC 9293). */
			if ((sk->sk_shutdown & RCV_SHUTDOWN) &&
			    xtcp_after(cb->end_seq -
				       !!(flags & XTCP_FLAG_FIN), xs->rcv_nxt)) {
				xtcp_send_active_reset(sk);
				xtcp_reset(sk);
				goto drop;
			}
			fallthrough;
		case TCP_ESTABLISHED:
			queued = xtcp_data_queue(sk, skb, &ack);
			break;
		default:
			ack = true;	/* after the peer's FIN: a duplicate */
			break;
		}
	}
	/* The FIN counts only when everything before it has arrived. */
	if ((flags & XTCP_FLAG_FIN) && cb->end_seq - 1 == xs->rcv_nxt) {
		xtcp_fin(sk);
		fin = true;
	}
	if (flags & XTCP_FLAG_FIN)
		ack = true;

	if (ack)
		xtcp_send_ack(sk);
	if (fin && sk->sk_state == TCP_FIN_WAIT2)
		xtcp_time_wait(sk);
	if (queued)
		return;
drop:
	consume_skb(skb);
}

void xtcp_rcv_state_process(struct sock *sk, struct sk_buff *skb)
{
	switch (sk->sk_state) {
	case TCP_CLOSE:
	case TCP_LISTEN:
		/* Closed between lookup and lock: as if there were no socket. */
		xtcp_send_reset_reply(sock_net(sk), skb);
		kfree_skb(skb);
		return;
	case TCP_SYN_SENT:
		xtcp_rcv_syn_sent(sk, skb);
		return;
	default:
		xtcp_rcv_synchronized(sk, skb);
	}
}
