// SPDX-License-Identifier: GPL-2.0
/*
 * Segment building and transmission.
 *
 * The write queue holds skbs whose payload sits in page fragments, with
 * headroom for the headers: one MSS each, or up to XTCP_GSO_MAX bytes of
 * whole segments as xtcp_gso_goal() allows; such a large skb leaves as
 * one GSO skb that the stack cuts into segments (xtcp_gso_segment(),
 * below). A transmission hands IP a clone whose header goes into
 * that headroom (no payload copy); if an earlier clone of the same skb is
 * still in a device queue, a copy instead, so two transmissions never
 * share a header. Retransmissions are never larger than one MSS: a large
 * skb is cut at MSS boundaries first, and all sent ones once SACK blocks
 * arrive, so the scoreboard works on segments as before. The checksum is
 * left to the device (CHECKSUM_PARTIAL) only if the route's device can
 * checksum any protocol (NETIF_F_HW_CSUM), or for a GSO skb, whose
 * segments xtcp_gso_segment() completes; otherwise it is computed here.
 * Each segment passes the fault hook just before IP; a dropped segment is
 * treated exactly like one lost on the wire.
 */

#include <linux/sctp.h>
#include <linux/skbuff.h>
#include <net/inet_common.h>
#include <net/protocol.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/sock.h>

#include "cong.h"
#include "fault.h"
#include "mib.h"
#include "netns.h"
#include "options.h"
#include "output.h"
#include "proto.h"
#include "sack.h"
#include "timer.h"
#include "trace.h"
#include "tune.h"
#include "xtcp.h"

u16 xtcp_mss_for_mtu(unsigned int mtu)
{
	int mss = (int)mtu - (int)sizeof(struct iphdr) - XTCP_HDR_LEN;

	return clamp(mss, XTCP_MSS_MIN, XTCP_SEG_MAX);
}

/* Allocate a header-only segment. */
static struct sk_buff *xtcp_alloc_hdr(void)
{
	struct sk_buff *skb;

	skb = alloc_skb(XTCP_SKB_HEADROOM, GFP_ATOMIC);
	if (skb)
		skb_reserve(skb, XTCP_SKB_HEADROOM);
	return skb;
}

/* Push and fill the header; the checksum needs both addresses. */
static struct xtcphdr *xtcp_build_hdr(struct sk_buff *skb, __be16 sport,
				      __be16 dport, u32 seq, u32 ack, u8 flags,
				      u16 window, const struct xtcp_opts *opts)
{
	unsigned int hlen = XTCP_HDR_LEN + xtcp_opts_size(opts);
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
	xtcp_opts_write((u8 *)(th + 1), opts);
	return th;
}

static void xtcp_csum(struct sk_buff *skb, struct xtcphdr *th, __be32 saddr,
		      __be32 daddr)
{
	/* @th is at skb->data; the payload may be in page fragments. */
	th->check = 0;
	th->check = csum_tcpudp_magic(saddr, daddr, skb->len, xtcp_ipproto,
				      skb_checksum(skb, 0, skb->len, 0));
	skb->ip_summed = CHECKSUM_NONE;
	trace_xtcp_segment_out(th, saddr, daddr, skb->len - xtcp_hdr_doff(th));
}

/*
 * Leave the checksum to the device (lo and veth never compute it): the
 * field holds the folded pseudo-header sum. Only for a device that
 * checksums an arbitrary protocol: one with just NETIF_F_IP_CSUM handles
 * TCP and UDP, and the core's fallback (skb_csum_hwoffload_help()) would
 * pass it our segment because the checksum sits at TCP's offset.
 */
static void xtcp_csum_partial(struct sk_buff *skb, struct xtcphdr *th,
			      __be32 saddr, __be32 daddr)
{
	th->check = ~csum_tcpudp_magic(saddr, daddr, skb->len, xtcp_ipproto,
				       0);
	skb->ip_summed = CHECKSUM_PARTIAL;
	skb->csum_start = skb_transport_header(skb) - skb->head;
	skb->csum_offset = offsetof(struct xtcphdr, check);
	trace_xtcp_segment_out(th, saddr, daddr, skb->len - xtcp_hdr_doff(th));
}

/* Does the device of @sk's cached route checksum any protocol? */
static bool xtcp_dev_csum(struct sock *sk)
{
	const struct dst_entry *dst;
	bool hw;

	rcu_read_lock();
	dst = __sk_dst_get(sk);
	hw = dst && dst->dev &&
	     (READ_ONCE(dst->dev->features) & NETIF_F_HW_CSUM);
	rcu_read_unlock();
	return hw;
}

/*
 * The payload one skb of @sk may carry: one MSS, or as many whole
 * segments as the route's device takes in one GSO skb. Many segments
 * only while the namespace's gso sysctl says so, no fault rule exists in
 * the namespace (a rule must see every wire segment), and the route is
 * known and adds no transform header (IPsec: software segmentation would
 * happen before it). The device's gso_max_segs and gso_max_size bound
 * the count, as they bound TCP's skbs (`ip link set DEV gso_max_segs 1`
 * makes both send one segment per skb); XTCP_GSO_MAX bounds the bytes.
 */
u32 xtcp_gso_goal(struct sock *sk)
{
	const struct dst_entry *dst;
	u32 mss = xtcp_sk(sk)->mss;
	u32 segs = 1, size;

	if (!READ_ONCE(xtcp_sk_pernet(sk)->sysctl.gso) ||
	    xtcp_fault_net_active(sock_net(sk)))
		return mss;
	rcu_read_lock();
	dst = __sk_dst_get(sk);
	if (dst && dst->dev && !dst->header_len) {
		size = min_t(u32, XTCP_GSO_MAX,
			     READ_ONCE(dst->dev->gso_max_size));
		segs = min_t(u32, size / mss,
			     READ_ONCE(dst->dev->gso_max_segs));
	}
	rcu_read_unlock();
	return mss * max_t(u32, segs, 1);
}

/*
 * Mark the clone or copy @skb of a queued skb, @hlen bytes of header then
 * @len of payload, as one GSO skb of @mss-byte segments, or as a plain
 * segment if it holds no more than one.
 *
 * The type is SKB_GSO_SCTP: only software devices (loopback, veth,
 * bridges, tunnels over them) advertise NETIF_F_GSO_SCTP, part of
 * NETIF_F_GSO_SOFTWARE, so a hardware NIC never receives such an skb
 * whole; validate_xmit_skb() cuts it first through xtcp_gso_segment().
 * A TCP type would let a TSO NIC treat our header as TCP's.
 *
 * The core computes a GSO skb's wire size for the MTU check
 * (skb_gso_validate_network_len()) as the IP header, an SCTP common
 * header (12 bytes) and gso_size. Our header with its options is larger,
 * so gso_size carries the difference: @mss + @hlen - 12. Every segment
 * then checks as exactly the size it will have on the wire, and
 * xtcp_gso_segment() takes the 12 and the header back off.
 */
static void xtcp_set_gso(struct sk_buff *skb, unsigned int hlen,
			 unsigned int len, unsigned int mss)
{
	struct skb_shared_info *shinfo = skb_shinfo(skb);

	if (len <= mss) {
		shinfo->gso_size = 0;
		shinfo->gso_segs = 0;
		shinfo->gso_type = 0;
		return;
	}
	shinfo->gso_type = SKB_GSO_SCTP;
	shinfo->gso_size = mss + hlen - sizeof(struct sctphdr);
	shinfo->gso_segs = DIV_ROUND_UP(len, mss);
}

/*
 * Count the wire segments in @xn, @net's state, and ask the fault rules;
 * true: hand it to IP.
 */
static bool xtcp_out_ok(struct net *net, struct xtcp_net *xn,
			const struct xtcphdr *th, unsigned int payload,
			unsigned int segs)
{
	XTCP_XN_ADD_STATS(xn, OUT_SEGS, segs);
	if (th->flags & XTCP_FLAG_RST)
		XTCP_XN_INC_STATS(xn, OUT_RSTS);
	return !xtcp_fault_should_drop_th(net, XTCP_FAULT_OUT, th, payload);
}

/*
 * The smallest window scale that lets the largest receive buffer the
 * socket may get be advertised (half of it: xtcp_select_window()).
 */
u8 xtcp_wscale_for(const struct sock *sk)
{
	u32 space = xtcp_rcvbuf_max(sk) / 2;
	u8 ws = 0;

	while (ws < XTCP_WSCALE_MAX && (XTCP_WND_MAX << ws) < space)
		ws++;
	return ws;
}

/*
 * The window the free receive buffer would allow from RCV.NXT: half of it
 * (a queued skb costs more than its payload), up to what the scale can say.
 */
u32 xtcp_free_window(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	int space = READ_ONCE(sk->sk_rcvbuf) - atomic_read(&sk->sk_rmem_alloc);

	if (space <= 0)
		return 0;
	return min_t(u32, space / 2, XTCP_WND_MAX << xs->rcv_wscale);
}

/*
 * The window to advertise (RFC 9293 3.8.6.2.2, RFC 1122 4.2.3.3): half the
 * free receive buffer (a queued skb costs more than its payload), never
 * moving the right edge back, and moving it forward only by at least
 * min(MSS, half the buffer), which avoids the silly window syndrome.
 * Returns the 16-bit field and records what it announced.
 */
u16 xtcp_select_window(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int rcvbuf = READ_ONCE(sk->sk_rcvbuf);
	u32 cur = xtcp_rcv_wnd_left(xs), wnd = xtcp_free_window(sk);
	u32 limit = XTCP_WND_MAX << xs->rcv_wscale;

	if (wnd <= cur)
		wnd = cur;
	else if (wnd - cur < min_t(u32, xs->mss, rcvbuf / 2))
		wnd = cur;
	/* Round up, not down: the right edge never recedes. */
	wnd = min_t(u32, ALIGN(wnd, 1U << xs->rcv_wscale), limit);
	xs->rcv_wnd = wnd;
	xs->rcv_wup = xs->rcv_nxt;
	return wnd >> xs->rcv_wscale;
}

/*
 * Send one segment of a full socket: @seq and @flags as given, ACK and
 * window current, payload from the queued skb @data (NULL: none), which is
 * cloned, or copied if an earlier clone is still in a device queue. A SYN
 * carries our MSS and window scale, and every segment a timestamp if the
 * connection offered or uses them, a SYN SACK-permitted if it offers
 * SACK, and a pure ACK SACK blocks if it uses SACK (sack.c). Failures
 * are losses; the retransmission timer repairs them.
 */
static void xtcp_transmit(struct sock *sk, u32 seq, u8 flags,
			  struct sk_buff *data)
{
	unsigned int len = data ? data->len : 0, segs = 1;
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct inet_sock *inet = inet_sk(sk);
	struct xtcp_opts opts = { .wscale = -1 };
	struct sk_buff *skb;
	struct xtcphdr *th;
	u16 wnd;

	if (len) {
		if (skb_cloned(data))
			skb = pskb_copy(data, GFP_ATOMIC);
		else
			skb = skb_clone(data, GFP_ATOMIC);
		if (!skb)
			return;
		memset(skb->cb, 0, sizeof(skb->cb));
		flags |= XTCP_FLAG_PSH;
	} else {
		skb = xtcp_alloc_hdr();
		if (!skb)
			return;
	}
	xtcp_ts_out(sk, &opts);
	if (flags & XTCP_FLAG_SYN) {
		/* A SYN's window is never scaled (RFC 7323 2.2). */
		wnd = min_t(u32, XTCP_WND_MAX, READ_ONCE(sk->sk_rcvbuf) / 2);
		xs->rcv_wnd = wnd;
		opts.mss = xs->mss;
		opts.wscale = xs->rcv_wscale;
		opts.sack_ok = xs->sack_ok;
	} else {
		wnd = (flags & XTCP_FLAG_ACK) ? xtcp_select_window(sk) :
		      xs->rcv_wnd >> xs->rcv_wscale;
		if (xs->sack_ok && !len && flags == XTCP_FLAG_ACK)
			xtcp_sack_out(sk, &opts);
	}
	th = xtcp_build_hdr(skb, inet->inet_sport, inet->inet_dport, seq,
			    xs->rcv_nxt, flags, wnd, &opts);
	if (flags & XTCP_FLAG_ACK)
		xtcp_timer_ack_sent(sk);
	if (len) {
		xtcp_set_gso(skb, xtcp_hdr_doff(th), len, xs->mss);
		if (skb_is_gso(skb))
			segs = skb_shinfo(skb)->gso_segs;
	}
	/*
	 * No route yet (a first SYN): software, whatever the device. A GSO
	 * skb is always CHECKSUM_PARTIAL, as the core requires;
	 * xtcp_gso_segment() completes it for a device that cannot.
	 */
	if (segs > 1 || xtcp_dev_csum(sk))
		xtcp_csum_partial(skb, th, inet->inet_saddr, inet->inet_daddr);
	else
		xtcp_csum(skb, th, inet->inet_saddr, inet->inet_daddr);

	if (!xtcp_out_ok(sock_net(sk), xtcp_sk_pernet(sk), th, len, segs)) {
		kfree_skb(skb);
		return;
	}
	if (segs > 1)
		XTCP_SK_INC_STATS(sk, GSO_SKBS);
	skb_set_owner_w(skb, sk);
	xs->segs_out += segs;
	if (len) {
		xs->data_segs_out += segs;
		xs->bytes_sent += len;
		if (xtcp_before(seq, xs->snd_nxt))
			xs->bytes_retrans += len;
		xs->last_data_sent = jiffies;
	}
	ip_queue_xmit(sk, skb, &inet->cork.fl);
}

void xtcp_send_ack(struct sock *sk)
{
	xtcp_transmit(sk, xtcp_sk(sk)->snd_nxt, XTCP_FLAG_ACK, NULL);
}

/*
 * At most one ACK per invalid_ratelimit_ms in reply to unacceptable
 * segments, per socket, TIME_WAIT bucket or request entry (@last: jiffies
 * of the last one sent, 0 for none), as tcp_invalid_ratelimit: spoofed
 * segments cannot turn us into an ACK reflector, two confused ends cannot
 * ACK each other in a loop, and one connection cannot drain the
 * namespace's challenge budget. True: do not send (OowRateLimited).
 */
bool __xtcp_oow_rate_limited(struct net *net, u32 *last)
{
	u32 ms = READ_ONCE(xtcp_pernet(net)->sysctl.invalid_ratelimit_ms);
	u32 now = (u32)jiffies, prev = READ_ONCE(*last);

	if (prev && ms) {
		s32 elapsed = (s32)(now - prev);

		if (elapsed >= 0 && elapsed < (s32)msecs_to_jiffies(ms)) {
			XTCP_INC_STATS(net, OOW_RATE_LIMITED);
			return true;
		}
	}
	WRITE_ONCE(*last, now);
	return false;
}

/*
 * As above, for a reply to @skb. A segment that occupies sequence space
 * without SYN (data, FIN) is never limited: its ACK is how a peer that
 * retransmits learns where we stand.
 */
bool xtcp_oow_rate_limited(struct net *net, const struct sk_buff *skb,
			   u32 *last)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

	if (cb->seq != cb->end_seq && !(cb->flags & XTCP_FLAG_SYN))
		return false;
	return __xtcp_oow_rate_limited(net, last);
}

/*
 * RFC 5961 7: the namespace's challenge ACK budget. Each second it is
 * drawn anew from [limit/2, limit/2 + limit), so that an off-path
 * attacker who exhausts it cannot learn from the remainder how many
 * another connection used (CVE-2016-5696: a fixed, shared count told
 * whether a guessed 4-tuple existed). challenge_ack_limit INT_MAX: none.
 */
static bool xtcp_challenge_ack_allowed(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);
	u32 limit = READ_ONCE(xn->sysctl.challenge_ack_limit);
	unsigned long now = jiffies / HZ;

	if (limit == INT_MAX)
		return true;
	/* A racy refill at a second boundary only grants a few more. */
	if (READ_ONCE(xn->challenge_stamp) != now) {
		u32 half = (limit + 1) / 2;
		u32 draw = (u32)(((u64)get_random_u32() * limit) >> 32);

		WRITE_ONCE(xn->challenge_stamp, now);
		atomic_set(&xn->challenge_count, half + draw);
	}
	return atomic_dec_if_positive(&xn->challenge_count) >= 0;
}

/* RFC 5961 challenge ACK: rate-limited per socket, then per namespace. */
void xtcp_send_challenge_ack(struct sock *sk)
{
	struct net *net = sock_net(sk);

	if (__xtcp_oow_rate_limited(net, &xtcp_sk(sk)->last_oow_ack))
		return;
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
	xtcp_clock_refresh(sk);
	xtcp_transmit(sk, xs->iss, flags, NULL);
}

void xtcp_send_active_reset(struct sock *sk)
{
	xtcp_trace_reset_abort(sk);
	xtcp_clock_refresh(sk);
	xtcp_transmit(sk, xtcp_sk(sk)->snd_nxt,
		      XTCP_FLAG_RST | XTCP_FLAG_ACK, NULL);
}

/*
 * A keepalive or zero-window probe: an old sequence number, which the peer
 * answers with an ACK carrying its current window (RFC 9293 3.8.4).
 */
void xtcp_send_probe(struct sock *sk)
{
	xtcp_transmit(sk, xtcp_sk(sk)->snd_una - 1, XTCP_FLAG_ACK, NULL);
}

/* The connection is synchronized: start the data path. */
void xtcp_init_transfer(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->rcv_wup = xs->rcv_nxt;
	xs->max_window = xs->snd_wnd;
	/* Every segment's timestamp comes out of the payload, as on TCP. */
	xs->mss -= xtcp_ts_mss_cost(sk);
	xtcp_sack_init(sk);
	xtcp_cong_init(sk);
	xtcp_clock_refresh(sk);
	xtcp_buf_init_transfer(sk);
}

/*
 * Cut the queued @skb after @len bytes; the rest becomes the next skb and
 * inherits the end, the flags (FIN) and the scoreboard marks, so a cut
 * can be made in a sent skb too. Page fragments move without a copy
 * (skb_split()); a linear tail is copied. A clone still in a device
 * queue shares the skb's head: it is made private first. Their memory
 * stays charged as before: the moved fragments' share of truesize moves
 * with them, and only the new skb's own allocation is charged anew.
 */
static int xtcp_fragment(struct sock *sk, struct sk_buff *skb, u32 len)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	unsigned int nlen = skb_headlen(skb) > len ? skb_headlen(skb) - len : 0;
	unsigned int old = skb->truesize, moved;
	struct sk_buff *buff;
	int delta;

	if (!len || len >= skb->len)
		return -EINVAL;
	if (skb_unclone(skb, GFP_ATOMIC))
		return -ENOMEM;
	/* Unsharing may have resized the head; account the difference. */
	delta = (int)skb->truesize - (int)old;
	if (delta) {
		sk_wmem_queued_add(sk, delta);
		sk_mem_charge(sk, delta);
	}
	buff = alloc_skb(XTCP_SKB_HEADROOM + nlen, GFP_ATOMIC);
	if (!buff)
		return -ENOMEM;
	skb_reserve(buff, XTCP_SKB_HEADROOM);
	skb_split(skb, buff, len);
	moved = buff->data_len;
	skb->truesize -= moved;
	buff->truesize += moved;

	*XTCP_SKB_CB(buff) = *cb;
	XTCP_SKB_CB(buff)->seq = cb->seq + len;
	cb->end_seq = cb->seq + len;
	cb->flags = 0;
	__skb_queue_after(&sk->sk_write_queue, skb, buff);
	sk_wmem_queued_add(sk, buff->truesize - moved);
	sk_wmem_schedule(sk, buff->truesize - moved);	/* forced, as TCP's split */
	sk_mem_charge(sk, buff->truesize - moved);
	return 0;
}

/*
 * Cut the sent skbs larger than one MSS at MSS boundaries, so that the
 * SACK scoreboard (whole skbs SACKed, lost, resent) sees segments, as it
 * did before skbs grew. Cheap once done: those skbs are one MSS then.
 * False if memory ran out (the caller goes on with what was cut).
 */
bool xtcp_split_sent(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	skb_queue_walk(&sk->sk_write_queue, skb) {
		if (skb == xs->send_head)
			break;
		if (skb->len > xs->mss && xtcp_fragment(sk, skb, xs->mss))
			return false;
	}
	return true;
}

/* Transmit a queued segment for the first time; false if it could not go. */
static bool xtcp_send_new(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_sock *xs = xtcp_sk(sk);

	/* Queued larger than the route now takes in one skb. */
	if (skb->len > xs->mss) {
		u32 goal = xtcp_gso_goal(sk);

		if (skb->len > goal && xtcp_fragment(sk, skb, goal))
			return false;
	}
	cb->tx_us = xtcp_clock_us(sk);
	xtcp_transmit(sk, cb->seq, XTCP_FLAG_ACK | cb->flags, skb);
	if (xtcp_after(cb->end_seq, xs->snd_nxt))
		xs->snd_nxt = cb->end_seq;
	xs->send_head = skb_queue_is_last(&sk->sk_write_queue, skb) ?
			NULL : skb->next;
	xtcp_timer_data_sent(sk);
	return true;
}

/*
 * Transmit a queued segment again, counting it: at most one MSS of it.
 * A large skb the peer acknowledged in part first loses that part (cut
 * off, freed by the next ACK), then the rest is cut after one MSS.
 * Returns the skb that went, whose cb->seq and end_seq the callers read,
 * or NULL if memory for a cut ran out (nothing went: the RTO repairs it).
 */
static struct sk_buff *xtcp_resend(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	struct xtcp_skb_cb *cb;
	u32 acked = 0;

	if (xtcp_after(xs->snd_una, XTCP_SKB_CB(skb)->seq))
		acked = xs->snd_una - XTCP_SKB_CB(skb)->seq;
	if (skb->len > xs->mss && acked && acked < skb->len) {
		if (xtcp_fragment(sk, skb, acked))
			return NULL;
		skb = skb->next;
	}
	if (skb->len > xs->mss && xtcp_fragment(sk, skb, xs->mss))
		return NULL;
	cb = XTCP_SKB_CB(skb);
	cb->retrans = 1;
	cb->probe = 0;
	xtcp_clock_refresh(sk);
	cb->tx_us = xtcp_clock_us(sk);
	xtcp_transmit(sk, cb->seq, XTCP_FLAG_ACK | cb->flags, skb);
	xs->total_retrans++;
	XTCP_INC_STATS(net, RETRANS_SEGS);
	if (cb->flags & XTCP_FLAG_FIN)
		XTCP_INC_STATS(net, FIN_RETRANS);
	else
		XTCP_INC_STATS(net, DATA_RETRANS);
	return skb;
}

/*
 * The MSS fell (path MTU discovery, icmp.c): cut every queued skb longer
 * than it, sent or not, and resend at once the sent ones that were too
 * long, which a hop with DF set dropped (TCP's tcp_simple_retransmit()
 * likewise resends only segments above the new MSS). This is no sign of
 * congestion: cwnd and ssthresh stay, and the bytes resent were in
 * flight already.
 */
void xtcp_mtu_resegment(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 resend_end = xs->snd_una;
	struct sk_buff *skb, *next;
	bool sent = true;

	for (skb = skb_peek(&sk->sk_write_queue); skb; skb = next) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		if (skb == xs->send_head)
			sent = false;
		if (skb->len > xs->mss) {
			/* Sent too long: every piece of it goes again. */
			if (sent && xtcp_after(cb->end_seq, resend_end))
				resend_end = cb->end_seq;
			if (xtcp_fragment(sk, skb, xs->mss))
				return;	/* the RTO repairs what is left */
		}
		next = skb_queue_is_last(&sk->sk_write_queue, skb) ?
		       NULL : skb->next;
		if (sent && xtcp_before(cb->seq, resend_end))
			xtcp_resend(sk, skb);
	}
}

/* The first queued skb covering @seq, or NULL. */
static struct sk_buff *xtcp_find_seq(struct sock *sk, u32 seq)
{
	struct sk_buff *skb;

	skb_queue_walk(&sk->sk_write_queue, skb) {
		if (skb == xtcp_sk(sk)->send_head)
			break;
		if (xtcp_after(XTCP_SKB_CB(skb)->end_seq, seq))
			return skb;
	}
	return NULL;
}

/* After a timeout everything unacknowledged is lost: resend, cwnd allowing. */
static void xtcp_retransmit_lost(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	if (xtcp_before(xs->rtx_seq, xs->snd_una))
		xs->rtx_seq = xs->snd_una;
	while (xs->ca_state == XTCP_CA_LOSS &&
	       xtcp_before(xs->rtx_seq, xs->snd_nxt) &&
	       xtcp_in_flight(xs) < xs->cwnd) {
		skb = xtcp_find_seq(sk, xs->rtx_seq);
		if (skb)
			skb = xtcp_resend(sk, skb);
		if (!skb)
			break;
		xs->rtx_seq = XTCP_SKB_CB(skb)->end_seq;
	}
}

/*
 * SACK loss recovery (RFC 6675 5, NextSeg()), in Recovery and after a
 * timeout: resend, as long as the pipe leaves room in cwnd, the holes
 * that are neither SACKed nor resent in this episode, oldest first: those
 * the scoreboard deems lost (rule 1; above the highest SACKed byte only
 * RACK or the timeout deem any), and, when there is no new data to send
 * instead (rule 2), the others below the highest SACKed byte too (rule
 * 3). The walk stops at the first hole not lost: IsLost grows downwards,
 * and RACK's verdicts follow send times, which rise with sequence except
 * for what was resent, and that is skipped.
 * @force: the first hole goes whatever the pipe (the fast retransmit,
 * the timeout's first resend).
 */
void xtcp_sack_retransmit(struct sock *sk, bool force)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	bool rule3 = !xs->send_head;
	struct sk_buff *skb;

	skb_queue_walk(&sk->sk_write_queue, skb) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

		if (skb == xs->send_head)
			break;
		if (!force && !cb->lost &&
		    !xtcp_before(cb->seq, xs->high_sacked))
			break;
		if (cb->sacked || cb->rtx_sack)
			continue;
		if (!cb->lost && !force && !rule3)
			break;
		if (!force && xtcp_in_flight(xs) >= xs->cwnd)
			break;
		force = false;
		skb = xtcp_resend(sk, skb);
		if (!skb)
			break;
		cb = XTCP_SKB_CB(skb);
		cb->rtx_sack = 1;
		xs->retrans_out += cb->end_seq - cb->seq;
		xs->sack_retrans++;
		XTCP_INC_STATS(sock_net(sk), SACK_RETRANS_SEGS);
		if (xtcp_before(xs->rtx_seq, cb->end_seq))
			xs->rtx_seq = cb->end_seq;
	}
}

/*
 * Sender-side silly window avoidance: split a segment to fit the window
 * only if the part is a full MSS or half the largest window the peer ever
 * offered (RFC 9293 3.8.6.2.1).
 */
static bool xtcp_split_to_window(struct sock *sk, struct sk_buff *skb,
				 u32 room)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!room || room >= skb->len)
		return false;
	if (room < xs->mss && room < xs->max_window / 2)
		return false;
	return !xtcp_fragment(sk, skb, room);
}

/*
 * May a segment shorter than the MSS at the tail of the queue go now?
 * Nagle (RFC 896): not while data is unacknowledged, unless XTCP_NODELAY;
 * XTCP_CORK or MSG_MORE: not at all until uncorked or flushed.
 */
static bool xtcp_partial_ok(const struct xtcp_sock *xs, enum xtcp_push how)
{
	switch (how) {
	case XTCP_PUSH_FORCE:
		return true;
	case XTCP_PUSH_MORE:
		return false;
	default:
		if (xs->cork)
			return false;
		return xs->nodelay || xs->snd_una == xs->snd_nxt;
	}
}

/*
 * Send what the congestion and receive windows allow, in synchronized
 * states only: retransmissions after a timeout first, then new data;
 * @how says whether a partial segment at the tail may go
 * (xtcp_partial_ok()). Within an event: the caller refreshed the socket's
 * clock (xtcp.h), which stamps what goes.
 */
void __xtcp_push(struct sock *sk, enum xtcp_push how)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	bool rwnd_limited = false;
	struct sk_buff *skb;

	if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV | TCPF_CLOSE))
		return;
	/* Data queued: the sender is busy until the queue is empty. */
	if (xs->send_head && xs->send_head->len)
		xtcp_chrono_start(sk, XTCP_CHRONO_BUSY);

	if (xs->sack_ok && (xs->ca_state == XTCP_CA_RECOVERY ||
			    xs->ca_state == XTCP_CA_LOSS))
		xtcp_sack_retransmit(sk, false);
	else if (xs->ca_state == XTCP_CA_LOSS)
		xtcp_retransmit_lost(sk);

	while ((skb = xs->send_head)) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
		u32 wnd_end = xs->snd_una + xs->snd_wnd;

		if (skb->len) {
			u32 flight = xtcp_in_flight(xs);

			if (flight >= xs->cwnd)
				break;
			/*
			 * A large skb takes what cwnd has room for, in whole
			 * segments, at least one (a segment may overshoot cwnd
			 * as it always could).
			 */
			if (skb->len > xs->mss && skb->len > xs->cwnd - flight &&
			    xtcp_fragment(sk, skb,
					  max_t(u32, xs->mss,
						rounddown(xs->cwnd - flight,
							  xs->mss))) == -ENOMEM)
				break;
			if (xtcp_after(cb->end_seq, wnd_end) &&
			    !xtcp_split_to_window(sk, skb,
						  xtcp_after(wnd_end, cb->seq) ?
						  wnd_end - cb->seq : 0)) {
				rwnd_limited = true;
				break;
			}
			if (skb->len < xs->mss &&
			    skb_queue_is_last(&sk->sk_write_queue, skb) &&
			    !xtcp_partial_ok(xs, how))
				break;
		}
		if (!xtcp_send_new(sk, skb))
			break;
	}
	if (rwnd_limited) {
		xtcp_chrono_start(sk, XTCP_CHRONO_RWND);
	} else {
		xtcp_chrono_stop(sk, XTCP_CHRONO_RWND);
		/*
		 * Everything queued is sent, the congestion window has room,
		 * and the writer waits for buffer: the send buffer is what
		 * holds this connection back.
		 */
		if (!xs->send_head && xtcp_in_flight(xs) < xs->cwnd &&
		    sk->sk_socket &&
		    test_bit(SOCK_NOSPACE, &sk->sk_socket->flags) &&
		    ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT)))
			xtcp_chrono_start(sk, XTCP_CHRONO_SNDBUF);
	}
	if (xs->send_head && xs->snd_una == xs->snd_nxt)
		xtcp_timer_window_closed(sk);
}

/* Retransmit the oldest unacknowledged segment; false if there is none. */
bool xtcp_retransmit_head(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	skb = skb_peek(&sk->sk_write_queue);
	if (!skb || skb == xs->send_head)
		return false;
	skb = xtcp_resend(sk, skb);
	if (skb && xtcp_before(xs->rtx_seq, XTCP_SKB_CB(skb)->end_seq))
		xs->rtx_seq = XTCP_SKB_CB(skb)->end_seq;
	return true;
}

/*
 * The loss probe timer fired (RFC 8985 7.3): one segment goes, so that
 * its ACK, with SACK, tells what happened to a tail no later segment
 * would report. New data if the peer's window takes a segment of it,
 * else the last segment sent again. False if nothing could go.
 */
bool xtcp_send_loss_probe(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb = xs->send_head;
	struct sk_buff_head *q = &sk->sk_write_queue;

	if (skb) {
		struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
		u32 len = min_t(u32, skb->len, xs->mss);

		if (!xtcp_after(cb->seq + len, xs->snd_una + xs->snd_wnd) &&
		    (skb->len <= len || !xtcp_fragment(sk, skb, len))) {
			if (!xtcp_send_new(sk, skb))
				return false;
			xtcp_trace_loss_probe(sk, cb->seq, skb->len, false);
			return true;
		}
	}
	skb = skb ? skb->prev : q->prev;
	if (skb == (struct sk_buff *)q)
		return false;
	/* Only the last segment of a large skb. */
	if (skb->len > xs->mss) {
		if (xtcp_fragment(sk, skb, rounddown(skb->len - 1, xs->mss)))
			return false;
		skb = skb->next;
	}
	skb = xtcp_resend(sk, skb);
	if (!skb)
		return false;
	XTCP_SKB_CB(skb)->probe = 1;
	xtcp_trace_loss_probe(sk, XTCP_SKB_CB(skb)->seq, skb->len, true);
	return true;
}

/*
 * The persist timer fired: nothing is in flight and the window does not
 * take the next segment. Send what fits if anything does, else a probe.
 * Returns true if a zero-window probe went out.
 */
bool xtcp_probe_window(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb = xs->send_head;
	u32 room = xs->snd_wnd;

	if (!skb)
		return false;
	if (room && (room >= skb->len || !xtcp_fragment(sk, skb, room))) {
		xtcp_send_new(sk, skb);
		return false;
	}
	xtcp_send_probe(sk);
	XTCP_INC_STATS(sock_net(sk), ZERO_WINDOW_PROBES);
	return true;
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
	sk_wmem_schedule(sk, skb->truesize);	/* forced: a FIN is never refused */
	sk_mem_charge(sk, skb->truesize);
	if (!xs->send_head)
		xs->send_head = skb;
	xs->fin_queued = 1;
	xtcp_clock_refresh(sk);
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

/*
 * The route for @seg: through its device, by its mark, for the uid of
 * the socket it speaks for. The caller owns the result (or an ERR_PTR).
 */
struct rtable *xtcp_ctl_route(struct net *net, const struct xtcp_ctl_seg *seg,
			      struct flowi4 *fl4)
{
	flowi4_init_output(fl4, seg->oif, seg->mark, 0, RT_SCOPE_UNIVERSE,
			   xtcp_ipproto, 0, seg->daddr, seg->saddr, seg->dport,
			   seg->sport, sock_net_uid(net, seg->sk));
	return ip_route_output_key(net, fl4);
}

/*
 * Build @seg and send it on @rt, which xtcp_ctl_route() looked up into
 * @fl4; the reference passes to the segment. The IP header is built
 * here, with the policy of @seg->sk or of the control socket: not by
 * ip_queue_xmit() on a listener, which would put the listener's IP
 * options on a SYN-ACK (TCP's carries none of them), nor by
 * ip_build_and_send_pkt(), which not every supported kernel exports.
 */
void xtcp_ctl_xmit(struct net *net, const struct xtcp_ctl_seg *seg,
		   struct rtable *rt, const struct flowi4 *fl4)
{
	struct sock *ctl = xtcp_pernet(net)->ctl_sk;
	const struct sock *psk = seg->sk ? seg->sk : ctl;
	struct xtcp_opts opts = {
		.mss	= seg->mss,
		.wscale	= seg->mss ? seg->wscale : -1,
		.ts	= seg->ts,
		.tsval	= seg->tsval,
		.tsecr	= seg->tsecr,
		.sack_ok = seg->sack_ok,
	};
	struct sk_buff *skb;
	struct xtcphdr *th;
	struct iphdr *iph;
	int ttl = -1;

	skb = xtcp_alloc_hdr();
	if (!skb)
		goto put;
	th = xtcp_build_hdr(skb, seg->sport, seg->dport, seg->seq, seg->ack,
			    seg->flags, seg->window, &opts);
	xtcp_csum(skb, th, fl4->saddr, fl4->daddr);
	if (!xtcp_out_ok(net, xtcp_pernet(net), th, 0, 1)) {
		kfree_skb(skb);
		goto put;
	}

	iph = skb_push(skb, sizeof(*iph));
	skb_reset_network_header(skb);
	memset(iph, 0, sizeof(*iph));
	iph->version = 4;
	iph->ihl = sizeof(*iph) / 4;
	if (seg->sk) {
		iph->tos = READ_ONCE(inet_sk(seg->sk)->tos);
		ttl = READ_ONCE(inet_sk(seg->sk)->uc_ttl);
		skb->priority = READ_ONCE(seg->sk->sk_priority);
	}
	iph->ttl = ttl < 0 ? ip4_dst_hoplimit(&rt->dst) : ttl;
	/*
	 * DF as the policy says, and, as on TCP's SYN-ACK, always on a
	 * packet no link may fragment further (at most 68 bytes, RFC 791),
	 * which then needs no IP ID (ip_select_ident() gives it 0). Every
	 * segment sent here is that small (60 bytes with every option), so
	 * a listener's IP_PMTUDISC_DONT leaves DF on its SYN-ACKs, as TCP's.
	 */
	if (skb->len <= IPV4_MIN_MTU || ip_dont_fragment(psk, &rt->dst))
		iph->frag_off = htons(IP_DF);
	iph->protocol = xtcp_ipproto;
	iph->saddr = fl4->saddr;
	iph->daddr = fl4->daddr;
	skb->protocol = htons(ETH_P_IP);
	skb->mark = seg->mark;
	skb_dst_set(skb, &rt->dst);
	ip_select_ident(net, skb, NULL);

	/* __ip_local_out() fills in the length and the header checksum. */
	local_bh_disable();
	ip_local_out(net, ctl, skb);
	local_bh_enable();
	return;
put:
	ip_rt_put(rt);
}

/* Route @seg and send it. */
void xtcp_ctl_send(struct net *net, const struct xtcp_ctl_seg *seg)
{
	struct flowi4 fl4;
	struct rtable *rt;

	rt = xtcp_ctl_route(net, seg, &fl4);
	if (!IS_ERR(rt))
		xtcp_ctl_xmit(net, seg, rt, &fl4);
}

/*
 * Answer a segment nobody wants with RST (RFC 9293 3.10.7.1): take the
 * sequence number from its ACK if it has one, else acknowledge it. @sk,
 * if the segment reached one (a listener, a socket), routes the reply
 * as its own segments are: through its bound device, by its mark, as
 * TCP's reset does; without one the main route decides.
 */
void xtcp_send_reset_reply(struct net *net, const struct sock *sk,
			   const struct sk_buff *skb)
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
	if (sk) {
		seg.oif = READ_ONCE(sk->sk_bound_dev_if);
		seg.mark = READ_ONCE(sk->sk_mark);
	}
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

/* ---- the GSO offload: large skbs cut into wire segments ---- */

/*
 * Cut a GSO skb of ours (xtcp_set_gso()) into its segments where the
 * device cannot take it whole: validate_xmit_skb() for a device without
 * NETIF_F_GSO_SCTP (every hardware NIC), ip_finish_output_gso() when a
 * segment would exceed the MTU. inet_gso_segment() has pulled the IP
 * header and fixes each segment's IP header after us. skb_segment()
 * copies our header to each segment; here each gets its sequence number,
 * FIN and PSH stay on the last only, and the checksum is left partial
 * for a device that checksums any protocol (NETIF_F_HW_CSUM), else
 * computed: NETIF_F_IP_CSUM covers only TCP and UDP.
 */
static struct sk_buff *xtcp_gso_segment(struct sk_buff *skb,
					netdev_features_t features)
{
	struct skb_shared_info *shinfo = skb_shinfo(skb);
	unsigned int doff, mss, gso_size = shinfo->gso_size;
	__be32 saddr, daddr;
	struct sk_buff *segs, *seg;
	struct xtcphdr *th;
	u8 last_flags;
	u32 seq;

	if (!(shinfo->gso_type & SKB_GSO_SCTP) ||
	    !pskb_may_pull(skb, XTCP_HDR_LEN))
		return ERR_PTR(-EINVAL);
	th = xtcp_hdr(skb);
	doff = xtcp_hdr_doff(th);
	if (doff < XTCP_HDR_LEN || !pskb_may_pull(skb, doff) ||
	    gso_size + sizeof(struct sctphdr) <= doff)
		return ERR_PTR(-EINVAL);
	th = xtcp_hdr(skb);
	mss = gso_size + sizeof(struct sctphdr) - doff;
	if (skb->len - doff <= mss)
		return ERR_PTR(-EINVAL);
	saddr = ip_hdr(skb)->saddr;
	daddr = ip_hdr(skb)->daddr;
	seq = ntohl(th->seq);
	last_flags = th->flags;

	__skb_pull(skb, doff);
	shinfo->gso_size = mss;		/* skb_segment() cuts at gso_size */
	segs = skb_segment(skb, features);
	shinfo->gso_size = gso_size;
	if (IS_ERR_OR_NULL(segs))
		return segs ? : ERR_PTR(-EINVAL);

	for (seg = segs; seg; seg = seg->next) {
		unsigned int l4len = seg->len - skb_transport_offset(seg);

		th = xtcp_hdr(seg);
		th->seq = htonl(seq);
		th->flags = seg->next ?
			    last_flags & ~(XTCP_FLAG_FIN | XTCP_FLAG_PSH) :
			    last_flags;
		seq += l4len - doff;
		if (features & NETIF_F_HW_CSUM) {
			th->check = ~csum_tcpudp_magic(saddr, daddr, l4len,
						       xtcp_ipproto, 0);
			seg->ip_summed = CHECKSUM_PARTIAL;
			seg->csum_start = skb_transport_header(seg) -
					  seg->head;
			seg->csum_offset = offsetof(struct xtcphdr, check);
		} else {
			__wsum sum;

			th->check = 0;
			sum = skb_checksum(seg, skb_transport_offset(seg),
					   l4len, 0);
			th->check = csum_tcpudp_magic(saddr, daddr, l4len,
						      xtcp_ipproto, sum);
			seg->ip_summed = CHECKSUM_NONE;
		}
	}
	return segs;
}

static const struct net_offload xtcp_offload = {
	.callbacks = {
		.gso_segment = xtcp_gso_segment,
	},
};

int xtcp_offload_register(void)
{
	if (inet_add_offload(&xtcp_offload, xtcp_ipproto)) {
		pr_err("IP protocol %d already has an offload\n", xtcp_ipproto);
		return -EBUSY;
	}
	return 0;
}

void xtcp_offload_unregister(void)
{
	/* inet_del_offload() waits (synchronize_net()) for running users. */
	inet_del_offload(&xtcp_offload, xtcp_ipproto);
}
