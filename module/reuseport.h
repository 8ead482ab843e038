/* SPDX-License-Identifier: GPL-2.0 */
/*
 * XTCP_REUSEPORT: several listeners of one owner on one port, the
 * connections spread over them by a hash of the 4-tuple.
 */
#ifndef _XTCP_REUSEPORT_H
#define _XTCP_REUSEPORT_H

#include <linux/types.h>

struct net;
struct sock;
struct xtcp_tw;

void xtcp_reuseport_set(struct sock *sk, bool on);
bool xtcp_reuseport_shares(const struct sock *sk, const struct sock *sk2);
bool xtcp_reuseport_shares_tw(const struct sock *sk, const struct xtcp_tw *tw);
bool xtcp_reuseport_on(const struct sock *sk);
u32 xtcp_reuseport_flowhash(const struct net *net, __be32 laddr, __be16 lport,
			    __be32 raddr, __be16 rport);
u32 xtcp_reuseport_rank(const struct sock *sk, u32 flowhash);

#endif /* _XTCP_REUSEPORT_H */
