// SPDX-License-Identifier: GPL-2.0
/*
 * The IPv4 protocol handler: every segment of protocol "ipproto" enters
 * here, in softirq context. It is validated (InErrs, InCsumErrors),
 * offered to the fault rules, then looked up: established table (sockets
 * and TIME_WAIT buckets) first, listeners second; with no taker it is
 * answered with RST (InNoSocket). No global lock is taken.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/filter.h>
#include <linux/skbuff.h>
#include <net/ip.h>
#include <net/protocol.h>
#include <net/route.h>
#include <net/sock.h>

#include "fault.h"
#include "icmp.h"
#include "mib.h"
#include "netns.h"
#include "output.h"
#include "proto.h"
#include "request.h"
#include "timewait.h"
#include "trace.h"
#include "xtcp.h"

int xtcp_backlog_rcv(struct sock *sk, struct sk_buff *skb)
{
	xtcp_rcv_state_process(sk, skb);
	return 0;
}

/* Give @skb to a full socket, or to its backlog if user context owns it. */
void xtcp_rcv_sk(struct sock *sk, struct sk_buff *skb)
{
	/* Nothing below needs the route; a backlogged skb must not keep it. */
	skb_dst_drop(skb);
	nf_reset_ct(skb);

	bh_lock_sock_nested(sk);
	if (!sock_owned_by_user(sk)) {
		xtcp_rcv_state_process(sk, skb);
	} else if (sk_add_backlog(sk, skb, READ_ONCE(sk->sk_rcvbuf) +
					   READ_ONCE(sk->sk_sndbuf))) {
		bh_unlock_sock(sk);
		kfree_skb(skb);
		return;
	}
	bh_unlock_sock(sk);
}

/* The control block from the header; @payload: bytes after it. */
static void xtcp_fill_cb(struct sk_buff *skb, unsigned int payload)
{
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	const struct xtcphdr *th = xtcp_hdr(skb);

	cb->seq = ntohl(th->seq);
	cb->ack_seq = ntohl(th->ack_seq);
	cb->flags = th->flags;
	cb->window = ntohs(th->window);
	cb->end_seq = cb->seq + payload + !!(th->flags & XTCP_FLAG_SYN) +
		      !!(th->flags & XTCP_FLAG_FIN);
}

/*
 * The socket's filter (SO_ATTACH_FILTER, SO_ATTACH_BPF) and the LSM's
 * socket_sock_rcv_skb hook, as tcp_filter() runs them: over the whole
 * segment, header included, which the filter may not trim away. Running
 * a program writes into skb->cb (bpf_compute_data_pointers()) and the
 * filter may trim the payload, so the control block is filled again.
 * False: drop (FilterDrops).
 */
static bool xtcp_filter(struct sock *sk, struct sk_buff *skb)
{
	unsigned int doff = skb->data - skb_transport_header(skb);
	int err;

	__skb_push(skb, doff);
	err = sk_filter_trim_cap(sk, skb, doff);
	__skb_pull(skb, doff);
	if (err) {
		XTCP_INC_STATS(sock_net(sk), FILTER_DROPS);
		return false;
	}
	xtcp_fill_cb(skb, skb->len);
	return true;
}

/* Header sanity and checksum; fills the control block. */
static bool xtcp_validate(struct net *net, struct sk_buff *skb)
{
	const struct xtcphdr *th;
	unsigned int doff;

	if (!pskb_may_pull(skb, XTCP_HDR_LEN))
		goto bad;
	th = (const struct xtcphdr *)skb->data;
	doff = xtcp_hdr_doff(th);
	if (doff < XTCP_HDR_LEN || doff > skb->len)
		goto bad;
	if (!pskb_may_pull(skb, doff))
		goto bad;

	if (skb_checksum_init(skb, xtcp_ipproto, inet_compute_pseudo) ||
	    (!skb_csum_unnecessary(skb) && __skb_checksum_complete(skb))) {
		XTCP_INC_STATS(net, IN_CSUM_ERRORS);
		goto bad;
	}

	xtcp_fill_cb(skb, skb->len - doff);
	return true;
bad:
	XTCP_INC_STATS(net, IN_ERRS);
	return false;
}

static int xtcp_v4_rcv(struct sk_buff *skb)
{
	struct net *net = dev_net(skb->dev);
	const struct xtcphdr *th;
	const struct iphdr *iph;
	struct xtcp_ehnode *n;
	struct sock *sk;

	/*
	 * An skb of many segments (a GSO skb over loopback or veth, never
	 * cut) counts as the segments it stands for, and once in InGsoSkbs.
	 */
	if (skb_is_gso(skb) && skb_shinfo(skb)->gso_segs > 1) {
		XTCP_ADD_STATS(net, IN_SEGS, skb_shinfo(skb)->gso_segs);
		XTCP_INC_STATS(net, IN_GSO_SKBS);
	} else {
		XTCP_INC_STATS(net, IN_SEGS);
	}

	if (skb->pkt_type != PACKET_HOST || !xtcp_validate(net, skb))
		goto drop;

	th = xtcp_hdr(skb);
	iph = ip_hdr(skb);
	__skb_pull(skb, xtcp_hdr_doff(th));
	trace_xtcp_segment_in(th, iph->saddr, iph->daddr, skb->len);
	if (xtcp_fault_should_drop_th(net, XTCP_FAULT_IN, th, skb->len))
		goto drop;

	n = xtcp_ehash_lookup(net, iph->saddr, th->source, iph->daddr,
			      th->dest, inet_iif(skb), inet_sdif(skb));
	if (n && n->kind == XTCP_EH_SOCK) {
		sk = &container_of(n, struct xtcp_sock, eh)->inet.sk;
		if (xtcp_filter(sk, skb))
			xtcp_rcv_sk(sk, skb);
		else
			kfree_skb(skb);
		sock_put(sk);
		return 0;
	}
	if (n) {
		/* NULL: consumed; else a new SYN reused the 4-tuple. */
		sk = xtcp_tw_rcv(container_of(n, struct xtcp_tw, eh), skb);
		if (!sk)
			return 0;
	} else {
		sk = xtcp_lhash_lookup(net, iph->daddr, th->dest,
				       iph->saddr, th->source,
				       inet_iif(skb), inet_sdif(skb));
	}
	if (sk) {
		if (xtcp_filter(sk, skb))
			xtcp_listen_rcv(sk, skb);
		else
			kfree_skb(skb);
		sock_put(sk);
		return 0;
	}

	XTCP_INC_STATS(net, IN_NO_SOCKET);
	if (!ipv4_is_multicast(iph->saddr) && !ipv4_is_lbcast(iph->saddr) &&
	    !ipv4_is_zeronet(iph->saddr))
		xtcp_send_reset_reply(net, NULL, skb);
drop:
	kfree_skb(skb);
	return 0;
}

static const struct net_protocol xtcp_protocol = {
	.handler	= xtcp_v4_rcv,
	.err_handler	= xtcp_icmp_err,
};

int xtcp_input_register(void)
{
	if (inet_add_protocol(&xtcp_protocol, xtcp_ipproto) < 0) {
		pr_err("IP protocol %d is already registered (module parameter ipproto=%d)\n",
		       xtcp_ipproto, xtcp_ipproto);
		return -EBUSY;
	}
	return 0;
}

void xtcp_input_unregister(void)
{
	inet_del_protocol(&xtcp_protocol, xtcp_ipproto);
	/* No handler may still be running once the module text goes away. */
	synchronize_net();
}
