// SPDX-License-Identifier: GPL-2.0
/*
 * ICMP errors about xtcp segments (net_protocol.err_handler), after
 * RFC 1122 4.2.3.9, RFC 5927 and Linux TCP's tcp_v4_err():
 *
 *  - the quoted header names the connection: a socket, a request entry
 *    of a listener, or a TIME_WAIT bucket (ignored). Only the first 8
 *    bytes of it are sure to be quoted: ports and sequence number, which
 *    is all that is read;
 *  - the quoted sequence number must lie in SND.UNA..SND.NXT (a request
 *    entry: be its ISS), else the message is ignored (IcmpOutOfWindow):
 *    a blind attacker must guess a live sequence number to be heard;
 *  - fragmentation needed lowers the route's path MTU and the MSS and
 *    resends at once what was sent too long (path MTU discovery, RFC
 *    1191; DF is set unless IP_MTU_DISCOVER says otherwise);
 *  - in SYN_SENT and SYN_RECV an error ends the connection attempt with
 *    its errno (a hard error); later, errors are soft: remembered in
 *    sk_err_soft, reported if the connection times out, or at once with
 *    IP_RECVERR, and forgotten when data is acknowledged.
 *
 * A socket owned by user context is not changed from softirq: the work
 * is left to release_sock() (xtcp_icmp_release_cb(), IcmpDeferred), where
 * TCP would keep only a soft error.
 */

#include <linux/errqueue.h>
#include <linux/icmp.h>
#include <linux/skbuff.h>
#include <net/icmp.h>
#include <net/inet_connection_sock.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/sock.h>

#include "compat.h"
#include "hash.h"
#include "icmp.h"
#include "mib.h"
#include "options.h"
#include "output.h"
#include "proto.h"
#include "request.h"
#include "timewait.h"
#include "trace.h"
#include "xtcp.h"

u16 xtcp_mss_for_path(const struct sock *sk, unsigned int mtu)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	const struct ip_options_rcu *opt;
	unsigned int optlen = 0;
	u16 mss;

	rcu_read_lock();
	opt = rcu_dereference(inet_sk(sk)->inet_opt);
	if (opt)
		optlen = opt->opt.optlen;
	rcu_read_unlock();

	mss = xtcp_mss_for_mtu(mtu > optlen ? mtu - optlen : 0);
	if (xs->user_mss)
		mss = min(mss, xs->user_mss);
	/* Before the SYN-ACK, peer_mss is only RFC 9293's default. */
	if (!((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_CLOSE)))
		mss = min(mss, xs->peer_mss) - xtcp_ts_mss_cost(sk);
	return mss;
}

void xtcp_icmp_options_changed(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct dst_entry *dst;

	lock_sock(sk);
	dst = __sk_dst_get(sk);
	if (dst && !((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN))) {
		u16 mss = xtcp_mss_for_path(sk, dst_mtu(dst));

		if (mss < xs->mss) {
			xs->mss = mss;
			xtcp_mtu_resegment(sk);
		}
	}
	release_sock(sk);
}

/*
 * The socket's cached route, or a new one for the connection's flow if
 * it is gone or stale (as ip_queue_xmit() would look it up before the
 * next segment), now cached. A source route's first hop stands in for
 * the peer. Socket locked; the route is borrowed from the cache.
 */
static struct dst_entry *xtcp_route_refresh(struct sock *sk)
{
	struct dst_entry *dst = __sk_dst_check(sk, 0);
	struct inet_sock *inet = inet_sk(sk);
	const struct ip_options_rcu *opt;
	struct rtable *rt;
	__be32 daddr;

	if (dst)
		return dst;
	rcu_read_lock();
	opt = rcu_dereference(inet->inet_opt);
	daddr = opt && opt->opt.srr ? opt->opt.faddr : inet->inet_daddr;
	rt = ip_route_output_ports(sock_net(sk), &inet->cork.fl.u.ip4, sk,
				   daddr, inet->inet_saddr, inet->inet_dport,
				   inet->inet_sport, sk->sk_protocol,
				   ip_sock_rt_tos(sk), sk->sk_bound_dev_if);
	rcu_read_unlock();
	if (IS_ERR(rt))
		return NULL;
	sk_setup_caps(sk, &rt->dst);
	return &rt->dst;
}

/*
 * Fragmentation needed: mtu_info is the next hop's MTU. The route learns
 * it whatever IP_MTU_DISCOVER says (as on TCP); the MSS follows only if
 * the socket discovers the path MTU. Socket locked, not owned by user.
 */
static void xtcp_mtu_reduced(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct dst_entry *dst;
	u16 mss;

	if ((1 << sk->sk_state) & (TCPF_LISTEN | TCPF_CLOSE))
		return;
	/*
	 * Our own lookup rather than inet_csk_update_pmtu(), which Linux
	 * 7.2 no longer exports. Lowering the MTU may invalidate the cached
	 * route (a new exception entry), so it is looked up again after.
	 */
	dst = xtcp_route_refresh(sk);
	if (!dst)
		return;
	dst->ops->update_pmtu(dst, sk, NULL, READ_ONCE(xs->mtu_info), true);
	dst = xtcp_route_refresh(sk);
	if (!dst)
		return;
	if (inet->pmtudisc == IP_PMTUDISC_DONT || !ip_sk_accept_pmtu(sk))
		return;
	mss = xtcp_mss_for_path(sk, dst_mtu(dst));
	if (mss >= xs->mss)
		return;
	xs->mss = mss;
	XTCP_INC_STATS(sock_net(sk), ICMP_PMTU_UPDATES);
	xtcp_mtu_resegment(sk);
}

/*
 * An error for a full socket, locked and not owned by user. In the
 * handshake it ends the attempt; later it is soft, unless IP_RECVERR
 * asks for it at once (the connection stays, as on TCP).
 */
static void xtcp_icmp_apply(struct sock *sk, int err)
{
	struct net *net = sock_net(sk);

	switch (sk->sk_state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		XTCP_INC_STATS(net, ICMP_HARD_ERRORS);
		WRITE_ONCE(sk->sk_err, err);
		/* The error is visible before the state: as xtcp_reset(). */
		smp_wmb();
		xtcp_done(sk);
		if (!sock_flag(sk, SOCK_DEAD))
			sk_error_report(sk);
		return;
	case TCP_CLOSE:
	case TCP_LISTEN:
		return;
	}
	XTCP_INC_STATS(net, ICMP_SOFT_ERRORS);
	WRITE_ONCE(sk->sk_err_soft, err);
	if (xtcp_recverr(sk)) {
		WRITE_ONCE(sk->sk_err, err);
		sk_error_report(sk);
	}
}

void xtcp_icmp_release_cb(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (test_and_clear_bit(XTCP_F_MTU_DEFERRED, &xs->flags)) {
		xtcp_mtu_reduced(sk);
		/* release_sock()'s caller still holds a reference. */
		__sock_put(sk);
	}
	if (test_and_clear_bit(XTCP_F_ERR_DEFERRED, &xs->flags)) {
		xtcp_icmp_apply(sk, READ_ONCE(xs->icmp_err));
		__sock_put(sk);
	}
}

/* Leave @bit's work to release_sock(), with a reference for it. */
static void xtcp_icmp_defer(struct sock *sk, int bit)
{
	XTCP_INC_STATS(sock_net(sk), ICMP_DEFERRED);
	if (!test_and_set_bit(bit, &xtcp_sk(sk)->flags))
		sock_hold(sk);
}

/*
 * IP_RECVERR: queue the ICMP for recvmsg(MSG_ERRQUEUE), as IPv4's
 * ip_icmp_error() does (not exported by every supported kernel). The
 * clone keeps the ICMP's headers; its data starts at the quoted xtcp
 * header, and addr_offset finds the quoted destination address.
 */
static void xtcp_icmp_queue_err(struct sock *sk, struct sk_buff *skb,
				int err, __be16 port, u32 info, u8 *payload)
{
	const struct icmphdr *icmph = icmp_hdr(skb);
	struct sock_exterr_skb *serr;
	struct sk_buff *clone;

	if (!xtcp_recverr(sk))
		return;
	clone = skb_clone(skb, GFP_ATOMIC);
	if (!clone)
		return;
	serr = SKB_EXT_ERR(clone);
	memset(&serr->ee, 0, sizeof(serr->ee));
	serr->ee.ee_errno = err;
	serr->ee.ee_origin = SO_EE_ORIGIN_ICMP;
	serr->ee.ee_type = icmph->type;
	serr->ee.ee_code = icmph->code;
	serr->ee.ee_info = info;
	serr->addr_offset = (u8 *)&((struct iphdr *)(icmph + 1))->daddr -
			    skb_network_header(skb);
	serr->port = port;
	serr->opt_stats = false;
	if (skb_pull(clone, payload - skb->data)) {
		skb_reset_transport_header(clone);
		if (!sock_queue_err_skb(sk, clone))
			return;
	}
	kfree_skb(clone);
}

/* The mirror of IPv4's ip_recv_error(): socket-level, no lock needed. */
int xtcp_icmp_recv_error(struct sock *sk, struct msghdr *msg, size_t len)
{
	DECLARE_SOCKADDR(struct sockaddr_in *, sin, msg->msg_name);
	struct {
		struct sock_extended_err ee;
		struct sockaddr_in	offender;
	} errhdr;
	struct sock_exterr_skb *serr;
	struct sk_buff *skb;
	size_t copied;
	int err;

	skb = sock_dequeue_err_skb(sk);
	if (!skb)
		return -EAGAIN;
	copied = skb->len;
	if (copied > len) {
		msg->msg_flags |= MSG_TRUNC;
		copied = len;
	}
	err = skb_copy_datagram_msg(skb, 0, msg, copied);
	if (err) {
		kfree_skb(skb);
		return err;
	}
	sock_recv_timestamp(msg, sk, skb);

	serr = SKB_EXT_ERR(skb);
	if (sin && serr->port) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = *(__be32 *)(skb_network_header(skb) +
						   serr->addr_offset);
		sin->sin_port = serr->port;
		memset(&sin->sin_zero, 0, sizeof(sin->sin_zero));
		msg->msg_namelen = sizeof(*sin);
	}
	memcpy(&errhdr.ee, &serr->ee, sizeof(errhdr.ee));
	memset(&errhdr.offender, 0, sizeof(errhdr.offender));
	if (serr->ee.ee_origin == SO_EE_ORIGIN_ICMP) {
		errhdr.offender.sin_family = AF_INET;
		errhdr.offender.sin_addr.s_addr = ip_hdr(skb)->saddr;
	}
	put_cmsg(msg, SOL_IP, IP_RECVERR, sizeof(errhdr), &errhdr);
	msg->msg_flags |= MSG_ERRQUEUE;
	consume_skb(skb);
	return copied;
}

/*
 * The errno of a destination-unreachable code: TCP's table
 * (icmp_err_convert), except protocol unreachable. A host whose kernel
 * has no xtcp answers with it what a TCP host answers with RST or port
 * unreachable, so connect() reports ECONNREFUSED, not ENOPROTOOPT.
 * Returns 0 for codes outside the table.
 */
static int xtcp_unreach_errno(int code)
{
	int err;

	if (code > NR_ICMP_UNREACH)
		return 0;
	err = icmp_err_convert[code].errno;
	if (code == ICMP_PROT_UNREACH)
		err = ECONNREFUSED;
	return err;
}

/* A request entry's SYN-ACK drew an ICMP: the listener decides. */
static int xtcp_icmp_request(struct net *net, struct sk_buff *skb,
			     const struct iphdr *iph, const struct xtcphdr *th,
			     u32 info, bool fatal)
{
	int action = XTCP_ICMP_IGNORED;
	struct sock *lsk;
	bool ok;

	lsk = xtcp_lhash_lookup(net, iph->saddr, th->source, iph->daddr,
				th->dest, inet_iif(skb), inet_sdif(skb));
	if (!lsk) {
		XTCP_INC_STATS(net, ICMP_NO_SOCKET);
		return -ENOENT;
	}
	ok = xtcp_request_icmp(lsk, iph->saddr, th->source, iph->daddr,
			       th->dest, ntohl(th->seq), fatal);
	sock_put(lsk);
	if (!ok) {
		XTCP_INC_STATS(net, ICMP_OUT_OF_WINDOW);
		action = XTCP_ICMP_OUT_OF_WINDOW;
	} else if (fatal) {
		XTCP_INC_STATS(net, ICMP_HARD_ERRORS);
		action = XTCP_ICMP_HARD;
	}
	trace_xtcp_icmp(iph->saddr, th->source, iph->daddr, th->dest,
			icmp_hdr(skb)->type, icmp_hdr(skb)->code,
			ntohl(th->seq), info, action, 0);
	return 0;
}

/* The tracepoint, from the quoted header: src is our end. */
static void xtcp_trace_icmp(const struct iphdr *iph, const struct xtcphdr *th,
			    int type, int code, u32 info, int action, int err)
{
	trace_xtcp_icmp(iph->saddr, th->source, iph->daddr, th->dest, type,
			code, ntohl(th->seq), info, action, err);
}

int xtcp_icmp_err(struct sk_buff *skb, u32 info)
{
	const struct iphdr *iph = (const struct iphdr *)skb->data;
	const int type = icmp_hdr(skb)->type, code = icmp_hdr(skb)->code;
	struct net *net = dev_net(skb->dev);
	struct xtcp_sock *xs;
	struct xtcphdr *th;
	struct xtcp_ehnode *n;
	struct sock *sk;
	int err = 0, action = XTCP_ICMP_IGNORED;
	bool fatal;
	u32 seq;

	XTCP_INC_STATS(net, IN_ICMP_ERRORS);
	/*
	 * icmp_socket_deliver() pulled the quoted IP header and 8 bytes
	 * after it: source and destination port and sequence number, the
	 * same offsets as in TCP. Nothing further is read.
	 */
	th = (struct xtcphdr *)(skb->data + iph->ihl * 4);
	seq = ntohl(th->seq);

	/* What TCP's request sockets treat as fatal. */
	fatal = type == ICMP_PARAMETERPROB || type == ICMP_TIME_EXCEEDED ||
		(type == ICMP_DEST_UNREACH &&
		 (code == ICMP_NET_UNREACH || code == ICMP_HOST_UNREACH));

	/* The quoted segment went from iph->saddr (us) to iph->daddr. */
	n = xtcp_ehash_lookup(net, iph->daddr, th->dest, iph->saddr,
			      th->source, inet_iif(skb), inet_sdif(skb));
	if (!n)
		return xtcp_icmp_request(net, skb, iph, th, info, fatal);
	if (n->kind == XTCP_EH_TW) {
		/* Nothing left to tell: the connection is over. */
		xtcp_tw_put(container_of(n, struct xtcp_tw, eh));
		return 0;
	}
	xs = container_of(n, struct xtcp_sock, eh);
	sk = &xs->inet.sk;

	bh_lock_sock(sk);
	if ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN))
		goto out;
	if (xtcp_before(seq, xs->snd_una) || xtcp_after(seq, xs->snd_nxt)) {
		XTCP_INC_STATS(net, ICMP_OUT_OF_WINDOW);
		action = XTCP_ICMP_OUT_OF_WINDOW;
		goto out;
	}

	switch (type) {
	case ICMP_REDIRECT:
		if (!sock_owned_by_user(sk)) {
			struct dst_entry *dst = __sk_dst_check(sk, 0);

			if (dst)
				dst->ops->redirect(dst, sk, skb);
		}
		goto out;
	case ICMP_SOURCE_QUENCH:
		goto out;	/* RFC 6633: ignored */
	case ICMP_PARAMETERPROB:
		err = EPROTO;
		break;
	case ICMP_TIME_EXCEEDED:
		err = EHOSTUNREACH;
		break;
	case ICMP_DEST_UNREACH:
		if (code == ICMP_FRAG_NEEDED) {
			WRITE_ONCE(xs->mtu_info, info);
			action = XTCP_ICMP_PMTU;
			if (!sock_owned_by_user(sk)) {
				xtcp_mtu_reduced(sk);
			} else {
				xtcp_icmp_defer(sk, XTCP_F_MTU_DEFERRED);
				action = XTCP_ICMP_DEFERRED;
			}
			goto out;
		}
		err = xtcp_unreach_errno(code);
		if (!err)
			goto out;
		break;
	default:
		goto out;
	}

	if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV))
		xtcp_icmp_queue_err(sk, skb, err, th->dest, info, (u8 *)th);
	if (!sock_owned_by_user(sk)) {
		action = ((1 << sk->sk_state) &
			  (TCPF_SYN_SENT | TCPF_SYN_RECV)) ?
			 XTCP_ICMP_HARD : XTCP_ICMP_SOFT;
		xtcp_icmp_apply(sk, err);
	} else {
		action = XTCP_ICMP_DEFERRED;
		/* TCP would keep a soft error only; we act on release. */
		WRITE_ONCE(xs->icmp_err, err);
		xtcp_icmp_defer(sk, XTCP_F_ERR_DEFERRED);
	}
out:
	bh_unlock_sock(sk);
	xtcp_trace_icmp(iph, th, type, code, info, action, err);
	sock_put(sk);
	return 0;
}
