// SPDX-License-Identifier: GPL-2.0
/*
 * Port sharing with XTCP_REUSEPORT, SO_REUSEPORT's semantics at SOL_XTCP
 * (the socket core takes SO_REUSEPORT from inet families only).
 *
 * Binding: as TCP's rule, two sockets may hold one port with overlapping
 * addresses if both have the option and the same owner (sk_uid, the
 * creator's fsuid), or if the holder is a TIME_WAIT bucket whose socket
 * had it. hash.c's bind conflict check asks here.
 *
 * Spreading: TCP keeps the listeners of a port in a group array and picks
 * one by the flow hash modulo their number. xtcp keeps no group: among
 * the listeners that match a segment equally well, the listener lookup
 * takes the one whose rank, a hash of the flow hash and the listener's
 * own random key, is the highest (rendezvous hashing). A flow always
 * reaches the same listener while the set is unchanged, so its third ACK
 * finds the request entry its SYN made; a listener that closes moves only
 * its own share of new flows to the others.
 */

#include <linux/jhash.h>
#include <linux/net.h>
#include <linux/random.h>
#include <net/netns/hash.h>
#include <net/sock.h>

#include "reuseport.h"
#include "timewait.h"
#include "xtcp.h"

static u32 xtcp_reuseport_seed __read_mostly;

/* Socket lock held. A key once given stays: the rank of a flow is stable. */
void xtcp_reuseport_set(struct sock *sk, bool on)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (on && !xs->reuseport_key)
		WRITE_ONCE(xs->reuseport_key, get_random_u32() | 1);
	WRITE_ONCE(xs->reuseport, on);
}

bool xtcp_reuseport_on(const struct sock *sk)
{
	return READ_ONCE(xtcp_sk(sk)->reuseport);
}

/* May @sk take the port @sk2 holds, with overlapping addresses? */
bool xtcp_reuseport_shares(const struct sock *sk, const struct sock *sk2)
{
	return xtcp_reuseport_on(sk) && xtcp_reuseport_on(sk2) &&
	       uid_eq(sk->sk_uid, sk2->sk_uid);
}

/* ... or the port a TIME_WAIT bucket holds (TCP ignores its owner). */
bool xtcp_reuseport_shares_tw(const struct sock *sk, const struct xtcp_tw *tw)
{
	return xtcp_reuseport_on(sk) && tw->eh.twb_reuseport;
}

u32 xtcp_reuseport_flowhash(const struct net *net, __be32 laddr, __be16 lport,
			    __be32 raddr, __be16 rport)
{
	net_get_random_once(&xtcp_reuseport_seed, sizeof(xtcp_reuseport_seed));
	return jhash_3words((__force u32)laddr, (__force u32)raddr,
			    ((__force u32)lport << 16) | (__force u32)rport,
			    xtcp_reuseport_seed + net_hash_mix(net));
}

/* The listener with the highest rank for a flow takes it. */
u32 xtcp_reuseport_rank(const struct sock *sk, u32 flowhash)
{
	return jhash_1word(flowhash, READ_ONCE(xtcp_sk(sk)->reuseport_key));
}
