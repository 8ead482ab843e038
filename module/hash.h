/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The three lookup tables, shared by all namespaces and keyed with the
 * namespace:
 *
 *  established  4-tuple -> full socket or TIME_WAIT bucket (RCU readers,
 *               per-bucket spinlock writers, hlist_nulls chains); the
 *               receive path's first stop
 *  listeners    local port -> listening sockets (RCU readers)
 *  bound ports  local port -> every socket and TIME_WAIT bucket holding
 *               the port, for bind() conflicts (bucket lock only)
 *
 * A socket in the established or listener table holds a reference for
 * the table; the bound-port table holds none: a socket leaves it before
 * it can be destroyed.
 */
#ifndef _XTCP_HASH_H
#define _XTCP_HASH_H

#include <linux/list.h>
#include <linux/list_nulls.h>
#include <linux/spinlock.h>
#include <net/net_namespace.h>

struct sock;
struct xtcp_tw;

enum xtcp_eh_kind {
	XTCP_EH_SOCK,
	XTCP_EH_TW,
};

/* The part of a socket or TIME_WAIT bucket the established table sees. */
struct xtcp_ehnode {
	struct hlist_nulls_node	node;
	possible_net_t		net;
	__be32			laddr;
	__be32			raddr;
	__be16			lport;
	__be16			rport;
	u8			kind;	/* enum xtcp_eh_kind */
	/*
	 * What would be the node's tail padding holds a TIME_WAIT bucket's
	 * smallest fields, so that the bucket fits XTCP_TW_BUCKET_SIZE
	 * (timewait.h); a socket leaves them unused.
	 */
	u8			twb_reuse:2,	/* its socket's sk_reuse */
				twb_reuseport:1,	/* its XTCP_REUSEPORT */
				twb_ts_ok:1;	/* it used timestamps */
	u16			twb_rcv_wnd;
};

struct xtcp_hbucket {
	spinlock_t		lock;	/* writers of chain; taken _bh */
	struct hlist_head	chain;
};

/*
 * An established bucket's chain ends in a nulls marker holding the
 * bucket's index: a lockless reader whose entry moved to another chain
 * meanwhile ends on a foreign index and knows to start again.
 */
struct xtcp_ehbucket {
	spinlock_t		lock;	/* writers of chain; taken _bh */
	struct hlist_nulls_head	chain;
};

extern struct xtcp_ehbucket *xtcp_ehash;
extern unsigned int xtcp_ehash_mask;
extern struct xtcp_hbucket *xtcp_lhash;
extern unsigned int xtcp_lhash_mask;

int xtcp_hash_init(void);
void xtcp_hash_exit(void);

/*
 * Established table. The lookup returns the entry with a reference taken
 * (sk_refcnt or the bucket's refcnt); NULL if none matched. @dif and
 * @sdif are the segment's input device and L3 slave device
 * (inet_iif(), inet_sdif()): a socket bound to another device is not a
 * match.
 */
struct xtcp_ehnode *xtcp_ehash_lookup(struct net *net, __be32 raddr,
				      __be16 rport, __be32 laddr,
				      __be16 lport, int dif, int sdif);
int xtcp_ehash_add_sk(struct sock *sk);
int xtcp_ehash_connect_bound(struct sock *sk);
void xtcp_ehash_del_sk(struct sock *sk);
void xtcp_ehash_replace_sk(struct sock *sk, struct xtcp_tw *tw);
bool xtcp_ehash_del_tw(struct xtcp_tw *tw);

/*
 * Listener table: lookup returns a referenced listener or NULL for a
 * segment from @raddr:@rport (which spreads flows over listeners sharing
 * the port with XTCP_REUSEPORT).
 */
struct sock *xtcp_lhash_lookup(struct net *net, __be32 laddr, __be16 lport,
			       __be32 raddr, __be16 rport, int dif, int sdif);
void xtcp_lhash_add(struct sock *sk);
void xtcp_lhash_del(struct sock *sk);

/* Bound ports; @snum is host order, 0 picks a free ephemeral port. */
int xtcp_bind_port(struct sock *sk, u16 snum);
/* listen(): the conflict check and TCP_LISTEN under one bucket lock. */
int xtcp_bind_listen(struct sock *sk);
void xtcp_bind_inherit(struct sock *child, u16 snum);
void xtcp_unbind_port(struct sock *sk);
void xtcp_bind_add_tw(struct xtcp_tw *tw);
void xtcp_bind_del_tw(struct xtcp_tw *tw);

#endif /* _XTCP_HASH_H */
