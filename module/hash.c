// SPDX-License-Identifier: GPL-2.0
/*
 * Lookup tables: established (incl. TIME_WAIT), listeners, bound ports.
 *
 * Readers of the established and listener tables run in softirq under RCU
 * and take a reference with refcount_inc_not_zero(); sockets are
 * SOCK_RCU_FREE and buckets are freed after a grace period, so a node seen
 * under RCU is never reused memory. Writers hold the bucket's spinlock
 * (always _bh: the receive path writes too).
 */

#include <linux/jhash.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/sizes.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/netns/hash.h>
#include <net/sock.h>

#include "hash.h"
#include "mib.h"
#include "netns.h"
#include "reuseport.h"
#include "timewait.h"
#include "xtcp.h"

#define XTCP_LHASH_SIZE		256
/* A parameter's largest value: 16 MiB of established buckets. */
#define XTCP_HASH_MAX		SZ_1M

struct xtcp_bbucket {
	spinlock_t		lock;	/* both lists; always taken _bh */
	struct hlist_head	socks;	/* via sk->sk_bind_node */
	struct hlist_head	tws;	/* via xtcp_tw.bind_node */
};

struct xtcp_ehbucket *xtcp_ehash;
unsigned int xtcp_ehash_mask;
struct xtcp_hbucket *xtcp_lhash;
unsigned int xtcp_lhash_mask = XTCP_LHASH_SIZE - 1;
static struct xtcp_bbucket *xtcp_bhash;
static unsigned int xtcp_bhash_mask;
static u32 xtcp_hash_seed __read_mostly;

static u32 xtcp_ehashfn(const struct net *net, __be32 laddr, __be16 lport,
			__be32 raddr, __be16 rport)
{
	return jhash_3words((__force u32)laddr, (__force u32)raddr,
			    ((__force u32)lport << 16) | (__force u32)rport,
			    xtcp_hash_seed + net_hash_mix(net));
}

static u32 xtcp_porthash(const struct net *net, u16 port)
{
	return jhash_1word(port, xtcp_hash_seed + net_hash_mix(net));
}

static struct xtcp_ehbucket *xtcp_ebucket(const struct xtcp_ehnode *n)
{
	return &xtcp_ehash[xtcp_ehashfn(read_pnet(&n->net), n->laddr,
					n->lport, n->raddr, n->rport) &
			   xtcp_ehash_mask];
}

static struct xtcp_bbucket *xtcp_bbucket(const struct net *net, u16 port)
{
	return &xtcp_bhash[xtcp_porthash(net, port) & xtcp_bhash_mask];
}

/*
 * A table's size: @param if given, else one bucket per @ram_per_bucket
 * bytes of memory within [@lo, @hi] (as TCP's thash_entries and
 * uhash_entries size theirs from memory); a power of 2 either way.
 */
static unsigned int xtcp_hash_size(unsigned int param,
				   unsigned long ram_per_bucket,
				   unsigned int lo, unsigned int hi)
{
	unsigned long n = param;

	if (!n)
		n = clamp_t(unsigned long,
			    (totalram_pages() << PAGE_SHIFT) / ram_per_bucket,
			    lo, hi);
	return roundup_pow_of_two(min_t(unsigned long, n, XTCP_HASH_MAX));
}

int xtcp_hash_init(void)
{
	unsigned int i, esize, bsize;

	get_random_bytes(&xtcp_hash_seed, sizeof(xtcp_hash_seed));

	esize = xtcp_hash_size(xtcp_ehash_entries, SZ_128K, 256, 65536);
	bsize = xtcp_hash_size(xtcp_bhash_entries, SZ_512K, 64, 16384);
	xtcp_ehash_entries = esize;
	xtcp_bhash_entries = bsize;
	xtcp_ehash_mask = esize - 1;
	xtcp_bhash_mask = bsize - 1;

	xtcp_ehash = kvcalloc(esize, sizeof(*xtcp_ehash), GFP_KERNEL);
	xtcp_lhash = kvcalloc(XTCP_LHASH_SIZE, sizeof(*xtcp_lhash), GFP_KERNEL);
	xtcp_bhash = kvcalloc(bsize, sizeof(*xtcp_bhash), GFP_KERNEL);
	if (!xtcp_ehash || !xtcp_lhash || !xtcp_bhash) {
		xtcp_hash_exit();
		return -ENOMEM;
	}
	for (i = 0; i < esize; i++) {
		spin_lock_init(&xtcp_ehash[i].lock);
		INIT_HLIST_NULLS_HEAD(&xtcp_ehash[i].chain, i);
	}
	for (i = 0; i < XTCP_LHASH_SIZE; i++) {
		spin_lock_init(&xtcp_lhash[i].lock);
		INIT_HLIST_HEAD(&xtcp_lhash[i].chain);
	}
	for (i = 0; i < bsize; i++) {
		spin_lock_init(&xtcp_bhash[i].lock);
		INIT_HLIST_HEAD(&xtcp_bhash[i].socks);
		INIT_HLIST_HEAD(&xtcp_bhash[i].tws);
	}
	return 0;
}

void xtcp_hash_exit(void)
{
	kvfree(xtcp_ehash);
	kvfree(xtcp_lhash);
	kvfree(xtcp_bhash);
	xtcp_ehash = NULL;
	xtcp_lhash = NULL;
	xtcp_bhash = NULL;
}

/* ---- established ---- */

static bool xtcp_eh_match(const struct xtcp_ehnode *n, const struct net *net,
			  __be32 raddr, __be16 rport, __be32 laddr,
			  __be16 lport)
{
	return n->laddr == laddr && n->raddr == raddr && n->lport == lport &&
	       n->rport == rport && net_eq(read_pnet(&n->net), net);
}

static bool xtcp_eh_get(struct xtcp_ehnode *n)
{
	if (n->kind == XTCP_EH_SOCK)
		return refcount_inc_not_zero(&container_of(n, struct xtcp_sock,
							   eh)->inet.sk.sk_refcnt);
	return refcount_inc_not_zero(&container_of(n, struct xtcp_tw,
						   eh)->refcnt);
}

static void xtcp_eh_put(struct xtcp_ehnode *n)
{
	if (n->kind == XTCP_EH_SOCK)
		sock_put(&container_of(n, struct xtcp_sock, eh)->inet.sk);
	else
		xtcp_tw_put(container_of(n, struct xtcp_tw, eh));
}

/*
 * A socket bound to a device (SO_BINDTODEVICE) only takes segments that
 * arrived on it (@dif) or on a device enslaved to it (@sdif), as TCP's
 * lookups do (inet_sk_bound_dev_eq(): net.ipv4.tcp_l3mdev_accept decides
 * whether an unbound socket takes segments from an L3 master device).
 */
static bool xtcp_dev_match(struct net *net, const struct sock *sk, int dif,
			   int sdif)
{
	return inet_sk_bound_dev_eq(net, READ_ONCE(sk->sk_bound_dev_if), dif,
				    sdif);
}

/*
 * A TIME_WAIT bucket keeps its socket's bound device and, like the
 * socket, answers only for segments that arrived on it.
 */
static bool xtcp_eh_dev_match(const struct xtcp_ehnode *n, struct net *net,
			      int dif, int sdif)
{
	if (n->kind != XTCP_EH_SOCK)
		return inet_sk_bound_dev_eq(net, container_of(n, struct xtcp_tw,
							      eh)->bound_dev_if,
					    dif, sdif);
	return xtcp_dev_match(net, &container_of(n, struct xtcp_sock,
						 eh)->inet.sk, dif, sdif);
}

/*
 * The RCU contract, as inet_hashtables': entries are never reused memory
 * under RCU (sockets are SOCK_RCU_FREE, buckets are freed by call_rcu),
 * but a socket may leave its chain and enter another (disconnect and
 * connect again) while a reader stands on it. Such a reader walks on into
 * the other chain and ends on that chain's nulls marker: a foreign index
 * means the walk may have missed entries of ours, so it starts again. A
 * match is checked again once referenced, as the socket may have been
 * re-keyed between the check and the reference.
 */
struct xtcp_ehnode *xtcp_ehash_lookup(struct net *net, __be32 raddr,
				      __be16 rport, __be32 laddr,
				      __be16 lport, int dif, int sdif)
{
	unsigned int slot = xtcp_ehashfn(net, laddr, lport, raddr, rport) &
			    xtcp_ehash_mask;
	struct xtcp_ehbucket *b = &xtcp_ehash[slot];
	const struct hlist_nulls_node *pos;
	struct xtcp_ehnode *n;

	rcu_read_lock();
begin:
	hlist_nulls_for_each_entry_rcu(n, pos, &b->chain, node) {
		if (!xtcp_eh_match(n, net, raddr, rport, laddr, lport) ||
		    !xtcp_eh_dev_match(n, net, dif, sdif))
			continue;
		/* Its last reference went: it is leaving; look again. */
		if (!xtcp_eh_get(n))
			goto begin;
		if (!xtcp_eh_match(n, net, raddr, rport, laddr, lport) ||
		    !xtcp_eh_dev_match(n, net, dif, sdif)) {
			xtcp_eh_put(n);
			goto begin;
		}
		rcu_read_unlock();
		return n;
	}
	if (get_nulls_value(pos) != slot)
		goto begin;
	rcu_read_unlock();
	return NULL;
}

/*
 * Hash a connected socket under its 4-tuple. Fails with -EADDRNOTAVAIL,
 * as TCP's connect() does, if a socket or TIME_WAIT bucket has the tuple;
 * if it is a bucket that used timestamps and @twp is not NULL, *@twp is
 * that bucket, with a reference.
 */
static int __xtcp_ehash_add_sk(struct sock *sk, struct xtcp_tw **twp)
{
	struct xtcp_ehnode *n = &xtcp_sk(sk)->eh, *o;
	const struct hlist_nulls_node *pos;
	struct xtcp_ehbucket *b;

	write_pnet(&n->net, sock_net(sk));
	n->laddr = sk->sk_rcv_saddr;
	n->raddr = sk->sk_daddr;
	n->lport = htons(sk->sk_num);
	n->rport = sk->sk_dport;
	n->kind = XTCP_EH_SOCK;

	b = xtcp_ebucket(n);
	spin_lock_bh(&b->lock);
	hlist_nulls_for_each_entry(o, pos, &b->chain, node) {
		if (xtcp_eh_match(o, sock_net(sk), n->raddr, n->rport,
				  n->laddr, n->lport)) {
			struct xtcp_tw *tw = container_of(o, struct xtcp_tw, eh);

			if (twp && o->kind == XTCP_EH_TW && tw->eh.twb_ts_ok &&
			    refcount_inc_not_zero(&tw->refcnt))
				*twp = tw;
			spin_unlock_bh(&b->lock);
			return -EADDRNOTAVAIL;
		}
	}
	sock_hold(sk);
	hlist_nulls_add_head_rcu(&n->node, &b->chain);
	spin_unlock_bh(&b->lock);
	return 0;
}

int xtcp_ehash_add_sk(struct sock *sk)
{
	return __xtcp_ehash_add_sk(sk, NULL);
}

/*
 * connect() from a port the user bound (which bind() let share with the
 * TIME_WAIT buckets there only under SO_REUSEADDR): a bucket of the very
 * 4-tuple is taken over if its connection used timestamps, whatever
 * tw_reuse says and however young it is, as TCP's connect() does for a
 * bound port (tcp_twsk_unique() with no ephemeral search): the new ISN
 * and TSval, on the same clocks, keep the old duplicates out. A bucket
 * without timestamps still refuses the tuple.
 */
int xtcp_ehash_connect_bound(struct sock *sk)
{
	struct xtcp_tw *tw = NULL;
	int err;

	err = __xtcp_ehash_add_sk(sk, &tw);
	if (err && tw) {
		xtcp_tw_take_over(tw);
		err = __xtcp_ehash_add_sk(sk, NULL);
	}
	return err;
}

/* The caller holds its own reference, so the table's is never the last. */
void xtcp_ehash_del_sk(struct sock *sk)
{
	struct xtcp_ehnode *n = &xtcp_sk(sk)->eh;
	struct xtcp_ehbucket *b;
	bool hashed;

	if (!READ_ONCE(n->node.pprev))
		return;
	b = xtcp_ebucket(n);
	spin_lock_bh(&b->lock);
	hashed = !hlist_nulls_unhashed(&n->node);
	if (hashed)
		hlist_nulls_del_init_rcu(&n->node);
	spin_unlock_bh(&b->lock);
	if (hashed)
		__sock_put(sk);
}

/*
 * The socket hands its tuple to its TIME_WAIT bucket under the bucket
 * lock, the bucket first: a concurrent lookup finds one or the other,
 * never neither (which would answer with a RST). The socket's node keeps
 * its forward link when it leaves, so a reader standing on it walks on
 * through the rest of the chain instead of ending there.
 */
void xtcp_ehash_replace_sk(struct sock *sk, struct xtcp_tw *tw)
{
	struct xtcp_ehnode *n = &xtcp_sk(sk)->eh;
	struct xtcp_ehbucket *b = xtcp_ebucket(n);
	bool hashed;

	spin_lock_bh(&b->lock);
	hlist_nulls_add_head_rcu(&tw->eh.node, &b->chain);
	hashed = !hlist_nulls_unhashed(&n->node);
	if (hashed)
		hlist_nulls_del_init_rcu(&n->node);
	spin_unlock_bh(&b->lock);
	if (hashed)
		__sock_put(sk);
}

/* True if this call removed the bucket (and owns the table's reference). */
bool xtcp_ehash_del_tw(struct xtcp_tw *tw)
{
	struct xtcp_ehbucket *b = xtcp_ebucket(&tw->eh);
	bool hashed;

	spin_lock_bh(&b->lock);
	hashed = !hlist_nulls_unhashed(&tw->eh.node);
	if (hashed)
		hlist_nulls_del_init_rcu(&tw->eh.node);
	spin_unlock_bh(&b->lock);
	return hashed;
}

/* ---- listeners ---- */

static struct xtcp_hbucket *xtcp_lbucket(const struct net *net, u16 port)
{
	return &xtcp_lhash[xtcp_porthash(net, port) & xtcp_lhash_mask];
}

/*
 * The best listener for a segment to @laddr:@lport that came in on @dif
 * (@sdif: its L3 slave device, or 0), as TCP scores them: a listener
 * bound to another device never matches; an exact local address beats
 * a wildcard one, and among those a listener bound to the device beats
 * an unbound one. Listeners that score the same share the port with
 * XTCP_REUSEPORT: the flow's hash ranks them (reuseport.c).
 */
struct sock *xtcp_lhash_lookup(struct net *net, __be32 laddr, __be16 lport,
			       __be32 raddr, __be16 rport, int dif, int sdif)
{
	struct xtcp_hbucket *b = xtcp_lbucket(net, ntohs(lport));
	struct sock *sk, *best = NULL;
	int score, best_score = -1;
	u32 flow = 0, rank, best_rank = 0;
	bool hashed = false;

	rcu_read_lock();
	sk_for_each_rcu(sk, &b->chain) {
		if (!net_eq(sock_net(sk), net) || sk->sk_num != ntohs(lport))
			continue;
		if (sk->sk_rcv_saddr && sk->sk_rcv_saddr != laddr)
			continue;
		if (!xtcp_dev_match(net, sk, dif, sdif))
			continue;
		score = (sk->sk_rcv_saddr ? 2 : 0) +
			(READ_ONCE(sk->sk_bound_dev_if) ? 1 : 0);
		if (score == best_score && xtcp_reuseport_on(sk) &&
		    xtcp_reuseport_on(best)) {
			if (!hashed) {
				flow = xtcp_reuseport_flowhash(net, laddr, lport,
							       raddr, rport);
				best_rank = xtcp_reuseport_rank(best, flow);
				hashed = true;
			}
			rank = xtcp_reuseport_rank(sk, flow);
			if (rank > best_rank) {
				best = sk;
				best_rank = rank;
			}
		} else if (score > best_score) {
			best = sk;
			best_score = score;
			if (hashed)
				best_rank = xtcp_reuseport_rank(sk, flow);
		}
	}
	if (best && !refcount_inc_not_zero(&best->sk_refcnt))
		best = NULL;
	rcu_read_unlock();
	return best;
}

void xtcp_lhash_add(struct sock *sk)
{
	struct xtcp_hbucket *b = xtcp_lbucket(sock_net(sk), sk->sk_num);

	spin_lock_bh(&b->lock);
	sock_hold(sk);
	hlist_add_head_rcu(&sk->sk_node, &b->chain);
	spin_unlock_bh(&b->lock);
}

void xtcp_lhash_del(struct sock *sk)
{
	struct xtcp_hbucket *b = xtcp_lbucket(sock_net(sk), sk->sk_num);
	bool hashed;

	spin_lock_bh(&b->lock);
	hashed = !sk_unhashed(sk);
	if (hashed)
		hlist_del_init_rcu(&sk->sk_node);
	spin_unlock_bh(&b->lock);
	if (hashed)
		__sock_put(sk);
}

/* ---- bound ports ---- */

static bool xtcp_addr_overlap(__be32 a, __be32 b)
{
	return !a || !b || a == b;
}

/*
 * Linux TCP's rule: two owners of a port conflict when their addresses
 * overlap, unless both set SO_REUSEADDR and the existing one does not
 * listen, or both set XTCP_REUSEPORT and have one owner. A TIME_WAIT
 * bucket carries its socket's SO_REUSEADDR and XTCP_REUSEPORT.
 */
static bool xtcp_bind_conflict(struct xtcp_bbucket *b, const struct sock *sk,
			       u16 snum)
{
	const struct net *net = sock_net(sk);
	struct xtcp_tw *tw;
	struct sock *sk2;

	sk_for_each_bound(sk2, &b->socks) {
		if (sk2 == sk || sk2->sk_num != snum ||
		    !net_eq(sock_net(sk2), net) ||
		    !xtcp_addr_overlap(sk->sk_rcv_saddr, sk2->sk_rcv_saddr))
			continue;
		if (sk->sk_reuse && sk2->sk_reuse &&
		    sk2->sk_state != TCP_LISTEN)
			continue;
		if (xtcp_reuseport_shares(sk, sk2))
			continue;
		return true;
	}
	hlist_for_each_entry(tw, &b->tws, bind_node) {
		if (ntohs(tw->eh.lport) != snum ||
		    !net_eq(read_pnet(&tw->eh.net), net) ||
		    !xtcp_addr_overlap(sk->sk_rcv_saddr, tw->eh.laddr))
			continue;
		if (sk->sk_reuse && tw->eh.twb_reuse)
			continue;
		if (xtcp_reuseport_shares_tw(sk, tw))
			continue;
		return true;
	}
	return false;
}

static bool xtcp_port_unused(struct xtcp_bbucket *b, const struct net *net,
			     u16 snum)
{
	struct xtcp_tw *tw;
	struct sock *sk2;

	sk_for_each_bound(sk2, &b->socks)
		if (sk2->sk_num == snum && net_eq(sock_net(sk2), net))
			return false;
	hlist_for_each_entry(tw, &b->tws, bind_node)
		if (ntohs(tw->eh.lport) == snum &&
		    net_eq(read_pnet(&tw->eh.net), net))
			return false;
	return true;
}

static void xtcp_bind_link(struct xtcp_bbucket *b, struct sock *sk, u16 snum)
{
	sk->sk_num = snum;
	inet_sk(sk)->inet_sport = htons(snum);
	hlist_add_head(&sk->sk_bind_node, &b->socks);
}

/*
 * twb_reuse (as tcp_tw_reuse): 1 lets connect() take over a TIME_WAIT
 * bucket, 2 only on loopback.
 */
static bool xtcp_tw_reuse_on(const struct sock *sk)
{
	int reuse = READ_ONCE(xtcp_pernet(sock_net(sk))->sysctl.tw_reuse_connect);

	if (reuse == 2)
		return ipv4_is_loopback(sk->sk_daddr) ||
		       ipv4_is_loopback(sk->sk_rcv_saddr);
	return reuse;
}

/*
 * @snum's holders in @sk's namespace are one TIME_WAIT bucket of the very
 * 4-tuple @sk connects, which may be taken over (xtcp_tw_reusable()):
 * return it with a reference; otherwise NULL. Bucket lock held.
 */
static struct xtcp_tw *xtcp_port_reusable_tw(struct xtcp_bbucket *b,
					     const struct sock *sk, u16 snum)
{
	const struct net *net = sock_net(sk);
	struct xtcp_tw *tw, *found = NULL;
	struct sock *sk2;

	sk_for_each_bound(sk2, &b->socks)
		if (sk2->sk_num == snum && net_eq(sock_net(sk2), net))
			return NULL;
	hlist_for_each_entry(tw, &b->tws, bind_node) {
		if (ntohs(tw->eh.lport) != snum ||
		    !net_eq(read_pnet(&tw->eh.net), net))
			continue;
		if (found || tw->eh.laddr != sk->sk_rcv_saddr ||
		    tw->eh.raddr != sk->sk_daddr ||
		    tw->eh.rport != sk->sk_dport || !xtcp_tw_reusable(tw))
			return NULL;
		found = tw;
	}
	if (found && !refcount_inc_not_zero(&found->refcnt))
		return NULL;
	return found;
}

/* An ephemeral port nobody in the namespace holds: @sk's now. */
static bool xtcp_port_try_free(struct sock *sk, u16 port)
{
	struct xtcp_bbucket *b = xtcp_bbucket(sock_net(sk), port);
	bool ok;

	spin_lock_bh(&b->lock);
	ok = xtcp_port_unused(b, sock_net(sk), port);
	if (ok)
		xtcp_bind_link(b, sk, port);
	spin_unlock_bh(&b->lock);
	return ok;
}

/*
 * tw_reuse's remedy for port exhaustion: a port held only by a TIME_WAIT
 * bucket of @sk's own 4-tuple that may be taken over. The bucket goes
 * first, outside the port's lock; the port is then @sk's if nobody took
 * it meanwhile.
 */
static bool xtcp_port_try_tw(struct sock *sk, u16 port)
{
	struct xtcp_bbucket *b = xtcp_bbucket(sock_net(sk), port);
	struct xtcp_tw *tw;

	spin_lock_bh(&b->lock);
	tw = xtcp_port_reusable_tw(b, sk, port);
	spin_unlock_bh(&b->lock);
	if (!tw)
		return false;
	xtcp_tw_take_over(tw);
	return xtcp_port_try_free(sk, port);
}

/*
 * The one walk of the ephemeral range [@low, @low + @n): from @offset on,
 * wrapping, reserved ports skipped, until @try gives @sk a port.
 */
static int xtcp_port_walk(struct sock *sk, int low, int n, u32 offset,
			  bool (*try)(struct sock *sk, u16 port))
{
	int i;

	for (i = 0; i < n; i++) {
		u16 port = low + (offset + i) % n;

		if (inet_is_local_reserved_port(sock_net(sk), port))
			continue;
		if (try(sk, port))
			return 0;
	}
	return -EADDRNOTAVAIL;
}

/*
 * Give @sk the local port @snum, or an ephemeral port nobody in the
 * namespace holds if @snum is 0. Ephemeral ports are never shared, which
 * keeps connect() from needing a 4-tuple search; when none is free,
 * tw_reuse may free one, walking the range again in the same order.
 */
int xtcp_bind_port(struct sock *sk, u16 snum)
{
	struct net *net = sock_net(sk);
	struct xtcp_bbucket *b;
	int low, high, n;
	u32 offset;

	if (snum) {
		b = xtcp_bbucket(net, snum);
		spin_lock_bh(&b->lock);
		if (xtcp_bind_conflict(b, sk, snum)) {
			spin_unlock_bh(&b->lock);
			return -EADDRINUSE;
		}
		xtcp_bind_link(b, sk, snum);
		spin_unlock_bh(&b->lock);
		return 0;
	}

	inet_get_local_port_range(net, &low, &high);
	n = high - low + 1;
	offset = get_random_u32() % n;
	if (!xtcp_port_walk(sk, low, n, offset, xtcp_port_try_free))
		return 0;
	if (!xtcp_tw_reuse_on(sk))
		return -EADDRNOTAVAIL;
	return xtcp_port_walk(sk, low, n, offset, xtcp_port_try_tw);
}

/*
 * listen(): check the port and become a listener in one hold of the
 * bucket lock. Every bind() and listen() that could conflict with @sk
 * takes this lock, and xtcp_bind_conflict() reads the other sockets'
 * states under it; were the state set after the unlock, two SO_REUSEADDR
 * sockets racing listen() would each find the other not yet listening and
 * both succeed. Done this way the first one in listens and the second
 * sees it.
 */
int xtcp_bind_listen(struct sock *sk)
{
	struct xtcp_bbucket *b = xtcp_bbucket(sock_net(sk), sk->sk_num);
	int err = -EADDRINUSE;

	spin_lock_bh(&b->lock);
	if (!xtcp_bind_conflict(b, sk, sk->sk_num)) {
		xtcp_set_state(sk, TCP_LISTEN);
		err = 0;
	}
	spin_unlock_bh(&b->lock);
	return err;
}

/* A child shares its listener's port without a conflict check. */
void xtcp_bind_inherit(struct sock *child, u16 snum)
{
	struct xtcp_bbucket *b = xtcp_bbucket(sock_net(child), snum);

	spin_lock_bh(&b->lock);
	xtcp_bind_link(b, child, snum);
	spin_unlock_bh(&b->lock);
}

void xtcp_unbind_port(struct sock *sk)
{
	struct xtcp_bbucket *b;

	if (hlist_unhashed(&sk->sk_bind_node))
		return;
	b = xtcp_bbucket(sock_net(sk), sk->sk_num);
	spin_lock_bh(&b->lock);
	__sk_del_bind_node(sk);
	sk_node_init(&sk->sk_bind_node);
	spin_unlock_bh(&b->lock);
	sk->sk_num = 0;
	inet_sk(sk)->inet_sport = 0;
}

void xtcp_bind_add_tw(struct xtcp_tw *tw)
{
	struct xtcp_bbucket *b = xtcp_bbucket(read_pnet(&tw->eh.net),
					      ntohs(tw->eh.lport));

	spin_lock_bh(&b->lock);
	hlist_add_head(&tw->bind_node, &b->tws);
	spin_unlock_bh(&b->lock);
}

void xtcp_bind_del_tw(struct xtcp_tw *tw)
{
	struct xtcp_bbucket *b = xtcp_bbucket(read_pnet(&tw->eh.net),
					      ntohs(tw->eh.lport));

	spin_lock_bh(&b->lock);
	if (!hlist_unhashed(&tw->bind_node))
		hlist_del_init(&tw->bind_node);
	spin_unlock_bh(&b->lock);
}
