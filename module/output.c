// SPDX-License-Identifier: GPL-2.0
/*
 * Segment building and transmission.
 *
 * Every transmission builds a fresh skb and copies the payload from the
 * write queue: a queued skb is never handed to IP, so a retransmission can
 * not race with an earlier copy still sitting in a device queue.
 * Each segment passes the fault hook just before IP; a dropped segment is
 * treated exactly like one lost on the wire.
 */

#include <linux/skbuff.h>
#include <net/inet_common.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/sock.h>

#include "fault.h"
#include "netns.h"
#include "output.h"
#include "proto.h"
#include "timer.h"
#include "trace.h"
#include "xtcp.h"

#define XTCP_SKB_HEADROOM	(MAX_HEADER + XTCP_MAX_HDR_LEN)

u16 xtcp_mss_for_mtu(unsigned int mtu)
{
	int mss = (int)mtu - (int)sizeof(struct iphdr) - XTCP_HDR_LEN;

	return clamp(mss, 88, XTCP_SEG_MAX);
}

/* Allocate a segment with @len payload bytes copied from @data. */
static struct sk_buff *xtcp_alloc_seg(const struct sk_buff *data,
				      unsigned int len)
{
	struct sk_buff *skb;

	skb = alloc_skb(XTCP_SKB_HEADROOM + len, GFP_ATOMIC);
	if (!skb)
		return NULL;
	skb_reserve(skb, XTCP_SKB_HEADROOM);
	if (len && skb_copy_bits(data, 0, skb_put(skb, len), len)) {
		kfree_skb(skb);
		return NULL;
	}
	return skb;
}

/* Push and fill the header; the checksum needs both addresses. */
static struct xtcphdr *xtcp_build_hdr(struct sk_buff *skb, __be16 sport,
				      __be16 dport, u32 seq, u32 ack, u8 flags,
				      u16 window, u16 mss)
{
	unsigned int hlen = XTCP_HDR_LEN + (mss ? XTCP_OPT_MSS_LEN : 0);
	struct xtcphdr *th;

	th = skb_push(skb, hlen);
	skb_reset_transport_header(skb);
	memset(th, 0, hlen);
	th->source = sport;
	th->dest = dport;
	th->seq = htonl(seq);
	th->ack_seq = (flags & XTCP_FLAG_ACK) ? htonl(ack) : 0;
	th->doff_res = (hlen / 4) << 4;
	th->flags = flags;
	th->window = htons(window);
	if (mss) {
		u8 *opt = (u8 *)(th + 1);

		opt[0] = XTCP_OPT_MSS;
		opt[1] = XTCP_OPT_MSS_LEN;
		opt[2] = mss >> 8;
		opt[3] = mss & 0xff;
	}
	return th;
}

static void xtcp_csum(struct sk_buff *skb, struct xtcphdr *th, __be32 saddr,
		      __be32 daddr)
{
	th->check = 0;
	th->check = csum_tcpudp_magic(saddr, daddr, skb->len, xtcp_ipproto,
				      csum_partial(th, skb->len, 0));
	skb->ip_summed = CHECKSUM_NONE;
	trace_xtcp_segment_out(th, saddr, daddr, skb->len - xtcp_hdr_doff(th));
}

/* Count the segment and ask the fault rules; true: hand it to IP. */
static bool xtcp_out_ok(struct net *net, const struct xtcphdr *th,
			unsigned int payload)
{
	XTCP_INC_STATS(net, OUT_SEGS);
	if (th->flags & XTCP_FLAG_RST)
		XTCP_INC_STATS(net, OUT_RSTS);
	return !xtcp_fault_should_drop(net, XTCP_FAULT_OUT, th->flags, payload,
				       th->source, th->dest);
}

/*
 * Send one segment of a full socket: @seq and @flags as given, ACK and
 * window current, payload copied from @data (NULL: none). A SYN carries our
 * MSS. Failures are losses; the retransmission timer repairs them.
 */
void xtcp_transmit(struct sock *sk, u32 seq, u8 flags,
		   const struct sk_buff *data)
{
	unsigned int len = data ? data->len : 0;
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct inet_sock *inet = inet_sk(sk);
	struct sk_buff *skb;
	struct xtcphdr *th;
	u16 wnd;

	skb = xtcp_alloc_seg(data, len);
	if (!skb)
		return;
	if (len)
		flags |= XTCP_FLAG_PSH;
	wnd = (flags & XTCP_FLAG_SYN) ? XTCP_WND_MAX : xtcp_rcv_window(sk);
	if (flags & XTCP_FLAG_ACK)
		xs->rcv_wnd = wnd;
	th = xtcp_build_hdr(skb, inet->inet_sport, inet->inet_dport, seq,
			    xs->rcv_nxt, flags, wnd,
			    (flags & XTCP_FLAG_SYN) ? xs->mss : 0);
	xtcp_csum(skb, th, inet->inet_saddr, inet->inet_daddr);

	if (!xtcp_out_ok(sock_net(sk), th, len)) {
		kfree_skb(skb);
		return;
	}
	skb_set_owner_w(skb, sk);
	ip_queue_xmit(sk, skb, &inet->cork.fl);
}

void xtcp_send_ack(struct sock *sk)
{
	xtcp_transmit(sk, xtcp_sk(sk)->snd_nxt, XTCP_FLAG_ACK, NULL);
}

/* RFC 5961 challenge ACK, rate-limited per namespace. */
void xtcp_send_challenge_ack(struct sock *sk)
{
	struct net *net = sock_net(sk);

	if (!xtcp_challenge_ack_allowed(net))
		return;
	XTCP_INC_STATS(net, CHALLENGE_ACKS);
	xtcp_send_ack(sk);
}

void xtcp_send_syn(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u8 flags = XTCP_FLAG_SYN;

	/* A SYN of a simultaneous open is answered with SYN-ACK. */
	if (sk->sk_state == TCP_SYN_RECV)
		flags |= XTCP_FLAG_ACK;
	xtcp_transmit(sk, xs->iss, flags, NULL);
}

void xtcp_send_active_reset(struct sock *sk)
{
	xtcp_trace_reset_abort(sk);
	xtcp_transmit(sk, xtcp_sk(sk)->snd_nxt,
		      XTCP_FLAG_RST | XTCP_FLAG_ACK, NULL);
}

/* Send what the peer's window allows, in synchronized states only. */
void xtcp_push(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV | TCPF_CLOSE))
		return;

	while ((skb = xs->send_head)) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		if (skb->len &&
		    xtcp_after(cb->end_seq, xs->snd_una + xs->snd_wnd))
			break;
		xtcp_transmit(sk, cb->seq, XTCP_FLAG_ACK | cb->flags, skb);
		if (xtcp_after(cb->end_seq, xs->snd_nxt))
			xs->snd_nxt = cb->end_seq;
		xs->send_head = skb_queue_is_last(&sk->sk_write_queue, skb) ?
				NULL : skb->next;
		xtcp_timer_data_sent(sk);
	}
	if (xs->send_head && xs->snd_una == xs->snd_nxt)
		xtcp_timer_window_closed(sk);
}

/* Retransmit the oldest unacknowledged segment; false if there is none. */
bool xtcp_retransmit_head(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	struct sk_buff *skb;

	skb = skb_peek(&sk->sk_write_queue);
	if (!skb || skb == xs->send_head)
		return false;
	xtcp_transmit(sk, XTCP_SKB_CB(skb)->seq,
		      XTCP_FLAG_ACK | XTCP_SKB_CB(skb)->flags, skb);
	XTCP_INC_STATS(net, RETRANS_SEGS);
	if (XTCP_SKB_CB(skb)->flags & XTCP_FLAG_FIN)
		XTCP_INC_STATS(net, FIN_RETRANS);
	else
		XTCP_INC_STATS(net, DATA_RETRANS);
	return true;
}

/* The window is shut and nothing is in flight: send one segment anyway. */
void xtcp_probe_window(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb = xs->send_head;

	if (!skb)
		return;
	xtcp_transmit(sk, XTCP_SKB_CB(skb)->seq,
		      XTCP_FLAG_ACK | XTCP_SKB_CB(skb)->flags, skb);
	if (xtcp_after(XTCP_SKB_CB(skb)->end_seq, xs->snd_nxt))
		xs->snd_nxt = XTCP_SKB_CB(skb)->end_seq;
	xs->send_head = skb_queue_is_last(&sk->sk_write_queue, skb) ?
			NULL : skb->next;
	xtcp_timer_data_sent(sk);
}

/* The FIN takes one sequence number after all queued data. */
void xtcp_queue_fin(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	if (xs->fin_queued)
		return;
	skb = alloc_skb(0, sk->sk_allocation | __GFP_NOFAIL);
	XTCP_SKB_CB(skb)->seq = xs->write_seq;
	XTCP_SKB_CB(skb)->end_seq = ++xs->write_seq;
	XTCP_SKB_CB(skb)->flags = XTCP_FLAG_FIN;
	__skb_queue_tail(&sk->sk_write_queue, skb);
	sk_wmem_queued_add(sk, skb->truesize);
	if (!xs->send_head)
		xs->send_head = skb;
	xs->fin_queued = 1;
	xtcp_push(sk);
}

/* ---- segments without a socket ---- */

int xtcp_ctl_init(struct net *net)
{
	return inet_ctl_sock_create(&xtcp_pernet(net)->ctl_sk, PF_INET,
				    SOCK_RAW, xtcp_ipproto, net);
}

void xtcp_ctl_exit(struct net *net)
{
	inet_ctl_sock_destroy(xtcp_pernet(net)->ctl_sk);
}

void xtcp_ctl_send(struct net *net, const struct xtcp_ctl_seg *seg)
{
	struct sock *ctl = xtcp_pernet(net)->ctl_sk;
	struct sk_buff *skb;
	struct xtcphdr *th;
	struct flowi4 fl4;
	struct rtable *rt;

	skb = xtcp_alloc_seg(NULL, 0);
	if (!skb)
		return;
	th = xtcp_build_hdr(skb, seg->sport, seg->dport, seg->seq, seg->ack,
			    seg->flags, seg->window, seg->mss);
	xtcp_csum(skb, th, seg->saddr, seg->daddr);
	if (!xtcp_out_ok(net, th, 0))
		goto drop;

	flowi4_init_output(&fl4, 0, 0, 0, RT_SCOPE_UNIVERSE, xtcp_ipproto, 0,
			   seg->daddr, seg->saddr, seg->dport, seg->sport,
			   sock_net_uid(net, NULL));
	rt = ip_route_output_key(net, &fl4);
	if (IS_ERR(rt))
		goto drop;
	skb_dst_set(skb, &rt->dst);

	local_bh_disable();
	ip_build_and_send_pkt(skb, ctl, seg->saddr, seg->daddr, NULL, 0);
	local_bh_enable();
	return;
drop:
	kfree_skb(skb);
}

/*
 * Answer a segment nobody wants with RST (RFC 9293 3.10.7.1): take the
 * sequence number from its ACK if it has one, else acknowledge it.
 */
void xtcp_send_reset_reply(struct net *net, struct sk_buff *skb)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	const struct xtcphdr *th = xtcp_hdr(skb);
	const struct iphdr *iph = ip_hdr(skb);
	struct xtcp_ctl_seg seg = {
		.saddr	= iph->daddr,
		.daddr	= iph->saddr,
		.sport	= th->dest,
		.dport	= th->source,
	};

	if (cb->flags & XTCP_FLAG_RST)
		return;
	trace_xtcp_reset_send(seg.saddr, seg.sport, seg.daddr, seg.dport,
			      XTCP_RST_REPLY, cb->flags);
	if (cb->flags & XTCP_FLAG_ACK) {
		seg.seq = cb->ack_seq;
		seg.flags = XTCP_FLAG_RST;
	} else {
		seg.ack = cb->end_seq;
		seg.flags = XTCP_FLAG_RST | XTCP_FLAG_ACK;
	}
	xtcp_ctl_send(net, &seg);
}
