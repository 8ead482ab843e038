// SPDX-License-Identifier: GPL-2.0
/*
 * Selective acknowledgment.
 *
 * Negotiation (RFC 2018 2): a SYN offers SACK-permitted when the
 * namespace's "sack" sysctl is on; the connection uses SACK only if both
 * SYNs carry it. A SYN cookie child never does (the cookie has no room).
 *
 * Receiver (RFC 2018 4, RFC 2883): a pure ACK sent while the out-of-order
 * queue holds data carries SACK blocks built from the queue's contiguous
 * ranges: first the one holding the latest segment that arrived out of
 * order, then the others from the highest sequence down, as many as the
 * 40 bytes of options leave room for (4 alone, 3 beside a timestamp).
 * A duplicate segment, below RCV.NXT or already queued, is reported once
 * as a D-SACK block in front of them. Blocks ride on pure ACKs only:
 * every segment that makes a hole or a duplicate is answered with one at
 * once, and a data segment's options would eat into its MSS.
 *
 * Sender (RFC 6675): the scoreboard is a bit per queued skb (sacked,
 * lost, resent in this recovery). An ACK's blocks are checked against
 * SND.UNA..SND.NXT (the rest are counted and ignored), a first block
 * below the ACK or inside the second is a D-SACK (counted only), and an
 * skb entirely inside a valid block is marked SACKed; partial coverage
 * marks nothing, so nothing is ever split. After the marks, one walk
 * from the highest sent skb down recomputes the bytes SACKed, deemed
 * lost and resent, which give the pipe of RFC 6675 4: outstanding -
 * SACKed - lost + resent. An skb is deemed lost if
 *  - more than DupThresh - 1 segments' bytes, or DupThresh skbs, are
 *    SACKed above it (RFC 6675 IsLost);
 *  - RACK (RFC 8985 6.2, the "rack" sysctl): something sent after it
 *    by more than a quarter of the lowest RTT has arrived (SACKed or
 *    acknowledged). Send times, not sequence, order the skbs, so a
 *    retransmission that was lost again is found this way, and a tail
 *    whose probe arrived (timer.c's loss probe) needs no DupThresh;
 *  - a retransmission timeout happened and it was sent before it.
 * A timeout keeps the SACK marks (RFC 6675 5.1 allows it where reneging
 * is detected; Linux does the same): what the receiver holds is not
 * sent again. Reneging (RFC 2018 8) shows when the cumulative ACK stops
 * at the start of a SACKed skb, or when a timeout finds one there; a
 * second timeout in a row also clears every mark, so that a receiver
 * that dropped what it SACKed is never waited for.
 */

#include <linux/skbuff.h>
#include <net/sock.h>

#include "mib.h"
#include "netns.h"
#include "options.h"
#include "proto.h"
#include "sack.h"
#include "xtcp.h"

/*
 * Out-of-order skbs one SACK block's edges are looked for across, each
 * way, at most: every ACK in a flood of out-of-order segments costs a
 * bounded walk. A longer run is reported in pieces, each still true, and
 * its newest part is always in the first block.
 */
#define XTCP_SACK_WALK_MAX	16

bool xtcp_sack_enabled(const struct net *net)
{
	return READ_ONCE(xtcp_pernet(net)->sysctl.sack);
}

/* connect(): offer SACK if the namespace says so. */
void xtcp_sack_connect(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->sack_ok = xtcp_sack_enabled(sock_net(sk));
	xs->dsack_recv = 0;
	xs->dsack_sent = 0;
	xs->sack_retrans = 0;
}

/* The peer's SYN (or SYN-ACK) arrived in SYN_SENT: used if both offered. */
void xtcp_sack_synack(struct sock *sk, const struct xtcp_opts *opts)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->sack_ok = xs->sack_ok && opts->sack_ok;
}

/* A SYN for a listener: take its offer if the namespace uses SACK. */
bool xtcp_sack_syn_ok(struct net *net, const struct xtcp_opts *opts)
{
	return opts->sack_ok && xtcp_sack_enabled(net);
}

/* The data path starts: an empty scoreboard. */
void xtcp_sack_init(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->sacked_out = 0;
	xs->lost_out = 0;
	xs->retrans_out = 0;
	xs->high_sacked = xs->snd_una;
	xs->dsack_pending = 0;
	xs->rack_ok = 0;
}

/* ---- receiver ---- */

/* A segment beginning at @seq went to the out-of-order queue. */
void xtcp_sack_ooo_seen(struct sock *sk, u32 seq)
{
	xtcp_sk(sk)->sack_last_seq = seq;
}

/* [@start, @end) arrived twice: the next ACK reports it (RFC 2883). */
void xtcp_sack_dsack(struct sock *sk, u32 start, u32 end)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xs->sack_ok || !xtcp_before(start, end))
		return;
	xs->dsack_start = start;
	xs->dsack_end = end;
	xs->dsack_pending = 1;
}

/* The out-of-order skb holding @seq, or NULL. */
static struct sk_buff *xtcp_sack_ooo_find(struct xtcp_sock *xs, u32 seq)
{
	struct rb_node *node = xs->ooo_queue.rb_node;

	while (node) {
		struct sk_buff *skb = rb_to_skb(node);
		const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		if (xtcp_before(seq, cb->seq))
			node = node->rb_left;
		else if (!xtcp_before(seq, cb->end_seq))
			node = node->rb_right;
		else
			return skb;
	}
	return NULL;
}

/*
 * The contiguous range around @skb, its edges looked for across at most
 * XTCP_SACK_WALK_MAX skbs each way: a narrower block is still true.
 * *@lo gets the lowest skb of the range.
 */
static void xtcp_sack_range(struct sk_buff *skb, struct xtcp_sack_block *b,
			    struct sk_buff **lo)
{
	struct sk_buff *s, *n;
	int i;

	b->start = XTCP_SKB_CB(skb)->seq;
	b->end = XTCP_SKB_CB(skb)->end_seq;
	for (s = skb, i = 0; i < XTCP_SACK_WALK_MAX; i++, s = n) {
		n = skb_rb_prev(s);
		if (!n || XTCP_SKB_CB(n)->end_seq != b->start)
			break;
		b->start = XTCP_SKB_CB(n)->seq;
	}
	*lo = s;
	for (s = skb, i = 0; i < XTCP_SACK_WALK_MAX; i++, s = n) {
		n = skb_rb_next(s);
		if (!n || XTCP_SKB_CB(n)->seq != b->end)
			break;
		b->end = XTCP_SKB_CB(n)->end_seq;
	}
}

static bool xtcp_sack_overlap(const struct xtcp_sack_block *a,
			      const struct xtcp_sack_block *b)
{
	return xtcp_before(a->start, b->end) && xtcp_before(b->start, a->end);
}

/*
 * The SACK option of a pure ACK (@opts holds the other options already):
 * a pending D-SACK block, then the out-of-order queue's ranges.
 */
void xtcp_sack_out(struct sock *sk, struct xtcp_opts *opts)
{
	unsigned int room = xtcp_opts_sack_room(opts), n = 0, first;
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	struct sk_buff *skb, *lo;

	if (!room)
		return;
	if (xs->dsack_pending) {
		opts->sacks[n].start = xs->dsack_start;
		opts->sacks[n].end = xs->dsack_end;
		n++;
		xs->dsack_pending = 0;
		xs->dsack_sent++;
		XTCP_INC_STATS(net, DSACK_SENT);
	}
	first = n;
	skb = xtcp_sack_ooo_find(xs, xs->sack_last_seq);
	if (skb && n < room) {
		xtcp_sack_range(skb, &opts->sacks[n], &lo);
		n++;
	}
	/* The other ranges, from the highest down. */
	for (skb = xs->ooo_last; skb && n < room; skb = skb_rb_prev(lo)) {
		struct xtcp_sack_block b;
		unsigned int i;
		bool dup = false;

		xtcp_sack_range(skb, &b, &lo);
		for (i = first; i < n; i++)
			dup |= xtcp_sack_overlap(&b, &opts->sacks[i]);
		if (!dup)
			opts->sacks[n++] = b;
	}
	opts->nr_sacks = n;
	if (n > first)
		XTCP_ADD_STATS(net, SACK_BLOCKS_SENT, n - first);
}

/* ---- sender ---- */

/*
 * RFC 2883 4: the first block is a D-SACK if it lies below the
 * cumulative ACK or inside the second block.
 */
static bool xtcp_sack_is_dsack(const struct xtcp_opts *opts, u32 ack)
{
	const struct xtcp_sack_block *b = &opts->sacks[0];

	if (!xtcp_before(b->start, b->end))
		return false;
	if (!xtcp_after(b->end, ack))
		return true;
	return opts->nr_sacks > 1 &&
	       !xtcp_before(b->start, opts->sacks[1].start) &&
	       !xtcp_after(b->end, opts->sacks[1].end);
}

/* Mark the sent skbs entirely inside @b; true if any was not yet. */
static bool xtcp_sack_mark(struct sock *sk, const struct xtcp_sack_block *b)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;
	bool newly = false;

	skb_queue_walk(&sk->sk_write_queue, skb) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		if (skb == xs->send_head || !xtcp_before(cb->seq, b->end))
			break;
		if (cb->sacked || xtcp_before(cb->seq, b->start) ||
		    xtcp_after(cb->end_seq, b->end))
			continue;
		cb->sacked = 1;
		xs->sacked_out += cb->end_seq - cb->seq;
		xtcp_rack_delivered(sk, cb);
		newly = true;
	}
	return newly;
}

/*
 * The SACK blocks of an ACK of @ack, before SND.UNA moves: count, check
 * and mark. Returns true if anything was SACKed that was not before (the
 * ACK then counts as a duplicate, RFC 6675 2).
 */
bool xtcp_sack_tag(struct sock *sk, u32 ack, const struct xtcp_opts *opts)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	bool newly = false;
	unsigned int i = 0;

	if (!xs->sack_ok || !opts->nr_sacks)
		return false;
	if (xtcp_sack_is_dsack(opts, ack)) {
		xs->dsack_recv++;
		XTCP_INC_STATS(net, DSACK_RECV);
		i = 1;
	}
	for (; i < opts->nr_sacks; i++) {
		const struct xtcp_sack_block *b = &opts->sacks[i];

		if (!xtcp_before(b->start, b->end) ||
		    xtcp_before(b->start, xs->snd_una) ||
		    xtcp_after(b->end, xs->snd_nxt)) {
			XTCP_INC_STATS(net, SACK_BLOCKS_REJECTED);
			continue;
		}
		XTCP_INC_STATS(net, SACK_BLOCKS_RECV);
		newly |= xtcp_sack_mark(sk, b);
	}
	return newly;
}

/*
 * @cb's skb arrived (SACKed, or acknowledged by the ACK being processed):
 * RACK remembers the latest send time among what arrived. A resent skb
 * that arrives sooner than the lowest RTT after its last send may be the
 * earlier copy arriving (RFC 8985 6.2 step 2): its time says nothing.
 * Not so a loss probe: it went 2 SRTT after the last ACK, so an earlier
 * copy that had arrived would have been reported long before.
 */
void xtcp_rack_delivered(struct sock *sk, const struct xtcp_skb_cb *cb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xs->sack_ok)
		return;
	if (cb->retrans && !cb->probe &&
	    (s32)(xtcp_clock_us(sk) - cb->tx_us) < (s32)xtcp_min_rtt(xs))
		return;
	if (!xs->rack_ok || (s32)(cb->tx_us - xs->rack_tx_us) > 0) {
		xs->rack_tx_us = cb->tx_us;
		xs->rack_ok = 1;
	}
}

/* RACK's verdict on an skb not SACKed: sent well before what arrived. */
static bool xtcp_rack_lost(const struct xtcp_sock *xs,
			   const struct xtcp_skb_cb *cb, bool rack)
{
	return rack && xs->rack_ok &&
	       (s32)(xs->rack_tx_us - cb->tx_us) > (s32)(xtcp_min_rtt(xs) / 4);
}

/*
 * Recompute the scoreboard's sums and lost marks from the skbs, the
 * highest sent first; after the marks and after SND.UNA moved. Cheap
 * when nothing is SACKed, resent or lost: it returns at once.
 */
void xtcp_sack_update(struct sock *sk)
{
	struct sk_buff_head *q = &sk->sk_write_queue;
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 thresh = (XTCP_DUPACK_THRESHOLD - 1) * xs->mss;
	u32 sacked = 0, lost = 0, rtx = 0, nsacked = 0, high = xs->snd_una;
	bool loss = xs->ca_state == XTCP_CA_LOSS;
	struct net *net = sock_net(sk);
	bool rack = READ_ONCE(xtcp_sk_pernet(sk)->sysctl.rack);
	struct sk_buff *skb;

	if (!xs->sack_ok ||
	    (!xs->sacked_out && !xs->retrans_out && !xs->lost_out && !loss))
		return;
	skb = xs->send_head ? xs->send_head->prev : q->prev;
	for (; skb != (struct sk_buff *)q; skb = skb->prev) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
		u32 start = xtcp_after(xs->snd_una, cb->seq) ? xs->snd_una :
			    cb->seq;
		u32 len = xtcp_after(cb->end_seq, start) ?
			  cb->end_seq - start : 0;
		bool was = cb->lost, dup;

		if (cb->sacked) {
			if (!nsacked++)
				high = cb->end_seq;
			sacked += len;
			continue;
		}
		dup = nsacked >= XTCP_DUPACK_THRESHOLD || sacked > thresh ||
		      (loss && xtcp_before(cb->seq, xs->recover));
		cb->lost = dup;
		if (xtcp_rack_lost(xs, cb, rack)) {
			cb->lost = 1;
			/* Resent, and that copy is lost too: resend again. */
			if (cb->rtx_sack) {
				cb->rtx_sack = 0;
				XTCP_INC_STATS(net, LOST_RETRANSMIT);
			} else if (!was && !dup) {
				XTCP_INC_STATS(net, RACK_LOST);
			}
		}
		if (cb->lost)
			lost += len;
		if (cb->rtx_sack)
			rtx += len;
	}
	xs->sacked_out = sacked;
	xs->lost_out = lost;
	xs->retrans_out = rtx;
	xs->high_sacked = high;
}

/* Forget every SACK mark: the receiver may have dropped what it held. */
static void xtcp_sack_clear(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	skb_queue_walk(&sk->sk_write_queue, skb) {
		if (skb == xs->send_head)
			break;
		XTCP_SKB_CB(skb)->sacked = 0;
	}
	xs->sacked_out = 0;
	xs->high_sacked = xs->snd_una;
}

/* Has the receiver dropped what it SACKed? The next byte it wants is. */
static bool xtcp_sack_reneged(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb = skb_peek(&sk->sk_write_queue);

	return skb && skb != xs->send_head && XTCP_SKB_CB(skb)->sacked;
}

/*
 * SND.UNA moved: if it stopped at an skb marked SACKed, the receiver
 * reneged (RFC 2018 8): clear the marks, the holes are found again.
 */
void xtcp_sack_check_reneging(struct sock *sk)
{
	if (!xtcp_sk(sk)->sack_ok || !xtcp_sack_reneged(sk))
		return;
	XTCP_INC_STATS(sock_net(sk), SACK_RENEGING);
	xtcp_sack_clear(sk);
}

/*
 * A retransmission timeout, before congestion control enters Loss: a
 * new episode (nothing counts as resent), SACK marks kept unless the
 * receiver reneged or this is the second timeout in a row.
 */
void xtcp_sack_rto(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xs->sack_ok)
		return;
	if (xs->sacked_out && (xs->retransmits || xtcp_sack_reneged(sk))) {
		XTCP_INC_STATS(sock_net(sk), SACK_RTO_RESETS);
		xtcp_sack_clear(sk);
	}
	xtcp_sack_recovery_start(sk);
}

/*
 * A new recovery episode: what the last one resent may be resent again
 * (RFC 6675's HighRxt is per episode).
 */
void xtcp_sack_recovery_start(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	if (!xs->retrans_out)
		return;
	skb_queue_walk(&sk->sk_write_queue, skb) {
		if (skb == xs->send_head)
			break;
		XTCP_SKB_CB(skb)->rtx_sack = 0;
	}
	xs->retrans_out = 0;
}

/* IsLost(SND.UNA): SACK alone may start recovery (RFC 6675 5). */
bool xtcp_sack_head_lost(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb = skb_peek(&sk->sk_write_queue);

	return xs->sack_ok && skb && skb != xs->send_head &&
	       XTCP_SKB_CB(skb)->lost;
}

/* RFC 6675 4 SetPipe(): bytes believed in the network. */
u32 xtcp_sack_pipe(const struct xtcp_sock *xs)
{
	s64 pipe = (s64)(xs->snd_nxt - xs->snd_una) - xs->sacked_out -
		   xs->lost_out + xs->retrans_out;

	return pipe > 0 ? pipe : 0;
}
