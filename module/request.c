// SPDX-License-Identifier: GPL-2.0
/*
 * Passive open. A SYN to a listener creates a request entry, not a socket;
 * the child socket is created when the handshake completes (the third ACK,
 * or a data segment carrying the same valid ACK). A lost third ACK is
 * repaired by the request's SYN-ACK retransmissions. A listener with
 * TCP_DEFER_ACCEPT (xtcp_sock.defer_accept, a number of SYN-ACK timeouts)
 * makes the child only when data comes, or when the deferral is over.
 * A SYN the SYN queue has no room for (or every SYN, with syncookies 2)
 * is answered with a SYN cookie instead (syncookie.c), and a third ACK
 * that returns a valid cookie makes the child without a request entry.
 *
 * The listener's queues have their own spinlock, so segments to a listener
 * never wait for, or are backlogged behind, the listener's owner. It is
 * the innermost of xtcp's locks (Documentation/module.md): nothing that
 * takes a table's bucket or a socket's lock runs under it. A child is
 * therefore built outside it, holding its own lock from before it is
 * hashed until it is committed: taken off the SYN queue and put on the
 * accept queue under queue_lock, moved to ESTABLISHED under its own.
 */

#include <linux/cgroup.h>
#include <linux/filter.h>
#include <linux/jhash.h>
#include <linux/log2.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/sock.h>

#include "compat.h"
#include "fault.h"
#include "mib.h"
#include "netns.h"
#include "options.h"
#include "output.h"
#include "proto.h"
#include "request.h"
#include "sack.h"
#include "timer.h"
#include "timewait.h"
#include "trace.h"
#include "xtcp.h"

static void xtcp_request_put(struct xtcp_request *req)
{
	if (refcount_dec_and_test(&req->refcnt)) {
		sock_put(req->listener);
		kfree(req);
	}
}

/* A request entry is a connection in SYN_RCVD too: trace its states. */
static void xtcp_trace_request(const struct xtcp_request *req, int oldstate,
			       int newstate)
{
	trace_xtcp_state(req, req->laddr, req->lport, req->raddr, req->rport,
			 oldstate, newstate);
}

/*
 * The TSval of @req's SYN-ACK: our clock for its 4-tuple; a cookie's
 * carries the SYN's options in its low bits (syncookie.c).
 */
static u32 xtcp_request_tsval(const struct xtcp_request *req)
{
	u32 now = xtcp_ts_clock() + xtcp_ts_off(req->laddr, req->raddr,
						req->lport, req->rport);
	struct xtcp_cookie_opts syn = {
		.wscale		= req->peer_wscale,
		.ts		= true,
		.sack_ok	= req->sack_ok,
	};

	return req->cookie ? xtcp_cookie_tsval(now, &syn) : now;
}

/*
 * Where @req's SYN-ACKs go and how: from the address the SYN came to,
 * through the listener's bound device, by its mark, with its IP policy
 * (TOS, TTL, DF), as TCP's (inet_csk_route_req(), ip_build_and_send_pkt()
 * on the listener).
 */
static void xtcp_synack_addr(const struct sock *lsk,
			     const struct xtcp_request *req,
			     struct xtcp_ctl_seg *seg)
{
	*seg = (struct xtcp_ctl_seg) {
		.saddr	= req->laddr,
		.daddr	= req->raddr,
		.sport	= req->lport,
		.dport	= req->rport,
		.oif	= READ_ONCE(lsk->sk_bound_dev_if),
		.mark	= READ_ONCE(lsk->sk_mark),
		.sk	= lsk,
	};
}

/*
 * Send @req's SYN-ACK on @rt, the route xtcp_request_local() found for
 * it into @fl4 (its reference passes here; an ERR_PTR: no route, nothing
 * is sent), or, with @rt NULL, on a route looked up now.
 */
static void xtcp_send_synack(struct sock *lsk, const struct xtcp_request *req,
			     struct rtable *rt, const struct flowi4 *fl4)
{
	struct net *net = sock_net(lsk);
	struct xtcp_ctl_seg seg;
	struct flowi4 fl;

	xtcp_synack_addr(lsk, req, &seg);
	seg.seq = req->iss;
	seg.ack = req->irs + 1;
	seg.window = req->rcv_wnd;
	seg.mss = req->mss;
	seg.wscale = req->peer_wscale >= 0 ? req->rcv_wscale : -1;
	seg.flags = XTCP_FLAG_SYN | XTCP_FLAG_ACK;
	seg.ts = req->ts_ok;
	seg.tsecr = req->ts_recent;
	seg.sack_ok = req->sack_ok;
	if (req->ts_ok)
		seg.tsval = xtcp_request_tsval(req);

	if (!rt) {
		rt = xtcp_ctl_route(net, &seg, &fl);
		fl4 = &fl;
	}
	if (!IS_ERR(rt))
		xtcp_ctl_xmit(net, &seg, rt, fl4);
}

/*
 * The SYN queue is hashed by 4-tuple, so a segment for a listener costs
 * the same whatever the queue's length; the list keeps the age order for
 * /proc and for tearing down.
 */
static u32 xtcp_syn_hash_seed __read_mostly;

static struct hlist_head *xtcp_syn_bucket(struct xtcp_sock *lxs,
					  __be32 raddr, __be16 rport,
					  __be32 laddr, __be16 lport)
{
	u32 h = jhash_3words((__force u32)raddr, (__force u32)laddr,
			     ((__force u32)rport << 16) | (__force u32)lport,
			     xtcp_syn_hash_seed);

	return &lxs->syn_hash[h & lxs->syn_hash_mask];
}

/*
 * listen(): give @lsk a SYN-queue table for @backlog, one bucket per
 * entry the queue may hold (min(backlog, max_syn_backlog), a power of 2
 * from 16 to 65536); a later listen() with a larger backlog grows it.
 * Process context, socket locked. 0 or -ENOBUFS.
 */
int xtcp_syn_hash_size(struct sock *lsk, int backlog)
{
	struct xtcp_sock *lxs = xtcp_sk(lsk);
	struct hlist_head *new, *old;
	struct xtcp_request *req;
	unsigned int size, i;

	net_get_random_once(&xtcp_syn_hash_seed, sizeof(xtcp_syn_hash_seed));
	size = clamp_t(unsigned int, backlog,
		       1, READ_ONCE(xtcp_pernet(sock_net(lsk))->sysctl.max_syn_backlog));
	size = roundup_pow_of_two(clamp(size, 16U, 65536U));
	if (lxs->syn_hash && size <= lxs->syn_hash_mask + 1)
		return 0;
	new = kvcalloc(size, sizeof(*new), GFP_KERNEL);
	if (!new)
		return -ENOBUFS;
	for (i = 0; i < size; i++)
		INIT_HLIST_HEAD(&new[i]);

	spin_lock_bh(&lxs->queue_lock);
	old = lxs->syn_hash;
	lxs->syn_hash = new;
	lxs->syn_hash_mask = size - 1;
	list_for_each_entry(req, &lxs->syn_queue, node) {
		hlist_del(&req->hnode);
		hlist_add_head(&req->hnode,
			       xtcp_syn_bucket(lxs, req->raddr, req->rport,
					       req->laddr, req->lport));
	}
	spin_unlock_bh(&lxs->queue_lock);
	kvfree(old);
	return 0;
}

/* Take @req off the SYN queue; queue_lock held. The caller drops the ref. */
static void xtcp_request_unlink(struct xtcp_sock *lxs,
				struct xtcp_request *req)
{
	hlist_del(&req->hnode);
	list_del(&req->node);
	req->queued = false;
	lxs->syn_queue_len--;
}

/* @req, unlinked, is gone: account SYN_RCVD -> CLOSED, drop the queue's ref. */
static void xtcp_request_closed(struct net *net, struct xtcp_request *req)
{
	xtcp_trace_request(req, TCP_SYN_RECV, TCP_CLOSE);
	xtcp_state_account(net, TCP_SYN_RECV, TCP_CLOSE);
	xtcp_state_gone(net, TCP_CLOSE);
	xtcp_request_put(req);
}

static u32 xtcp_synack_timeout_us(struct net *net, u8 backoff)
{
	const struct xtcp_sysctl *sc = &xtcp_pernet(net)->sysctl;
	u32 ms = clamp(READ_ONCE(sc->rto_init_ms), READ_ONCE(sc->rto_min_ms),
		       READ_ONCE(sc->rto_max_ms));

	return xtcp_rto_backoff_us(&xtcp_pernet(net)->sysctl, ms * USEC_PER_MSEC,
				   backoff);
}

/*
 * SYN-ACK retransmission; gives up after synack_retries timeouts. With
 * TCP_DEFER_ACCEPT the entry the peer has acknowledged lives on for the
 * deferral's timeouts too, without SYN-ACKs until the last one, which
 * asks the peer for an ACK that completes the handshake (TCP's rule).
 */
static enum hrtimer_restart xtcp_request_timer(struct hrtimer *timer)
{
	struct xtcp_request *req = container_of(timer, struct xtcp_request,
						timer);
	struct sock *lsk = req->listener;
	struct xtcp_sock *lxs = xtcp_sk(lsk);
	struct net *net = sock_net(lsk);
	bool rearm = false, resend = false, drop = false;
	u8 defer = READ_ONCE(lxs->defer_accept);
	u32 us;

	spin_lock(&lxs->queue_lock);
	if (req->queued) {
		if (req->retransmits >=
		    READ_ONCE(xtcp_pernet(net)->sysctl.synack_retries) &&
		    (!req->acked || req->retransmits >= defer)) {
			xtcp_request_unlink(lxs, req);
			drop = true;
		} else {
			resend = !req->acked || req->retransmits + 1 >= defer;
			/* /proc reads it without the lock */
			WRITE_ONCE(req->retransmits, req->retransmits + 1);
			rearm = true;
		}
	}
	spin_unlock(&lxs->queue_lock);

	if (drop)
		xtcp_request_closed(net, req);
	if (!rearm) {
		xtcp_request_put(req);	/* the timer's reference */
		return HRTIMER_NORESTART;
	}

	us = xtcp_synack_timeout_us(net, req->retransmits);
	if (resend) {
		XTCP_INC_STATS(net, SYNACK_RETRANS);
		XTCP_INC_STATS(net, RETRANS_SEGS);
		xtcp_send_synack(lsk, req, NULL, NULL);
		trace_xtcp_retransmit(req->laddr, req->lport, req->raddr,
				      req->rport, req->iss, XTCP_RETRANS_SYNACK,
				      req->retransmits, us / USEC_PER_MSEC);
	}
	WRITE_ONCE(req->expires, ktime_add_us(ktime_get(), us));
	hrtimer_set_expires(timer, req->expires);
	return HRTIMER_RESTART;
}

/* @skb's request entry on @lxs's SYN queue, or NULL; queue_lock held. */
static struct xtcp_request *xtcp_request_lookup(struct xtcp_sock *lxs,
						__be32 raddr, __be16 rport,
						__be32 laddr, __be16 lport)
{
	struct xtcp_request *req;

	hlist_for_each_entry(req, xtcp_syn_bucket(lxs, raddr, rport, laddr,
						  lport), hnode)
		if (req->raddr == raddr && req->rport == rport &&
		    req->laddr == laddr && req->lport == lport)
			return req;
	return NULL;
}

static struct xtcp_request *xtcp_request_find(struct xtcp_sock *lxs,
					      const struct sk_buff *skb)
{
	const struct xtcphdr *th = xtcp_hdr(skb);
	const struct iphdr *iph = ip_hdr(skb);

	return xtcp_request_lookup(lxs, iph->saddr, th->source, iph->daddr,
				   th->dest);
}

/*
 * Our side of a request for @skb (a SYN, or the ACK returning a cookie):
 * the addresses and ports, the window a SYN-ACK offers, and our MSS for
 * the path back to the peer: from the path MTU of the SYN-ACK's route
 * (one an ICMP taught, else its device's), as connect() takes it, so
 * that a listener that learnt a smaller path does not invite segments
 * that path drops; without a route, the arriving device's MTU. Returns
 * that route, found into @fl4, for the SYN-ACK (one lookup per SYN), or
 * an ERR_PTR.
 */
static struct rtable *xtcp_request_local(struct sock *lsk,
					 const struct sk_buff *skb,
					 struct xtcp_request *req,
					 struct flowi4 *fl4)
{
	const struct xtcphdr *th = xtcp_hdr(skb);
	const struct iphdr *iph = ip_hdr(skb);
	u16 user_mss = xtcp_sk(lsk)->user_mss;
	unsigned int mtu = skb->dev ? READ_ONCE(skb->dev->mtu) :
				      XTCP_MTU_FALLBACK;
	struct xtcp_ctl_seg seg;
	struct rtable *rt;

	req->laddr = iph->daddr;
	req->raddr = iph->saddr;
	req->lport = th->dest;
	req->rport = th->source;
	xtcp_synack_addr(lsk, req, &seg);
	rt = xtcp_ctl_route(sock_net(lsk), &seg, fl4);
	if (!IS_ERR(rt))
		mtu = dst_mtu(&rt->dst);
	req->mss = xtcp_mss_for_mtu(mtu);
	if (user_mss)
		req->mss = min(req->mss, user_mss);
	/* As a SYN's: half the buffer the child inherits, never scaled. */
	req->rcv_wnd = min_t(u32, XTCP_WND_MAX, READ_ONCE(lsk->sk_rcvbuf) / 2);
	return rt;
}

/*
 * What the SYN's options @opts give @req: the peer's MSS and window
 * scale (and ours, if it scales), SACK-permitted, and timestamps if the
 * namespace takes them.
 */
static void xtcp_request_syn_opts(struct sock *lsk, struct xtcp_request *req,
				  const struct xtcp_opts *opts)
{
	req->peer_mss = opts->mss;
	req->peer_wscale = opts->wscale;
	req->rcv_wscale = opts->wscale >= 0 ? xtcp_wscale_for(lsk) : 0;
	req->sack_ok = xtcp_sack_syn_ok(sock_net(lsk), opts);
	xtcp_ts_request_init(req, sock_net(lsk), opts);
}

/*
 * No request entry for this SYN (its options @opts): answer it with a
 * cookie. Without timestamps the cookie cannot carry the peer's window
 * scale, so the SYN-ACK offers none (the peer then scales neither
 * direction, RFC 7323 1.3); with them, TSval carries it.
 */
static void xtcp_send_cookie(struct sock *lsk, const struct sk_buff *skb,
			     const struct xtcp_opts *opts)
{
	struct xtcp_request req = { .cookie = true };
	struct xtcp_cookie_opts syn;
	struct rtable *rt;
	struct flowi4 fl4;

	rt = xtcp_request_local(lsk, skb, &req, &fl4);
	req.irs = XTCP_SKB_CB(skb)->seq;
	xtcp_request_syn_opts(lsk, &req, opts);
	if (!req.ts_ok) {
		req.peer_wscale = -1;
		req.rcv_wscale = 0;
		req.sack_ok = false;
	}
	if (xtcp_sk(lsk)->user_mss)
		req.peer_mss = min(req.peer_mss, xtcp_sk(lsk)->user_mss);
	syn.mss = req.peer_mss;
	syn.wscale = req.peer_wscale;
	syn.ts = req.ts_ok;
	syn.sack_ok = req.sack_ok;
	req.iss = xtcp_cookie_make(req.laddr, req.raddr, req.lport, req.rport,
				   req.irs, &syn);
	XTCP_INC_STATS(sock_net(lsk), SYNCOOKIES_SENT);
	xtcp_send_synack(lsk, &req, rt, &fl4);
}

/*
 * The SYN queue of @lsk is full and syncookies is 1: note that the
 * listener is sending cookies (its third ACKs are checked for one while
 * a cookie may be alive) and say so in the log, once per listener.
 */
static void xtcp_syn_flood(struct sock *lsk)
{
	struct xtcp_sock *lxs = xtcp_sk(lsk);

	WRITE_ONCE(lxs->synq_overflow, jiffies);
	if (!READ_ONCE(lxs->synflood_warned) && net_ratelimit()) {
		WRITE_ONCE(lxs->synflood_warned, true);
		pr_info("xtcp: possible SYN flooding on port %u, sending cookies\n",
			lsk->sk_num);
	}
}

/*
 * Whether an ACK that matches no request entry may return a cookie:
 * always with syncookies 2; with 1 while a cookie sent on an overflow
 * may still be valid (XTCP_COOKIE_LIFETIME_S).
 */
static bool xtcp_cookie_mode(struct sock *lsk)
{
	int mode;

	if (!READ_ONCE(xtcp_sk(lsk)->listening))
		return false;
	mode = READ_ONCE(xtcp_pernet(sock_net(lsk))->sysctl.syncookies);
	if (mode == 2)
		return true;
	return mode == 1 &&
	       time_before(jiffies, READ_ONCE(xtcp_sk(lsk)->synq_overflow) +
				    XTCP_COOKIE_LIFETIME_S * HZ);
}

/*
 * A SYN: remember it in a request entry and answer SYN-ACK; or, with no
 * room in the SYN queue and syncookies 1, or with syncookies 2, answer
 * with a cookie and remember nothing. A full accept queue drops the SYN
 * either way (a child could not be queued).
 */
static void xtcp_conn_request(struct sock *lsk, struct sk_buff *skb)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_sock *lxs = xtcp_sk(lsk);
	struct net *net = sock_net(lsk);
	int cookies = READ_ONCE(xtcp_pernet(net)->sysctl.syncookies);
	struct xtcp_request *req;
	struct rtable *rt;
	struct flowi4 fl4;
	struct xtcp_opts opts;
	unsigned int max;
	u32 us;

	/* The SYN's options, parsed once for whichever answer it gets. */
	xtcp_opts_parse(skb, &opts);
	spin_lock_bh(&lxs->queue_lock);
	if (!lxs->listening)
		goto unlock;
	req = xtcp_request_find(lxs, skb);
	if (req) {
		/*
		 * Our SYN-ACK was lost or is late: answer the retransmission,
		 * at most once per invalid_ratelimit_ms (a SYN is never exempt).
		 */
		struct xtcp_request copy = *req;
		bool send = cb->seq == copy.irs &&
			    !xtcp_oow_rate_limited(net, skb, &req->last_oow_ack);

		spin_unlock_bh(&lxs->queue_lock);
		if (send)
			xtcp_send_synack(lsk, &copy, NULL, NULL);
		return;
	}
	if (sk_acceptq_is_full(lsk)) {
		XTCP_INC_STATS(net, LISTEN_OVERFLOWS);
		XTCP_INC_STATS(net, LISTEN_DROPS);
		goto unlock;
	}
	max = min_t(unsigned int, max_t(unsigned int, lsk->sk_max_ack_backlog, 1),
		    READ_ONCE(xtcp_pernet(net)->sysctl.max_syn_backlog));
	if (cookies == 2 || (cookies == 1 && lxs->syn_queue_len >= max)) {
		spin_unlock_bh(&lxs->queue_lock);
		if (cookies == 1)
			xtcp_syn_flood(lsk);
		xtcp_send_cookie(lsk, skb, &opts);
		return;
	}
	if (lxs->syn_queue_len >= max) {
		XTCP_INC_STATS(net, LISTEN_DROPS);
		goto unlock;
	}
	req = kzalloc(sizeof(*req), GFP_ATOMIC);
	if (!req) {
		XTCP_INC_STATS(net, LISTEN_DROPS);
		goto unlock;
	}
	refcount_set(&req->refcnt, 2);	/* the SYN queue and the timer */
	sock_hold(lsk);
	req->listener = lsk;
	rt = xtcp_request_local(lsk, skb, req, &fl4);
	req->irs = cb->seq;
	req->iss = xtcp_isn(req->laddr, req->raddr, req->lport, req->rport);
	xtcp_request_syn_opts(lsk, req, &opts);
	req->snd_wnd = cb->window;
	req->queued = true;
	list_add_tail(&req->node, &lxs->syn_queue);
	hlist_add_head(&req->hnode, xtcp_syn_bucket(lxs, req->raddr, req->rport,
						    req->laddr, req->lport));
	lxs->syn_queue_len++;
	xtcp_state_spawn(net, TCP_LISTEN, TCP_SYN_RECV);
	xtcp_trace_request(req, TCP_LISTEN, TCP_SYN_RECV);

	xtcp_hrtimer_setup(&req->timer, xtcp_request_timer, CLOCK_MONOTONIC,
			   HRTIMER_MODE_ABS_SOFT);
	us = xtcp_synack_timeout_us(net, 0);
	req->expires = ktime_add_us(ktime_get(), us);
	hrtimer_start(&req->timer, req->expires, HRTIMER_MODE_ABS_SOFT);
	xtcp_send_synack(lsk, req, rt, &fl4);
unlock:
	spin_unlock_bh(&lxs->queue_lock);
}

/*
 * The child belongs to its listener's cgroup, as TCP's (sk_clone_lock()),
 * not to whatever sk_alloc() chose in softirq (the root cgroup): cgroup
 * BPF programs, the net_cls classid and the net_prio index then apply
 * to it as to the listener.
 */
static void xtcp_child_cgroup(struct sock *sk, struct sock *lsk)
{
#ifdef CONFIG_SOCK_CGROUP_DATA
	struct cgroup *old = sock_cgroup_ptr(&sk->sk_cgrp_data);
	struct cgroup *new = sock_cgroup_ptr(&lsk->sk_cgrp_data);

	/* A socket holds its cgroup and the cgroup's BPF state. */
	cgroup_get(new);
	cgroup_bpf_get(new);
	sk->sk_cgrp_data = lsk->sk_cgrp_data;
	cgroup_bpf_put(old);
	cgroup_put(old);
#endif
}

/*
 * The child runs its listener's socket filter, as TCP's does (a clone
 * shares it): a reference and its option-memory charge, which
 * __sk_destruct() returns (sk_filter_uncharge()). Softirq, under RCU.
 */
static void xtcp_child_filter(struct sock *sk, struct sock *lsk)
{
	struct sk_filter *fp;

	rcu_read_lock();
	fp = rcu_dereference(lsk->sk_filter);
	if (fp && refcount_inc_not_zero(&fp->refcnt)) {
		atomic_add(bpf_prog_size(fp->prog->len), &sk->sk_omem_alloc);
		rcu_assign_pointer(sk->sk_filter, fp);
	}
	rcu_read_unlock();
}

/*
 * A child that is not to be: it never had a state (the request entry it
 * was built for keeps SYN_RCVD's accounting), so it enters CLOSED from
 * nothing and is destroyed; it leaves every table it entered. Locked by
 * the caller, who holds a reference.
 */
static void xtcp_child_discard(struct sock *sk)
{
	sock_set_flag(sk, SOCK_DEAD);
	sk->sk_state = 0;
	xtcp_done(sk);
}

/*
 * Build the child of @lsk for the completed handshake @req, outside the
 * listener's queue_lock, not yet in any table; @skb completed it, its
 * options are @opts. Returns it with a reference for the caller besides
 * its own, or NULL (no memory).
 */
static struct sock *xtcp_create_child(struct sock *lsk,
				      const struct xtcp_request *req,
				      const struct sk_buff *skb,
				      const struct xtcp_opts *opts)
{
	struct xtcp_sock *lxs = xtcp_sk(lsk), *xs;
	struct sock *sk;

	sk = xtcp_sk_alloc(sock_net(lsk), GFP_ATOMIC, 0);
	if (!sk)
		return NULL;
	xs = xtcp_sk(sk);

	sk->sk_reuse = lsk->sk_reuse;
	sk->sk_rcvbuf = READ_ONCE(lsk->sk_rcvbuf);
	sk->sk_sndbuf = READ_ONCE(lsk->sk_sndbuf);
	sk->sk_userlocks = lsk->sk_userlocks & ~SOCK_BINDPORT_LOCK;
	sk->sk_lingertime = READ_ONCE(lsk->sk_lingertime);
	sk->sk_rcvtimeo = READ_ONCE(lsk->sk_rcvtimeo);
	sk->sk_sndtimeo = READ_ONCE(lsk->sk_sndtimeo);
	/* Who owns it and where it may talk: the listener's, as on TCP. */
	sk->sk_mark = READ_ONCE(lsk->sk_mark);
	sk->sk_priority = READ_ONCE(lsk->sk_priority);
	sk->sk_bound_dev_if = READ_ONCE(lsk->sk_bound_dev_if);
	sk->sk_uid = lsk->sk_uid;
	xtcp_child_cgroup(sk, lsk);
	xtcp_child_filter(sk, lsk);
	if (sock_flag(lsk, SOCK_LINGER))
		sock_set_flag(sk, SOCK_LINGER);
	if (sock_flag(lsk, SOCK_KEEPOPEN))
		sock_set_flag(sk, SOCK_KEEPOPEN);
	xs->nodelay = lxs->nodelay;
	xs->linger2 = lxs->linger2;
	xs->keepidle_ms = lxs->keepidle_ms;
	xs->keepintvl_ms = lxs->keepintvl_ms;
	xs->keepcnt = lxs->keepcnt;
	xs->user_mss = lxs->user_mss;
	xs->user_timeout_ms = lxs->user_timeout_ms;
	xs->notsent_lowat = lxs->notsent_lowat;
	xs->quickack_off = lxs->quickack_off;
	xs->report_inet = lxs->report_inet;
	xs->reuseport = READ_ONCE(lxs->reuseport);	/* as TCP's clone */
	xs->ca_ops = READ_ONCE(lxs->ca_ops);
	inet_sk(sk)->pmtudisc = READ_ONCE(inet_sk(lsk)->pmtudisc);
	xtcp_set_recverr(sk, xtcp_recverr(lsk));

	sk->sk_rcv_saddr = req->laddr;
	inet_sk(sk)->inet_saddr = req->laddr;
	sk->sk_daddr = req->raddr;
	sk->sk_dport = req->rport;

	xs->iss = req->iss;
	xs->irs = req->irs;
	xs->snd_una = req->iss + 1;
	xs->snd_nxt = req->iss + 1;
	xs->write_seq = req->iss + 1;
	xs->rcv_nxt = req->irs + 1;
	xs->copied_seq = req->irs + 1;
	if (req->peer_wscale >= 0) {
		xs->snd_wscale = req->peer_wscale;
		xs->rcv_wscale = req->rcv_wscale;
	}
	xs->snd_wnd = (u32)XTCP_SKB_CB(skb)->window << xs->snd_wscale;
	xs->rcv_wnd = req->rcv_wnd;
	xs->peer_mss = req->peer_mss;
	xs->mss = min(req->mss, req->peer_mss);
	xtcp_ts_child_init(sk, req->ts_ok, req->ts_recent, skb, opts);
	xs->sack_ok = req->sack_ok;
	xtcp_init_transfer(sk);
	/*
	 * The third ACK's echo of our SYN-ACK: SRTT's first sample. Not a
	 * cookie's, whose TSval was moved back to carry the options.
	 */
	if (!req->cookie)
		xtcp_ts_rtt(sk, opts);
	sock_hold(sk);
	return sk;
}

/*
 * The child (locked, so that a segment for its tuple waits until it is
 * committed or discarded) takes its listener's port and enters the
 * established table in SYN_RCVD, unaccounted. Fails if another
 * incarnation holds the tuple (the ACK is not ours) or a "child" fault
 * rule says so; the caller then discards it.
 */
static int xtcp_child_hash(struct sock *lsk, struct sock *sk,
			   const struct sk_buff *skb)
{
	const struct xtcphdr *th = xtcp_hdr(skb);

	xtcp_bind_inherit(sk, lsk->sk_num);
	sk->sk_state = TCP_SYN_RECV;
	if (xtcp_fault_should_drop(sock_net(lsk), XTCP_FAULT_CHILD, th->flags,
				   skb->len, th->source, th->dest))
		return -EADDRNOTAVAIL;
	return xtcp_ehash_add_sk(sk);
}

/*
 * The child (locked) takes over its request entry, which the caller has
 * unlinked: SYN_RCVD -> ESTABLISHED is the request's transition. A
 * cookie's child had no entry: the SYN_RCVD its connection was in,
 * without state, is accounted now (LISTEN -> SYN_RCVD -> ESTABLISHED).
 */
static void xtcp_child_commit(struct sock *sk, const struct xtcp_request *req)
{
	if (req->cookie) {
		/* One object in the trace: the child, from LISTEN on. */
		xtcp_state_spawn(sock_net(sk), TCP_LISTEN, TCP_SYN_RECV);
		xtcp_trace_state(sk, TCP_LISTEN, TCP_SYN_RECV);
	}
	xtcp_set_state(sk, TCP_ESTABLISHED);
	xtcp_timer_established(sk);
}

enum xtcp_child_verdict {
	XTCP_CHILD_QUEUED,	/* on the accept queue, ESTABLISHED */
	XTCP_CHILD_FAILED,	/* could not be made or hashed */
	XTCP_CHILD_GONE,	/* the request went meanwhile */
	XTCP_CHILD_FULL,	/* the accept queue filled meanwhile */
};

/*
 * Make, hash and commit the child for @req (which the caller holds a
 * reference on, or a cookie's on the stack; queue_lock not held), whose
 * handshake @skb, with options @opts, completed.
 * Committed, it replaces @req on the listener's queues and *@childp is
 * it, with a reference for the caller; otherwise it is gone again and
 * *@childp is NULL.
 */
static enum xtcp_child_verdict xtcp_child_make(struct sock *lsk,
					       struct xtcp_request *req,
					       const struct sk_buff *skb,
					       const struct xtcp_opts *opts,
					       struct sock **childp)
{
	enum xtcp_child_verdict verdict = XTCP_CHILD_QUEUED;
	struct xtcp_sock *lxs = xtcp_sk(lsk);
	struct sock *child;

	*childp = NULL;
	child = xtcp_create_child(lsk, req, skb, opts);
	if (!child)
		return XTCP_CHILD_FAILED;

	bh_lock_sock_nested(child);
	if (xtcp_child_hash(lsk, child, skb)) {
		verdict = XTCP_CHILD_FAILED;
	} else {
		spin_lock_bh(&lxs->queue_lock);
		if ((!req->cookie && !req->queued) || !lxs->listening) {
			verdict = XTCP_CHILD_GONE;
		} else if (sk_acceptq_is_full(lsk)) {
			verdict = XTCP_CHILD_FULL;
		} else {
			if (!req->cookie)
				xtcp_request_unlink(lxs, req);
			sock_hold(child);	/* the accept queue's */
			list_add_tail(&xtcp_sk(child)->accept_node,
				      &lxs->accept_queue);
			sk_acceptq_added(lsk);
		}
		spin_unlock_bh(&lxs->queue_lock);
	}
	if (verdict == XTCP_CHILD_QUEUED) {
		xtcp_child_commit(child, req);
	} else {
		/* Expired, reset or its listener closed: tell the peer. */
		if (verdict == XTCP_CHILD_GONE)
			xtcp_send_active_reset(child);
		xtcp_child_discard(child);
	}
	bh_unlock_sock(child);

	if (verdict != XTCP_CHILD_QUEUED)
		sock_put(child);
	else
		*childp = child;
	return verdict;
}

/*
 * A committed child's handshake is done: the listener is woken, and the
 * child gets whatever else @skb carries. Consumes @skb and the caller's
 * reference on @child.
 */
static void xtcp_child_deliver(struct sock *lsk, struct sock *child,
			       struct sk_buff *skb)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);

	XTCP_INC_STATS(sock_net(lsk), PASSIVE_OPENS);
	lsk->sk_data_ready(lsk);
	if (skb->len || (cb->flags & XTCP_FLAG_FIN))
		xtcp_rcv_sk(child, skb);
	else
		consume_skb(skb);
	sock_put(child);
}

/* A child that could not be committed: count why. */
static void xtcp_child_count_failure(struct net *net,
				     enum xtcp_child_verdict verdict)
{
	XTCP_INC_STATS(net, LISTEN_DROPS);
	if (verdict == XTCP_CHILD_FAILED)
		XTCP_INC_STATS(net, CHILD_FAILS);
	else if (verdict == XTCP_CHILD_FULL)
		XTCP_INC_STATS(net, LISTEN_OVERFLOWS);
}

/*
 * An ACK without a request entry, to a listener in cookie mode: one that
 * returns a valid cookie (ack - 1, for the peer's ISN seq - 1) makes the
 * child, as a request entry would have. A child that fails is not asked
 * for again by a SYN-ACK, but the peer's next segment with the same
 * sequence number (its data, or a retransmission) tries again while the
 * cookie lives. TCP_DEFER_ACCEPT does not apply: nothing remembers a
 * bare ACK. Returns false, leaving @skb, if the cookie is not valid;
 * otherwise consumes @skb.
 */
static bool xtcp_cookie_complete(struct sock *lsk, struct sk_buff *skb)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_request req = { .cookie = true, .listener = lsk };
	struct net *net = sock_net(lsk);
	enum xtcp_child_verdict verdict;
	struct xtcp_cookie_opts syn;
	struct xtcp_opts opts;
	struct sock *child;
	struct rtable *rt;
	struct flowi4 fl4;

	/* The route gave the MSS; the child looks its own up. */
	rt = xtcp_request_local(lsk, skb, &req, &fl4);
	if (!IS_ERR(rt))
		ip_rt_put(rt);
	req.irs = cb->seq - 1;
	req.iss = cb->ack_seq - 1;
	xtcp_opts_parse(skb, &opts);
	if (!xtcp_cookie_check(req.laddr, req.raddr, req.lport, req.rport,
			       req.irs, req.iss, &opts, &syn)) {
		XTCP_INC_STATS(net, SYNCOOKIES_FAILED);
		return false;
	}
	XTCP_INC_STATS(net, SYNCOOKIES_RECV);
	req.peer_mss = syn.mss;
	req.peer_wscale = syn.wscale;
	req.rcv_wscale = syn.wscale >= 0 ? xtcp_wscale_for(lsk) : 0;
	req.sack_ok = syn.sack_ok;
	/* The SYN's TSval is gone; the ACK's becomes TS.Recent. */
	req.ts_ok = syn.ts;
	req.ts_recent = opts.tsval;

	verdict = xtcp_child_make(lsk, &req, skb, &opts, &child);
	if (verdict != XTCP_CHILD_QUEUED) {
		xtcp_child_count_failure(net, verdict);
		kfree_skb(skb);
		return true;
	}
	xtcp_child_deliver(lsk, child, skb);
	return true;
}

/*
 * An ACK for which the listener has no request entry. Another CPU may
 * have completed the handshake with a duplicate: then the child takes it.
 * In cookie mode it may return a cookie. Otherwise it is answered with
 * RST. Consumes @skb.
 */
static void xtcp_conn_no_request(struct sock *lsk, struct sk_buff *skb)
{
	const struct xtcphdr *th = xtcp_hdr(skb);
	const struct iphdr *iph = ip_hdr(skb);
	struct net *net = sock_net(lsk);
	struct xtcp_ehnode *n;
	struct sock *child;

	n = xtcp_ehash_lookup(net, iph->saddr, th->source, iph->daddr,
			      th->dest, inet_iif(skb), inet_sdif(skb));
	if (n && n->kind == XTCP_EH_SOCK) {
		child = &container_of(n, struct xtcp_sock, eh)->inet.sk;
		xtcp_rcv_sk(child, skb);
		sock_put(child);
		return;
	}
	if (n)
		xtcp_tw_put(container_of(n, struct xtcp_tw, eh));
	else if (xtcp_cookie_mode(lsk) && xtcp_cookie_complete(lsk, skb))
		return;
	xtcp_send_reset_reply(net, lsk, skb);
	kfree_skb(skb);
}

/* The third ACK (or data with it): complete the handshake. */
static void xtcp_conn_complete(struct sock *lsk, struct sk_buff *skb)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_sock *lxs = xtcp_sk(lsk);
	struct net *net = sock_net(lsk);
	enum xtcp_child_verdict verdict;
	struct xtcp_request *req;
	struct xtcp_opts opts;
	struct sock *child;

	spin_lock_bh(&lxs->queue_lock);
	req = lxs->listening ? xtcp_request_find(lxs, skb) : NULL;
	if (!req) {
		spin_unlock_bh(&lxs->queue_lock);
		xtcp_conn_no_request(lsk, skb);
		return;
	}
	if (cb->ack_seq != req->iss + 1) {
		spin_unlock_bh(&lxs->queue_lock);
		goto reset;
	}
	if (xtcp_before(cb->seq, req->irs + 1) ||
	    xtcp_after(cb->seq, req->irs + 1 + XTCP_WND_MAX))
		goto drop_unlock;
	if (cb->end_seq == req->irs + 1 &&
	    req->retransmits < READ_ONCE(lxs->defer_accept)) {
		/*
		 * TCP_DEFER_ACCEPT: a bare ACK makes no child; the entry
		 * waits for data, or for its deferral's last SYN-ACK.
		 */
		req->acked = true;
		XTCP_INC_STATS(net, DEFER_ACCEPT_DROP);
		goto drop_unlock;
	}
	if (sk_acceptq_is_full(lsk))
		goto overflow_unlock;
	refcount_inc(&req->refcnt);	/* ours, while the child is built */
	spin_unlock_bh(&lxs->queue_lock);

	xtcp_opts_parse(skb, &opts);
	verdict = xtcp_child_make(lsk, req, skb, &opts, &child);
	if (verdict != XTCP_CHILD_QUEUED) {
		/*
		 * Failed or full: the request stays, and its SYN-ACK
		 * retransmission asks again. Gone: the peer was told.
		 */
		xtcp_child_count_failure(net, verdict);
		xtcp_request_put(req);
		kfree_skb(skb);
		return;
	}

	if (hrtimer_try_to_cancel(&req->timer) == 1)
		xtcp_request_put(req);
	xtcp_request_put(req);		/* the SYN queue's */
	xtcp_request_put(req);		/* ours */
	xtcp_child_deliver(lsk, child, skb);
	return;

overflow_unlock:
	/* Keep the request: its SYN-ACK retransmission asks again. */
	XTCP_INC_STATS(net, LISTEN_OVERFLOWS);
	XTCP_INC_STATS(net, LISTEN_DROPS);
drop_unlock:
	spin_unlock_bh(&lxs->queue_lock);
	kfree_skb(skb);
	return;
reset:
	xtcp_send_reset_reply(net, lsk, skb);
	kfree_skb(skb);
}

/*
 * A RST for a request entry (RFC 9293 3.10.7.4, SYN-RECEIVED: a passive
 * open returns to LISTEN). Only an exact one counts: its sequence number
 * is RCV.NXT (irs + 1) and an ACK it carries acknowledges our SYN; any
 * other RST is ignored, so a blind attacker must guess 32 bits (RFC 5961
 * 3.2; Linux accepts any RST in the request's window). Consumes @skb.
 */
static void xtcp_conn_reset(struct sock *lsk, struct sk_buff *skb)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct xtcp_sock *lxs = xtcp_sk(lsk);
	struct net *net = sock_net(lsk);
	struct xtcp_request *req;

	spin_lock_bh(&lxs->queue_lock);
	req = lxs->listening ? xtcp_request_find(lxs, skb) : NULL;
	if (!req || cb->seq != req->irs + 1 ||
	    ((cb->flags & XTCP_FLAG_ACK) && cb->ack_seq != req->iss + 1)) {
		spin_unlock_bh(&lxs->queue_lock);
		kfree_skb(skb);
		return;
	}
	xtcp_request_unlink(lxs, req);
	spin_unlock_bh(&lxs->queue_lock);

	XTCP_INC_STATS(net, IN_RSTS);
	XTCP_INC_STATS(net, REQUEST_RESETS);
	if (hrtimer_try_to_cancel(&req->timer) == 1)
		xtcp_request_put(req);
	xtcp_request_closed(net, req);
	consume_skb(skb);
}

/* A segment for a listener, in softirq; consumes @skb. */
void xtcp_listen_rcv(struct sock *lsk, struct sk_buff *skb)
{
	u8 flags = XTCP_SKB_CB(skb)->flags;

	if (flags & XTCP_FLAG_RST) {
		xtcp_conn_reset(lsk, skb);
		return;
	}
	if (flags & XTCP_FLAG_SYN) {
		if (flags & XTCP_FLAG_ACK) {
			xtcp_send_reset_reply(sock_net(lsk), lsk, skb);
			goto drop;
		}
		xtcp_conn_request(lsk, skb);
		consume_skb(skb);
		return;
	}
	if (flags & XTCP_FLAG_ACK) {
		xtcp_conn_complete(lsk, skb);
		return;
	}
drop:
	kfree_skb(skb);
}

/*
 * An ICMP error quoting a SYN-ACK of the request entry for this 4-tuple.
 * Only one quoting our ISS is believed (RFC 5927); @abort drops the
 * entry, as a hard error ends a SYN_RCVD connection on TCP. Returns
 * false if no entry matched or the sequence number did not.
 */
bool xtcp_request_icmp(struct sock *lsk, __be32 laddr, __be16 lport,
		       __be32 raddr, __be16 rport, u32 seq, bool abort)
{
	struct xtcp_sock *lxs = xtcp_sk(lsk);
	struct xtcp_request *found = NULL;

	spin_lock_bh(&lxs->queue_lock);
	if (lxs->listening)
		found = xtcp_request_lookup(lxs, raddr, rport, laddr, lport);
	if (!found || seq != found->iss) {
		spin_unlock_bh(&lxs->queue_lock);
		return false;
	}
	if (!abort) {
		spin_unlock_bh(&lxs->queue_lock);
		return true;
	}
	xtcp_request_unlink(lxs, found);
	spin_unlock_bh(&lxs->queue_lock);

	if (hrtimer_try_to_cancel(&found->timer) == 1)
		xtcp_request_put(found);
	xtcp_request_closed(sock_net(lsk), found);
	return true;
}

/* Stop listening: forget requests, reset children nobody accepted. */
void xtcp_listen_stop(struct sock *lsk)
{
	struct xtcp_sock *lxs = xtcp_sk(lsk), *cxs, *ctmp;
	struct xtcp_request *req, *tmp;
	struct net *net = sock_net(lsk);
	LIST_HEAD(reqs);
	LIST_HEAD(children);

	spin_lock_bh(&lxs->queue_lock);
	lxs->listening = false;
	list_for_each_entry(req, &lxs->syn_queue, node) {
		req->queued = false;
		hlist_del(&req->hnode);
	}
	list_splice_init(&lxs->syn_queue, &reqs);
	list_splice_init(&lxs->accept_queue, &children);
	lxs->syn_queue_len = 0;
	spin_unlock_bh(&lxs->queue_lock);

	list_for_each_entry_safe(req, tmp, &reqs, node) {
		list_del(&req->node);
		if (hrtimer_try_to_cancel(&req->timer) == 1)
			xtcp_request_put(req);
		xtcp_request_closed(net, req);
	}

	list_for_each_entry_safe(cxs, ctmp, &children, accept_node) {
		struct sock *child = &cxs->inet.sk;

		list_del_init(&cxs->accept_node);
		sk_acceptq_removed(lsk);
		/* Always listener, then child: one level of nesting. */
		lock_sock_nested(child, SINGLE_DEPTH_NESTING);
		sock_orphan(child);
		if (child->sk_state != TCP_CLOSE)
			xtcp_send_active_reset(child);
		xtcp_done(child);
		release_sock(child);
		sock_put(child);
	}
}

/* The oldest completed child, with the accept queue's reference; or NULL. */
struct sock *xtcp_accept_dequeue(struct sock *lsk)
{
	struct xtcp_sock *lxs = xtcp_sk(lsk), *cxs;

	spin_lock_bh(&lxs->queue_lock);
	cxs = list_first_entry_or_null(&lxs->accept_queue, struct xtcp_sock,
				       accept_node);
	if (cxs) {
		list_del_init(&cxs->accept_node);
		sk_acceptq_removed(lsk);
	}
	spin_unlock_bh(&lxs->queue_lock);
	return cxs ? &cxs->inet.sk : NULL;
}

struct xtcp_request *xtcp_request_next(struct sock *lsk,
				       struct xtcp_request *prev)
{
	struct xtcp_sock *lxs = xtcp_sk(lsk);
	struct xtcp_request *req = NULL;

	spin_lock_bh(&lxs->queue_lock);
	if (!prev)
		req = list_first_entry_or_null(&lxs->syn_queue,
					       struct xtcp_request, node);
	else if (prev->queued && !list_is_last(&prev->node, &lxs->syn_queue))
		req = list_next_entry(prev, node);
	if (req)
		refcount_inc(&req->refcnt);
	spin_unlock_bh(&lxs->queue_lock);
	if (prev)
		xtcp_request_put(prev);
	return req;
}

void xtcp_request_release(struct xtcp_request *req)
{
	xtcp_request_put(req);
}
