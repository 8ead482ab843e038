// SPDX-License-Identifier: GPL-2.0
/*
 * TIME_WAIT buckets (RFC 9293 3.6.1, RFC 1337).
 *
 * When a socket reaches TIME_WAIT it is replaced in the established table
 * by a bucket from its own cache, and the socket itself closes. The bucket
 * re-ACKs a retransmitted FIN (restarting its 2 x MSL), dies on an
 * acceptable RST unless rfc1337 is set, and keeps the local port for
 * bind(). A new SYN above its sequence space ends it only if a listener
 * is there to take the new incarnation; otherwise the bucket stays and
 * re-ACKs, as Linux TCP does.
 *
 * A bucket is removed exactly once, by whoever unhashes it first (timer,
 * RST, new SYN, namespace exit); that caller does the accounting.
 * Receiving decides a verdict (xtcp_tw_state_process) and acts on it
 * separately (xtcp_tw_rcv).
 */

#include <linux/slab.h>
#include <linux/timer.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/sock.h>

#include "compat.h"
#include "mib.h"
#include "netns.h"
#include "options.h"
#include "output.h"
#include "proto.h"
#include "timewait.h"
#include "trace.h"
#include "xtcp.h"

static struct kmem_cache *xtcp_tw_cachep __read_mostly;

/* What the receive path must do with a segment that hit a bucket. */
enum xtcp_tw_verdict {
	XTCP_TW_DROP,		/* nothing to say */
	XTCP_TW_ACK,		/* (re-)acknowledge: old duplicate or FIN */
	XTCP_TW_KILL,		/* an acceptable RST ends the bucket */
	XTCP_TW_SYN,		/* a new incarnation, if a listener takes it */
};

static void xtcp_tw_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(xtcp_tw_cachep, container_of(head, struct xtcp_tw, rcu));
}

/*
 * The last reference goes only when the timer is neither queued nor able
 * to run again (its callback's own put is its last access), so the RCU
 * head may reuse the timer's storage.
 */
void xtcp_tw_put(struct xtcp_tw *tw)
{
	if (refcount_dec_and_test(&tw->refcnt))
		call_rcu(&tw->rcu, xtcp_tw_free_rcu);
}

static struct net *xtcp_tw_net(const struct xtcp_tw *tw)
{
	return read_pnet(&tw->eh.net);
}

static unsigned long xtcp_tw_timeout(const struct xtcp_tw *tw)
{
	int msl = READ_ONCE(xtcp_pernet(xtcp_tw_net(tw))->sysctl.msl_ms);

	return jiffies + msecs_to_jiffies(2 * msl);
}

/* True if this call removed the bucket; it then dropped the tables' ref. */
static bool xtcp_tw_deschedule(struct xtcp_tw *tw)
{
	struct net *net = xtcp_tw_net(tw);

	if (!xtcp_ehash_del_tw(tw))
		return false;
	xtcp_bind_del_tw(tw);
	trace_xtcp_state(tw, tw->eh.laddr, tw->eh.lport, tw->eh.raddr,
			 tw->eh.rport, TCP_TIME_WAIT, TCP_CLOSE);
	xtcp_state_account(net, TCP_TIME_WAIT, TCP_CLOSE);
	xtcp_state_gone(net, TCP_CLOSE);
	atomic_dec(&xtcp_pernet(net)->tw_count);
	if (timer_delete(&tw->timer))
		xtcp_tw_put(tw);
	xtcp_tw_put(tw);
	return true;
}

/* Restart 2 x MSL, unless the bucket is already expiring. */
static void xtcp_tw_reschedule(struct xtcp_tw *tw)
{
	mod_timer_pending(&tw->timer, xtcp_tw_timeout(tw));
}

static void xtcp_tw_timer(struct timer_list *timer)
{
	struct xtcp_tw *tw = container_of(timer, struct xtcp_tw, timer);
	struct net *net = xtcp_tw_net(tw);

	trace_xtcp_tw_expire(tw);
	if (xtcp_tw_deschedule(tw))
		XTCP_INC_STATS(net, TIME_WAIT_EXPIRED);
	xtcp_tw_put(tw);
}

/*
 * @sk (locked) has both FINs: hand the connection to a bucket and close the
 * socket. Over max_tw_buckets the socket just closes.
 */
void xtcp_time_wait(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	struct xtcp_tw *tw = NULL;

	if (atomic_read(&xn->tw_count) < READ_ONCE(xn->sysctl.max_tw_buckets))
		tw = kmem_cache_alloc(xtcp_tw_cachep, GFP_ATOMIC);
	if (!tw) {
		XTCP_INC_STATS(net, TIME_WAIT_OVERFLOW);
		xtcp_done(sk);
		return;
	}

	tw->eh = xs->eh;
	tw->eh.node.pprev = NULL;	/* not hashed yet */
	tw->eh.kind = XTCP_EH_TW;
	INIT_HLIST_NODE(&tw->bind_node);
	refcount_set(&tw->refcnt, 2);	/* the tables and the timer */
	tw->rcv_nxt = xs->rcv_nxt;
	tw->snd_nxt = xs->snd_nxt;
	tw->eh.twb_rcv_wnd = xtcp_select_window(sk);
	tw->last_oow_ack = 0;
	tw->eh.twb_reuse = sk->sk_reuse;
	tw->eh.twb_reuseport = !!READ_ONCE(xs->reuseport);
	tw->eh.twb_ts_ok = xs->ts_ok;
	tw->ts_recent = xs->ts_recent;
	tw->bound_dev_if = READ_ONCE(sk->sk_bound_dev_if);
	timer_setup(&tw->timer, xtcp_tw_timer, 0);

	atomic_inc(&xn->tw_count);
	xtcp_set_state(sk, TCP_TIME_WAIT);
	xtcp_bind_add_tw(tw);
	xtcp_ehash_replace_sk(sk, tw);
	mod_timer(&tw->timer, xtcp_tw_timeout(tw));
	XTCP_INC_STATS(net, TIME_WAIT_CREATED);
	trace_xtcp_tw_create(tw);

	/* The bucket is in TIME_WAIT now; the socket is merely closed. */
	xtcp_state_handoff(sk, TCP_CLOSE);
	xtcp_done(sk);
}

static enum xtcp_tw_verdict xtcp_tw_state_process(struct xtcp_tw *tw,
						  struct sk_buff *skb)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	struct net *net = xtcp_tw_net(tw);
	struct xtcp_opts opts;
	bool ts_ok, ts_newer;

	if (cb->flags & XTCP_FLAG_RST) {
		if (cb->seq != tw->rcv_nxt)
			return XTCP_TW_DROP;
		if (READ_ONCE(xtcp_pernet(net)->sysctl.rfc1337)) {
			/* RFC 1337: ignore it and keep protecting the port. */
			xtcp_tw_reschedule(tw);
			return XTCP_TW_DROP;
		}
		return XTCP_TW_KILL;
	}

	/* PAWS (RFC 7323 5.3): an old duplicate is answered, never taken. */
	xtcp_opts_parse(skb, &opts);
	ts_ok = tw->eh.twb_ts_ok && opts.ts;
	ts_newer = ts_ok && (s32)(opts.tsval - tw->ts_recent) > 0;
	if (ts_ok && (s32)(opts.tsval - tw->ts_recent) < 0) {
		XTCP_INC_STATS(net, PAWS_TIMEWAIT_REJECTED);
		return XTCP_TW_ACK;
	}
	/*
	 * A new incarnation's SYN: above the old sequence space, or, with
	 * timestamps, with a newer TSval whatever its sequence (RFC 6191).
	 */
	if ((cb->flags & XTCP_FLAG_SYN) && !(cb->flags & XTCP_FLAG_ACK) &&
	    (xtcp_after(cb->seq, tw->rcv_nxt) || ts_newer))
		return XTCP_TW_SYN;
	if ((cb->flags & XTCP_FLAG_FIN) && cb->end_seq == tw->rcv_nxt) {
		/* Our last ACK was lost: ACK again and wait 2 x MSL anew. */
		if (opts.ts && tw->eh.twb_ts_ok)
			tw->ts_recent = opts.tsval;
		xtcp_tw_reschedule(tw);
		return XTCP_TW_ACK;
	}
	if (!(cb->flags & XTCP_FLAG_SYN) && cb->seq == cb->end_seq &&
	    cb->seq == tw->rcv_nxt)
		return XTCP_TW_DROP;	/* a duplicate ACK needs no answer */
	return XTCP_TW_ACK;
}

static void xtcp_tw_send_ack(struct xtcp_tw *tw)
{
	struct xtcp_ctl_seg seg = {
		.saddr	= tw->eh.laddr,
		.daddr	= tw->eh.raddr,
		.sport	= tw->eh.lport,
		.dport	= tw->eh.rport,
		.seq	= tw->snd_nxt,
		.ack	= tw->rcv_nxt,
		.window	= tw->eh.twb_rcv_wnd,
		.flags	= XTCP_FLAG_ACK,
		.ts	= tw->eh.twb_ts_ok,
		.tsecr	= tw->ts_recent,
		.oif	= tw->bound_dev_if,
	};

	if (tw->eh.twb_ts_ok)
		seg.tsval = xtcp_ts_clock() +
			    xtcp_ts_off(tw->eh.laddr, tw->eh.raddr,
					tw->eh.lport, tw->eh.rport);

	xtcp_ctl_send(xtcp_tw_net(tw), &seg);
}

/*
 * A segment hit @tw (referenced by the lookup, released here). Returns the
 * listener (with a reference) that must take @skb, a SYN of a new
 * incarnation of the 4-tuple; the bucket is gone then. Returns NULL if the
 * segment was consumed.
 */
struct sock *xtcp_tw_rcv(struct xtcp_tw *tw, struct sk_buff *skb)
{
	struct net *net = xtcp_tw_net(tw);
	struct sock *lsk = NULL;

	switch (xtcp_tw_state_process(tw, skb)) {
	case XTCP_TW_SYN:
		/*
		 * Without a listener the old connection's port is still
		 * protected: keep the bucket and tell the peer where it
		 * stands (RFC 9293 3.6.1; tcp_v4_rcv()'s TCP_TW_SYN).
		 */
		lsk = xtcp_lhash_lookup(net, tw->eh.laddr, tw->eh.lport,
					tw->eh.raddr, tw->eh.rport,
					inet_iif(skb), inet_sdif(skb));
		if (!lsk) {
			if (!xtcp_oow_rate_limited(net, skb, &tw->last_oow_ack))
				xtcp_tw_send_ack(tw);
			break;
		}
		trace_xtcp_tw_reuse(tw);
		if (xtcp_tw_deschedule(tw))
			XTCP_INC_STATS(net, TIME_WAIT_REUSED);
		break;
	case XTCP_TW_ACK:
		/* A retransmitted FIN is never limited: it needs our ACK. */
		if (!xtcp_oow_rate_limited(net, skb, &tw->last_oow_ack))
			xtcp_tw_send_ack(tw);
		break;
	case XTCP_TW_KILL:
		trace_xtcp_tw_kill(tw);
		if (xtcp_tw_deschedule(tw))
			XTCP_INC_STATS(net, TIME_WAIT_KILLED);
		break;
	case XTCP_TW_DROP:
		break;
	}
	if (!lsk)
		consume_skb(skb);
	xtcp_tw_put(tw);
	return lsk;
}

/*
 * twb_reuse: may a connect() take this bucket's 4-tuple over? Only if the
 * connection used timestamps and TS.Recent is more than a second old
 * (TCP's rule): the new incarnation's ISN and TSval, on the same clocks,
 * are then above anything of the old one, so PAWS and the sequence
 * check keep the old connection's duplicates out at the peer. TS.Recent
 * was taken when the timer last started, 2 x MSL before it expires; a
 * change of msl_ms since then moves this estimate by as much.
 */
bool xtcp_tw_reusable(const struct xtcp_tw *tw)
{
	int msl = READ_ONCE(xtcp_pernet(xtcp_tw_net(tw))->sysctl.msl_ms);
	unsigned long taken = READ_ONCE(tw->timer.expires) -
			      msecs_to_jiffies(2 * msl);

	return tw->eh.twb_ts_ok && time_after(jiffies, taken + HZ);
}

/*
 * connect() takes over @tw's 4-tuple (hash.c found it reusable and holds
 * a reference, which this drops): the bucket goes at once.
 */
void xtcp_tw_take_over(struct xtcp_tw *tw)
{
	struct net *net = xtcp_tw_net(tw);

	trace_xtcp_tw_reuse(tw);
	if (xtcp_tw_deschedule(tw))
		XTCP_INC_STATS(net, TW_REUSED);
	xtcp_tw_put(tw);
}

s64 xtcp_tw_expires_ms(struct xtcp_tw *tw)
{
	long left = (long)(READ_ONCE(tw->timer.expires) - jiffies);

	return left > 0 ? jiffies_to_msecs(left) : 0;
}

/* Namespace exit: remove every bucket of @net and wait for its timer. */
void xtcp_tw_purge(struct net *net)
{
	unsigned int i;

	for (i = 0; i <= xtcp_ehash_mask; i++) {
		struct xtcp_ehbucket *b = &xtcp_ehash[i];
		const struct hlist_nulls_node *pos;
		struct xtcp_ehnode *n;
		struct xtcp_tw *tw;

restart:
		tw = NULL;
		spin_lock_bh(&b->lock);
		hlist_nulls_for_each_entry(n, pos, &b->chain, node) {
			if (n->kind != XTCP_EH_TW ||
			    !net_eq(read_pnet(&n->net), net))
				continue;
			tw = container_of(n, struct xtcp_tw, eh);
			if (refcount_inc_not_zero(&tw->refcnt))
				break;
			tw = NULL;
		}
		spin_unlock_bh(&b->lock);
		if (!tw)
			continue;
		xtcp_tw_deschedule(tw);
		/*
		 * Wait for a callback still running; a timer a racing
		 * reschedule re-armed still holds its reference.
		 */
		if (timer_delete_sync(&tw->timer))
			xtcp_tw_put(tw);
		xtcp_tw_put(tw);
		goto restart;
	}
}

int xtcp_tw_init(void)
{
	/* README and Documentation/ quote this size: keep them true. */
	BUILD_BUG_ON(IS_ENABLED(CONFIG_X86_64) && IS_ENABLED(CONFIG_NET_NS) &&
		     !IS_ENABLED(CONFIG_LOCKDEP) &&
		     sizeof(struct xtcp_tw) != XTCP_TW_BUCKET_SIZE);
	xtcp_tw_cachep = kmem_cache_create("xtcp_tw_bucket",
					   sizeof(struct xtcp_tw), 0, 0, NULL);
	return xtcp_tw_cachep ? 0 : -ENOMEM;
}

void xtcp_tw_exit(void)
{
	/* Buckets are freed by RCU callbacks: let them all run first. */
	rcu_barrier();
	kmem_cache_destroy(xtcp_tw_cachep);
}
