// SPDX-License-Identifier: GPL-2.0
/*
 * The state machine of a full socket (RFC 9293 3.10.7, with RFC 5961's
 * RST/SYN/ACK checks). Runs with the socket locked: in softirq under
 * bh_lock_sock, or from the backlog when the owner releases the socket.
 * Every function here consumes the skb it is given.
 *
 * Data in order goes to the receive queue; data beyond a hole waits in the
 * out-of-order queue (an rbtree by sequence, overlaps trimmed, duplicates
 * dropped) and is answered with a duplicate ACK at once. Every skb of both
 * queues is charged by its truesize to sk_rmem_alloc and bounded by
 * sk_rcvbuf, whatever the window said: a window counts bytes, memory
 * counts skbs, and one-byte segments cost hundreds of bytes each. Over
 * budget, the out-of-order queue is collapsed, then pruned from its
 * highest sequence down, and a segment that still does not fit is dropped
 * (xtcp_rmem_schedule(), as tcp_try_rmem_schedule()). The sender side
 * of an ACK (freeing what it acknowledges, RTT samples, window updates)
 * is here too; what it means for the congestion window is cong.c's.
 */

#include <linux/skbuff.h>
#include <net/sock.h>

#include "cong.h"
#include "mib.h"
#include "netns.h"
#include "options.h"
#include "output.h"
#include "proto.h"
#include "sack.h"
#include "timer.h"
#include "timewait.h"
#include "tune.h"
#include "xtcp.h"

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
	struct xtcp_opts opts;

	if (cb->flags & XTCP_FLAG_ACK) {
		/* Only SND.UNA < SEG.ACK =< SND.NXT acknowledges our SYN. */
		if (!xtcp_after(cb->ack_seq, xs->snd_una) ||
		    xtcp_after(cb->ack_seq, xs->snd_nxt)) {
			xtcp_send_reset_reply(net, sk, skb);
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
	xs->snd_wnd = cb->window;	/* a SYN's window is never scaled */
	xtcp_opts_parse(skb, &opts);
	xs->peer_mss = opts.mss;
	xs->mss = min(xs->mss, xs->peer_mss);
	if (opts.wscale < 0) {
		xs->snd_wscale = 0;
		xs->rcv_wscale = 0;
	} else {
		xs->snd_wscale = opts.wscale;
	}
	xtcp_ts_synack(sk, &opts);
	xtcp_sack_synack(sk, &opts);

	if (cb->flags & XTCP_FLAG_ACK) {
		/* The SYN-ACK's echo of our SYN: SRTT's first sample. */
		xtcp_ts_rtt(sk, &opts);
		xs->snd_una = cb->ack_seq;
		xtcp_set_state(sk, TCP_ESTABLISHED);
		xtcp_init_transfer(sk);
		xtcp_timer_ack_received(sk);
		xtcp_send_ack(sk);
		xtcp_timer_established(sk);
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

/*
 * Free what the peer acknowledged; the writer may have room again. The
 * oldest segment acknowledged now gives an RTT sample, unless one of them
 * was retransmitted (Karn's rule): then the echoed timestamp gives it, if
 * the connection uses them (RFC 7323 4, RTTM), as TCP prefers.
 */
static void xtcp_clean_acked(struct sock *sk, u32 ack,
			     const struct xtcp_opts *opts)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	bool karn = false;
	u32 sent = 0, n = 0;
	struct sk_buff *skb;

	while ((skb = skb_peek(&sk->sk_write_queue)) &&
	       skb != xs->send_head &&
	       !xtcp_after(XTCP_SKB_CB(skb)->end_seq, ack)) {
		if (XTCP_SKB_CB(skb)->retrans)
			karn = true;
		else if (!n++)
			sent = XTCP_SKB_CB(skb)->tx_us;
		xtcp_rack_delivered(sk, XTCP_SKB_CB(skb));
		__skb_unlink(skb, &sk->sk_write_queue);
		sk_wmem_queued_add(sk, -skb->truesize);
		sk_mem_uncharge(sk, skb->truesize);
		consume_skb(skb);
	}
	if (n && !karn)
		xtcp_timer_rtt_sample(sk, xtcp_clock_us(sk) - sent);
	else if (karn)
		xtcp_ts_rtt(sk, opts);
	xs->bytes_acked += ack - xs->snd_una;
	xs->snd_una = ack;
	/* Something got through: an earlier ICMP soft error is stale. */
	WRITE_ONCE(sk->sk_err_soft, 0);
	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_write_space(sk);
	/* The writer has room again (write_space cleared NOSPACE). */
	if (!sk->sk_socket || !test_bit(SOCK_NOSPACE, &sk->sk_socket->flags))
		xtcp_chrono_stop(sk, XTCP_CHRONO_SNDBUF);
}

/* What xtcp_data_queue() did. */
enum {
	XTCP_DQ_QUEUED = 1,	/* the skb now belongs to a queue */
	XTCP_DQ_FIN = 2,	/* the peer's FIN is next in sequence */
	XTCP_DQ_ACK_NOW = 4,	/* ACK at once: hole, duplicate, FIN */
};

/* ---- receive memory ---- */

/*
 * May @size more bytes of truesize be charged to the receive buffer? Both
 * the socket's budget (sk_rcvbuf) and the protocol's (sk_rmem_schedule()
 * against proto->memory_allocated and the memory cgroup) must agree.
 */
static bool xtcp_rmem_ok(struct sock *sk, struct sk_buff *skb,
			 unsigned int size)
{
	return atomic_read(&sk->sk_rmem_alloc) + size <=
	       (unsigned int)READ_ONCE(sk->sk_rcvbuf) &&
	       sk_rmem_schedule(sk, skb, size);
}

/*
 * Would a right-sized copy of @skb cost at most half its truesize (a
 * clone of the sender's buffer over loopback, a page from a driver)? A
 * copy itself never qualifies, so nothing is copied twice.
 */
static bool xtcp_skb_wasteful(const struct sk_buff *skb)
{
	return skb->truesize > 2 * SKB_TRUESIZE(SKB_DATA_ALIGN(skb->len));
}

/* Memory is short: a right-sized copy of a wasteful skb, else NULL. */
static struct sk_buff *xtcp_compact(struct sk_buff *skb)
{
	struct sk_buff *nskb;

	if (!skb->len || !xtcp_skb_wasteful(skb))
		return NULL;
	nskb = alloc_skb(skb->len, GFP_ATOMIC);
	if (!nskb)
		return NULL;
	if (skb_copy_bits(skb, 0, skb_put(nskb, skb->len), skb->len)) {
		kfree_skb(nskb);
		return NULL;
	}
	memcpy(nskb->cb, skb->cb, sizeof(skb->cb));
	return nskb;
}

/*
 * Append @skb's payload to @tail, which ends where @skb begins, when @tail
 * has room (as tcp_try_coalesce): the memory it costs is its payload only.
 * Never into a shared or paged skb, never more than XTCP_COALESCE_MAX.
 */
static bool xtcp_try_coalesce(struct sk_buff *tail, struct sk_buff *skb)
{
	if (!tail || !skb->len || skb_cloned(tail) || skb_is_nonlinear(tail) ||
	    skb_tailroom(tail) < skb->len || skb->len > XTCP_COALESCE_MAX)
		return false;
	if (skb_copy_bits(skb, 0, skb_put(tail, skb->len), skb->len)) {
		skb_trim(tail, tail->len - skb->len);
		return false;
	}
	return true;
}

/*
 * Replace @n contiguous out-of-order skbs, starting at @first and holding
 * @len bytes together, by one right-sized copy (as tcp_collapse). The old
 * ones are uncharged before the copy is charged, so the charge only falls.
 */
static bool xtcp_collapse_chunk(struct sock *sk, struct sk_buff *first,
				unsigned int n, u32 len)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb, *nskb;
	unsigned int i;

	nskb = alloc_skb(len, GFP_ATOMIC);
	if (!nskb)
		return false;
	for (skb = first, i = 0; i < n; i++, skb = skb_rb_next(skb)) {
		if (skb_copy_bits(skb, 0, skb_put(nskb, skb->len), skb->len)) {
			kfree_skb(nskb);
			return false;
		}
	}
	memcpy(nskb->cb, first->cb, sizeof(first->cb));
	XTCP_SKB_CB(nskb)->end_seq = XTCP_SKB_CB(nskb)->seq + len;
	XTCP_SKB_CB(nskb)->flags = 0;

	for (i = 1; i < n; i++) {
		skb = skb_rb_next(first);
		rb_erase(&skb->rbnode, &xs->ooo_queue);
		kfree_skb(skb);
	}
	rb_replace_node(&first->rbnode, &nskb->rbnode, &xs->ooo_queue);
	kfree_skb(first);
	skb_set_owner_r(nskb, sk);
	XTCP_ADD_STATS(sock_net(sk), RCV_COLLAPSED, n);
	return true;
}

/*
 * The run of @n skbs at @first, if a copy saves memory (two or more skbs,
 * or one that is mostly overhead): *@done once one is made, *@failed if
 * one could not be.
 */
static void xtcp_collapse_run(struct sock *sk, struct sk_buff *first,
			      unsigned int n, u32 len, bool *done, bool *failed)
{
	if (n < 2 && !xtcp_skb_wasteful(first))
		return;
	if (xtcp_collapse_chunk(sk, first, n, len))
		*done = true;
	else
		*failed = true;
}

/*
 * Copy runs of contiguous out-of-order skbs into compact ones of at most
 * XTCP_COLLAPSE_SIZE bytes: two or more skbs become one, and a single skb
 * that is mostly overhead a right-sized copy. One pass over the tree; a
 * FIN is never collapsed. Returns whether anything was. A pass that left
 * nothing to collapse is not repeated until the tree gains data
 * (ooo_compact): a flood beyond a hole that the budget refuses must not
 * cost a walk of the tree per segment.
 */
static bool xtcp_collapse_ofo(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb, *first = NULL, *next;
	bool done = false, failed = false;
	unsigned int n = 0;
	u32 len = 0;

	if (xs->ooo_compact)
		return false;
	for (skb = skb_rb_first(&xs->ooo_queue); skb; skb = next) {
		const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		next = skb_rb_next(skb);
		if (first && (cb->seq != XTCP_SKB_CB(first)->seq + len ||
			      len + skb->len > XTCP_COLLAPSE_SIZE ||
			      (cb->flags & XTCP_FLAG_FIN))) {
			xtcp_collapse_run(sk, first, n, len, &done, &failed);
			first = NULL;
		}
		if (cb->flags & XTCP_FLAG_FIN || !skb->len ||
		    skb->len > XTCP_COLLAPSE_SIZE)
			continue;
		if (!first) {
			first = skb;
			n = 0;
			len = 0;
		}
		n++;
		len += skb->len;
	}
	if (first)
		xtcp_collapse_run(sk, first, n, len, &done, &failed);
	xs->ooo_last = skb_rb_last(&xs->ooo_queue);
	xs->ooo_compact = !failed;
	return done;
}

/*
 * Drop out-of-order data from the highest sequence number down (as
 * tcp_prune_ofo_queue) until an eighth of the buffer is free and @in
 * fits, but never data below @in: that would make room for a later byte
 * by discarding an earlier one. Returns whether anything was dropped.
 */
static bool xtcp_prune_ofo(struct sock *sk, struct sk_buff *in)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	unsigned int goal = READ_ONCE(sk->sk_rcvbuf) >> 3, freed = 0;
	struct rb_node *node, *prev;
	bool pruned = false;

	for (node = xs->ooo_last ? &xs->ooo_last->rbnode : NULL; node;
	     node = prev) {
		struct sk_buff *skb = rb_to_skb(node);

		if (!xtcp_after(XTCP_SKB_CB(skb)->seq, XTCP_SKB_CB(in)->seq))
			break;
		prev = rb_prev(node);
		rb_erase(node, &xs->ooo_queue);
		freed += skb->truesize;
		kfree_skb(skb);
		XTCP_INC_STATS(sock_net(sk), OFO_PRUNED);
		pruned = true;
		if (freed >= goal && xtcp_rmem_ok(sk, in, in->truesize))
			break;
	}
	xs->ooo_last = skb_rb_last(&xs->ooo_queue);
	return pruned;
}

/*
 * The receive budget is exhausted: collapse the out-of-order queue, then
 * prune it, until @in fits (tcp_prune_queue()'s order). The receive queue
 * needs no collapsing: small in-order segments coalesce as they arrive.
 * False if @in still does not fit and must be dropped.
 */
static bool xtcp_prune_queue(struct sock *sk, struct sk_buff *in)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	XTCP_INC_STATS(sock_net(sk), PRUNE_CALLED);
	if (!RB_EMPTY_ROOT(&xs->ooo_queue)) {
		xtcp_collapse_ofo(sk);
		if (xtcp_rmem_ok(sk, in, in->truesize))
			return true;
		xtcp_prune_ofo(sk, in);
		if (xtcp_rmem_ok(sk, in, in->truesize))
			return true;
	}
	XTCP_INC_STATS(sock_net(sk), RCV_PRUNED);
	return false;
}

/*
 * Could collapsing or pruning the out-of-order queue free memory for @in?
 * Not if a collapse pass left nothing to collapse and nothing lies above
 * @in to prune.
 */
static bool xtcp_ooo_can_free(const struct xtcp_sock *xs,
			      const struct sk_buff *in)
{
	return !RB_EMPTY_ROOT(&xs->ooo_queue) &&
	       (!xs->ooo_compact ||
		xtcp_after(XTCP_SKB_CB(xs->ooo_last)->seq,
			   XTCP_SKB_CB(in)->seq));
}

/*
 * What to queue for @skb: itself if its truesize fits the receive budget;
 * else a right-sized copy if that fits; else whichever is smaller once
 * the out-of-order queue is collapsed and pruned. NULL: drop it, the
 * sender retransmits (a window is no promise of memory, as in TCP). The
 * caller keeps @skb either way. No copy is made when nothing can be freed
 * and even the smallest copy would not fit.
 */
static struct sk_buff *xtcp_rmem_schedule(struct sock *sk, struct sk_buff *skb)
{
	struct sk_buff *qskb = NULL;

	if (xtcp_rmem_ok(sk, skb, skb->truesize))
		return skb;
	if (xtcp_ooo_can_free(xtcp_sk(sk), skb) ||
	    xtcp_rmem_ok(sk, skb, SKB_TRUESIZE(SKB_DATA_ALIGN(skb->len))))
		qskb = xtcp_compact(skb);
	if (!qskb)
		qskb = skb;
	if ((qskb != skb && xtcp_rmem_ok(sk, qskb, qskb->truesize)) ||
	    xtcp_prune_queue(sk, qskb))
		return qskb;
	if (qskb != skb)
		kfree_skb(qskb);
	return NULL;
}

/*
 * In-order data over the socket's budget that lies inside the window we
 * advertised is still taken (compacted) if the protocol's and the memory
 * cgroup's limits allow: it advances RCV.NXT, so the window bounds it,
 * and the window can close only if what it promised arrives. Data beyond
 * a hole cannot advance RCV.NXT, so only the budget bounds it.
 */
static struct sk_buff *xtcp_rmem_schedule_in_order(struct sock *sk,
						   struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *qskb = xtcp_rmem_schedule(sk, skb);

	if (qskb || xtcp_after(XTCP_SKB_CB(skb)->end_seq,
			       xs->rcv_wup + xs->rcv_wnd))
		return qskb;
	qskb = xtcp_compact(skb) ? : skb;
	if (sk_rmem_schedule(sk, qskb, qskb->truesize))
		return qskb;
	if (qskb != skb)
		kfree_skb(qskb);
	return NULL;
}

/* Drop @len bytes at the front of a received segment. */
static bool xtcp_trim_front(struct sk_buff *skb, u32 len)
{
	if (len > skb->len || !pskb_pull(skb, len))
		return false;
	XTCP_SKB_CB(skb)->seq += len;
	return true;
}

/* Everything out of order is gone (close, reset, disconnect). */
void xtcp_ooo_purge(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct rb_node *node = rb_first(&xs->ooo_queue);

	/* skb_rbtree_purge() is not exported. */
	while (node) {
		struct sk_buff *skb = rb_to_skb(node);

		node = rb_next(node);
		rb_erase(&skb->rbnode, &xs->ooo_queue);
		kfree_skb(skb);
	}
	xs->ooo_last = NULL;
}

/* Move segments the hole no longer separates to the receive queue. */
static int xtcp_ooo_drain(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;
	int ret = 0;

	while ((skb = skb_rb_first(&xs->ooo_queue)) &&
	       !xtcp_after(XTCP_SKB_CB(skb)->seq, xs->rcv_nxt)) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
		bool fin = cb->flags & XTCP_FLAG_FIN;

		rb_erase(&skb->rbnode, &xs->ooo_queue);
		if (skb == xs->ooo_last)
			xs->ooo_last = NULL;
		if (!xtcp_after(cb->end_seq, xs->rcv_nxt) ||
		    !xtcp_trim_front(skb, xs->rcv_nxt - cb->seq)) {
			kfree_skb(skb);
			continue;
		}
		xs->rcv_nxt = cb->seq + skb->len;
		if (!skb->len ||
		    xtcp_try_coalesce(skb_peek_tail(&sk->sk_receive_queue),
				      skb))
			kfree_skb(skb);
		else
			__skb_queue_tail(&sk->sk_receive_queue, skb);
		if (fin) {
			ret |= XTCP_DQ_FIN;
			break;
		}
	}
	return ret;
}

/* The last out-of-order skb that starts at or before @seq, or NULL. */
static struct sk_buff *xtcp_ooo_find_prev(struct xtcp_sock *xs, u32 seq)
{
	struct rb_node *node = xs->ooo_queue.rb_node;
	struct sk_buff *prev = NULL;

	/* Ascending arrival: the last one, without a descent. */
	if (xs->ooo_last && !xtcp_after(XTCP_SKB_CB(xs->ooo_last)->seq, seq))
		return xs->ooo_last;
	while (node) {
		struct sk_buff *skb = rb_to_skb(node);

		if (xtcp_after(XTCP_SKB_CB(skb)->seq, seq)) {
			node = node->rb_left;
		} else {
			prev = skb;
			node = node->rb_right;
		}
	}
	return prev;
}

/* Link @skb, which overlaps nothing queued, into the tree by sequence. */
static void xtcp_ooo_link(struct xtcp_sock *xs, struct sk_buff *skb)
{
	struct rb_node **p = &xs->ooo_queue.rb_node, *parent = NULL;
	u32 seq = XTCP_SKB_CB(skb)->seq;

	if (xs->ooo_last && xtcp_after(seq, XTCP_SKB_CB(xs->ooo_last)->seq)) {
		parent = &xs->ooo_last->rbnode;
		p = &parent->rb_right;
	} else {
		while (*p) {
			parent = *p;
			if (xtcp_before(seq, XTCP_SKB_CB(rb_to_skb(parent))->seq))
				p = &parent->rb_left;
			else
				p = &parent->rb_right;
		}
	}
	rb_link_node(&skb->rbnode, parent, p);
	rb_insert_color(&skb->rbnode, &xs->ooo_queue);
	xs->ooo_compact = false;
	if (!xs->ooo_last || xtcp_after(seq, XTCP_SKB_CB(xs->ooo_last)->seq))
		xs->ooo_last = skb;
}

/*
 * Insert an out-of-order segment into the tree (O(log n); O(1) when it
 * comes after the last one): overlaps are cut from the newcomer, queued
 * segments it covers entirely are dropped, and it is appended to its
 * predecessor when it continues it and fits there.
 */
static int __xtcp_ooo_insert(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	struct sk_buff *prev, *next, *tmp;

	prev = xtcp_ooo_find_prev(xs, cb->seq);
	if (prev) {
		struct xtcp_skb_cb *pcb = XTCP_SKB_CB(prev);

		if (!xtcp_before(pcb->end_seq, cb->end_seq) ||
		    (pcb->flags & XTCP_FLAG_FIN)) {
			XTCP_INC_STATS(net, DUP_DATA);
			xtcp_sack_dsack(sk, cb->seq, cb->end_seq);
			return XTCP_DQ_ACK_NOW;
		}
		if (xtcp_after(pcb->end_seq, cb->seq) &&
		    !xtcp_trim_front(skb, pcb->end_seq - cb->seq))
			return XTCP_DQ_ACK_NOW;
	}
	/* Later segments the newcomer covers entirely are duplicates. */
	next = prev ? skb_rb_next(prev) : skb_rb_first(&xs->ooo_queue);
	while (next && !xtcp_after(XTCP_SKB_CB(next)->end_seq, cb->end_seq)) {
		tmp = skb_rb_next(next);
		rb_erase(&next->rbnode, &xs->ooo_queue);
		if (next == xs->ooo_last)
			xs->ooo_last = prev;
		XTCP_INC_STATS(net, DUP_DATA);
		kfree_skb(next);
		next = tmp;
	}
	if (next && xtcp_after(cb->end_seq, XTCP_SKB_CB(next)->seq)) {
		u32 keep = XTCP_SKB_CB(next)->seq - cb->seq;

		if (!keep || pskb_trim(skb, keep))
			return XTCP_DQ_ACK_NOW;
		cb->end_seq = XTCP_SKB_CB(next)->seq;
		cb->flags &= ~XTCP_FLAG_FIN;
	}
	if (prev && XTCP_SKB_CB(prev)->end_seq == cb->seq &&
	    xtcp_try_coalesce(prev, skb)) {
		xs->ooo_compact = false;
		XTCP_SKB_CB(prev)->end_seq = cb->end_seq;
		XTCP_SKB_CB(prev)->flags |= cb->flags & XTCP_FLAG_FIN;
		return XTCP_DQ_ACK_NOW;
	}
	skb_set_owner_r(skb, sk);
	xtcp_ooo_link(xs, skb);
	return XTCP_DQ_QUEUED | XTCP_DQ_ACK_NOW;
}

static int xtcp_ooo_insert(struct sock *sk, struct sk_buff *skb)
{
	struct net *net = sock_net(sk);
	struct sk_buff *qskb;
	int ret;

	XTCP_INC_STATS(net, OFO_QUEUE);
	xtcp_sk(sk)->ooo_segs++;
	xtcp_sack_ooo_seen(sk, XTCP_SKB_CB(skb)->seq);
	qskb = xtcp_rmem_schedule(sk, skb);
	if (!qskb) {
		/*
		 * No ACK for it (nor from Linux 6.12's TCP): a flood of
		 * out-of-order segments over the budget must not draw one
		 * reply each. The sender still hears of the hole from the
		 * ACKs of what was queued.
		 */
		XTCP_INC_STATS(net, OFO_DROP);
		return 0;
	}
	ret = __xtcp_ooo_insert(sk, qskb);
	if (qskb != skb) {
		/* The copy is queued (or not); @skb itself never is. */
		if (!(ret & XTCP_DQ_QUEUED))
			kfree_skb(qskb);
		ret &= ~XTCP_DQ_QUEUED;
	}
	return ret;
}

/*
 * Data (and a FIN) of an acceptable segment: in order to the receive
 * queue, beyond a hole to the out-of-order queue. Returns XTCP_DQ_* bits.
 */
static int xtcp_data_queue(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	bool fin = cb->flags & XTCP_FLAG_FIN;
	bool hole = !RB_EMPTY_ROOT(&xs->ooo_queue);
	int ret = 0;

	if (!xtcp_after(cb->end_seq, xs->rcv_nxt)) {
		XTCP_INC_STATS(net, DUP_DATA);
		xtcp_sack_dsack(sk, cb->seq, cb->end_seq);
		return XTCP_DQ_ACK_NOW;
	}
	if (xtcp_after(cb->seq, xs->rcv_nxt))
		return xtcp_ooo_insert(sk, skb);
	/* Its front arrived before: that part is a duplicate. */
	if (xtcp_before(cb->seq, xs->rcv_nxt))
		xtcp_sack_dsack(sk, cb->seq, xs->rcv_nxt);

	if (!xtcp_trim_front(skb, xs->rcv_nxt - cb->seq))
		return XTCP_DQ_ACK_NOW;
	if (skb->len &&
	    xtcp_try_coalesce(skb_peek_tail(&sk->sk_receive_queue), skb)) {
		/* The caller frees @skb; its bytes are in the tail now. */
	} else if (skb->len) {
		struct sk_buff *qskb = skb;

		/*
		 * An empty queue always takes the next byte in order, whether
		 * or not the limits allow; it reaches the totals only if they
		 * do (sk_forced_mem_schedule() is not exported).
		 */
		if (!skb_queue_empty(&sk->sk_receive_queue)) {
			qskb = xtcp_rmem_schedule_in_order(sk, skb);
			if (!qskb) {
				XTCP_INC_STATS(net, RCV_QDROP);
				return XTCP_DQ_ACK_NOW;
			}
		} else {
			sk_rmem_schedule(sk, skb, skb->truesize);
		}
		skb_set_owner_r(qskb, sk);
		__skb_queue_tail(&sk->sk_receive_queue, qskb);
		if (qskb == skb)
			ret |= XTCP_DQ_QUEUED;
	}
	xs->rcv_nxt = cb->seq + skb->len;
	xtcp_rcv_rtt_measure(sk);
	if (fin)
		ret |= XTCP_DQ_FIN;
	else if (hole)
		ret |= xtcp_ooo_drain(sk);
	if (hole)
		ret |= XTCP_DQ_ACK_NOW;
	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_data_ready(sk);
	return ret;
}

/*
 * In-order data wants an ACK now: two full segments arrived unacknowledged
 * and either the free buffer moves the window's right edge forward by at
 * least what arrived (the reader keeps up) or a receiver waiting for
 * SO_RCVLOWAT bytes still lacks some. While the data waits in the
 * queue, the ACK waits for the read that frees room (recvmsg() sends it)
 * or for the delayed-ACK timer: an ACK that cannot open the window would
 * only clock out data the buffer has no room for.
 */
static bool xtcp_ack_due(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xtcp_two_segs_unacked(xs))
		return false;
	return xs->rcv_nxt - READ_ONCE(xs->copied_seq) <
	       (u32)READ_ONCE(sk->sk_rcvlowat) ||
	       xtcp_free_window(sk) >= xs->rcv_wnd;
}

/*
 * Delayed ACK (RFC 9293 3.8.6.3): ACK in-order data at once when
 * xtcp_ack_due() says so or quickack asks, and whenever the caller says
 * so (out of order, duplicate, FIN); otherwise within delack_ms. While
 * release_sock() drains the backlog, the in-order ACKs of its segments
 * fold into one, sent from xtcp_ack_release_cb() after the last: the
 * caller's urgent ACKs, which carry duplicate ACKs and SACK blocks for
 * the sender's loss detection, are not deferred.
 */
static void xtcp_ack_data(struct sock *sk, bool now)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!now && !xs->quickack && !xtcp_ack_due(sk)) {
		xtcp_timer_delack(sk);
		return;
	}
	xs->quickack = 0;
	if (!now && sock_owned_by_user_nocheck(sk)) {
		/* No timer: release_sock() runs the callback after the backlog. */
		set_bit(XTCP_F_ACK_DEFERRED, &xs->flags);
		xs->ack_pending = 1;
		XTCP_SK_INC_STATS(sk, ACKS_DEFERRED);
		return;
	}
	xtcp_send_ack(sk);
}

/*
 * From release_sock(), after the backlog: the ACK its segments deferred,
 * unless another ACK or data went out since (which cleared ack_pending).
 */
void xtcp_ack_release_cb(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!test_and_clear_bit(XTCP_F_ACK_DEFERRED, &xs->flags) ||
	    !xs->ack_pending)
		return;
	if ((1 << sk->sk_state) &
	    (TCPF_CLOSE | TCPF_LISTEN | TCPF_SYN_SENT | TCPF_SYN_RECV)) {
		xs->ack_pending = 0;
		return;
	}
	xtcp_clock_refresh(sk);
	xtcp_send_ack(sk);
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
		/* xtcp_rcv_data() ACKs and enters TIME_WAIT. */
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
	xtcp_init_transfer(sk);
	xtcp_timer_ack_received(sk);
	xtcp_timer_established(sk);
	xtcp_wake_connected(sk);
	xtcp_push(sk);
}

/*
 * The checks before the ACK field (RFC 9293 3.10.7.4, first to fourth,
 * with RFC 5961's): sequence acceptability, RST, SYN, the ACK bit. True if
 * the segment goes on; otherwise it has been answered as needed.
 */
static bool xtcp_validate_incoming(struct sock *sk, struct sk_buff *skb,
				   const struct xtcp_opts *opts)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 wnd = max(xtcp_rcv_wnd_left(xs), 1U);
	u8 flags = cb->flags;

	/*
	 * PAWS (RFC 7323 5.3 R1), before anything else: an old duplicate
	 * is dropped and answered with an ACK, as an unacceptable segment
	 * is. A RST is exempt: its timestamp may be stale (RFC 7323 5.3).
	 */
	if (xs->ts_ok && opts->ts && !(flags & XTCP_FLAG_RST) &&
	    xtcp_paws_reject(xs->ts_recent, xs->ts_recent_stamp,
			     opts->tsval)) {
		XTCP_INC_STATS(sock_net(sk), PAWS_ESTAB_REJECTED);
		if (!xtcp_oow_rate_limited(sock_net(sk), skb,
					   &xs->last_oow_ack))
			xtcp_send_ack(sk);
		return false;
	}

	/* Acceptable: overlaps [RCV.NXT, RCV.NXT + RCV.WND]. */
	if (xtcp_before(cb->end_seq, xs->rcv_nxt) ||
	    xtcp_after(cb->seq, xs->rcv_nxt + wnd)) {
		/* RFC 5961 4.2: a SYN is challenged whatever its sequence. */
		if (flags & XTCP_FLAG_SYN) {
			xtcp_send_challenge_ack(sk);
		} else if (!(flags & XTCP_FLAG_RST) &&
			   !xtcp_oow_rate_limited(sock_net(sk), skb,
						  &xs->last_oow_ack)) {
			/* Old data again: a D-SACK says so (RFC 2883). */
			if (skb->len && xtcp_before(cb->end_seq, xs->rcv_nxt))
				xtcp_sack_dsack(sk, cb->seq, cb->end_seq);
			xtcp_send_ack(sk);
		}
		return false;
	}

	/* RFC 5961 3.2: only an exact RST resets, others are challenged. */
	if (flags & XTCP_FLAG_RST) {
		XTCP_INC_STATS(sock_net(sk), IN_RSTS);
		if (cb->seq == xs->rcv_nxt)
			xtcp_reset(sk);
		else
			xtcp_send_challenge_ack(sk);
		return false;
	}

	/* RFC 5961 4.2: a SYN in a synchronized state is challenged. */
	if (flags & XTCP_FLAG_SYN) {
		if (xtcp_simultaneous_synack(sk, cb))
			xtcp_establish_simultaneous(sk, cb->ack_seq);
		else
			xtcp_send_challenge_ack(sk);
		return false;
	}
	return flags & XTCP_FLAG_ACK;
}

/*
 * The window the peer offers (RFC 9293 3.10.7.4, SND.WND update): taken
 * from any segment that does not acknowledge less than an earlier one.
 */
static void xtcp_ack_update_window(struct xtcp_sock *xs, u32 ack, u32 swnd)
{
	if (xtcp_before(ack, xs->snd_una))
		return;
	xs->snd_wnd = swnd;
	xs->max_window = max(xs->max_window, swnd);
}

/*
 * The ACK field (fifth check): completes a simultaneous open, frees what
 * is acknowledged, feeds congestion control and sends what the windows
 * now allow. False if the segment ends here (dropped, or the socket is
 * done because our FIN was acknowledged).
 */
static bool xtcp_ack(struct sock *sk, const struct sk_buff *skb,
		     const struct xtcp_opts *opts)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 swnd = (u32)cb->window << xs->snd_wscale;
	bool dup, sacked;

	if (sk->sk_state == TCP_SYN_RECV) {
		if (!xtcp_after(cb->ack_seq, xs->snd_una) ||
		    xtcp_after(cb->ack_seq, xs->snd_nxt)) {
			xtcp_send_reset_reply(sock_net(sk), sk, skb);
			return false;
		}
		xtcp_establish_simultaneous(sk, cb->ack_seq);
	}

	/*
	 * RFC 5961 5.2: acceptable is SND.UNA - MAX.SND.WND =< SEG.ACK =<
	 * SND.NXT. An ACK of data never sent, or one older than any window
	 * the peer ever offered (a blind injection, as tcp_ack()'s "too
	 * old"), is answered with a rate-limited challenge ACK and the
	 * segment, data and all, is dropped.
	 */
	if (xtcp_after(cb->ack_seq, xs->snd_nxt) ||
	    xtcp_before(cb->ack_seq, xs->snd_una - xs->max_window)) {
		xtcp_send_challenge_ack(sk);
		return false;
	}
	/*
	 * A duplicate ACK: nothing new acknowledged, data outstanding, and
	 * either nothing else in it (RFC 5681 2) or newly SACKed data
	 * (RFC 6675 2).
	 */
	/* The scoreboard works on segments: cut large sent skbs first. */
	if (xs->sack_ok && opts->nr_sacks)
		xtcp_split_sent(sk);
	sacked = xtcp_sack_tag(sk, cb->ack_seq, opts);
	dup = cb->ack_seq == xs->snd_una && xs->snd_una != xs->snd_nxt &&
	      (sacked || (!skb->len && !(cb->flags & XTCP_FLAG_FIN) &&
			  swnd == xs->snd_wnd));
	xtcp_ack_update_window(xs, cb->ack_seq, swnd);
	if (xtcp_after(cb->ack_seq, xs->snd_una)) {
		u32 acked = cb->ack_seq - xs->snd_una;
		u32 flight = xtcp_in_flight(xs);

		xtcp_clean_acked(sk, cb->ack_seq, opts);
		xtcp_sack_check_reneging(sk);
		xtcp_sack_update(sk);
		xtcp_cong_ack(sk, acked, flight);
		xtcp_sndbuf_expand(sk);
		xtcp_timer_ack_received(sk);
		if (xs->fin_queued && xs->snd_una == xs->write_seq &&
		    !xtcp_fin_acked(sk))
			return false;
	} else if (dup) {
		xtcp_sack_update(sk);
		xtcp_cong_dupack(sk);
	}
	xtcp_push(sk);
	return true;
}

/*
 * The segment's text and FIN (sixth to eighth checks): queue the data,
 * take the FIN in order, ACK now or later. True if @skb was queued.
 */
static bool xtcp_rcv_data(struct sock *sk, struct sk_buff *skb)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_sock *xs = xtcp_sk(sk);
	bool fin = cb->flags & XTCP_FLAG_FIN;
	u32 rcv_nxt = xs->rcv_nxt;
	int dq;

	switch (sk->sk_state) {
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
		/* Data after close(): nobody will read it (RFC 9293). */
		if ((sk->sk_shutdown & RCV_SHUTDOWN) &&
		    xtcp_after(cb->end_seq - fin, xs->rcv_nxt)) {
			xtcp_send_active_reset(sk);
			xtcp_reset(sk);
			return false;
		}
		fallthrough;
	case TCP_ESTABLISHED:
		dq = xtcp_data_queue(sk, skb);
		xs->bytes_received += xs->rcv_nxt - rcv_nxt;
		break;
	default:
		dq = XTCP_DQ_ACK_NOW;	/* after the peer's FIN: a duplicate */
		break;
	}
	/* The FIN counts only when everything before it has arrived. */
	if (dq & XTCP_DQ_FIN) {
		xtcp_fin(sk);
		dq |= XTCP_DQ_ACK_NOW;
	}
	xtcp_ack_data(sk, dq & XTCP_DQ_ACK_NOW);
	if ((dq & XTCP_DQ_FIN) && sk->sk_state == TCP_FIN_WAIT2)
		xtcp_time_wait(sk);
	return dq & XTCP_DQ_QUEUED;
}

/* SYN_RCVD (simultaneous open only) and every later state. */
static void xtcp_rcv_synchronized(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_opts opts;

	xtcp_timer_segment_in(sk);
	xtcp_opts_parse(skb, &opts);
	if (!xtcp_validate_incoming(sk, skb, &opts))
		goto drop;
	/* Before the ACK, which may hand TS.Recent to a TIME_WAIT bucket. */
	xtcp_ts_update_recent(sk, skb, &opts);
	if (!xtcp_ack(sk, skb, &opts))
		goto drop;
	if ((skb->len || (XTCP_SKB_CB(skb)->flags & XTCP_FLAG_FIN)) &&
	    xtcp_rcv_data(sk, skb))
		return;
drop:
	consume_skb(skb);
}

void xtcp_rcv_state_process(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 segs = 1;

	xtcp_clock_refresh(sk);
	/* A GSO skb from loopback or veth counts as its wire segments. */
	if (skb_is_gso(skb))
		segs = max_t(u32, skb_shinfo(skb)->gso_segs, 1);
	xs->segs_in += segs;
	if (skb->len) {
		xs->data_segs_in += segs;
		xs->last_data_recv = jiffies;
	}
	switch (sk->sk_state) {
	case TCP_CLOSE:
	case TCP_LISTEN:
		/* Closed between lookup and lock: as if there were no socket. */
		xtcp_send_reset_reply(sock_net(sk), NULL, skb);
		kfree_skb(skb);
		return;
	case TCP_SYN_SENT:
		xtcp_rcv_syn_sent(sk, skb);
		return;
	default:
		xtcp_rcv_synchronized(sk, skb);
	}
}
