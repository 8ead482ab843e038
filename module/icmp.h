/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ICMP errors for xtcp's IP protocol, and what follows from them: hard
 * and soft errors, path MTU discovery, IP_RECVERR's error queue.
 */
#ifndef _XTCP_ICMP_H
#define _XTCP_ICMP_H

#include <linux/types.h>

struct msghdr;
struct sk_buff;
struct sock;

/* net_protocol.err_handler: @skb->data is the quoted IPv4 header. */
int xtcp_icmp_err(struct sk_buff *skb, u32 info);
/* From release_sock(): what an ICMP left while user context owned @sk. */
void xtcp_icmp_release_cb(struct sock *sk);
/* recvmsg(MSG_ERRQUEUE): one error queued under IP_RECVERR. */
int xtcp_icmp_recv_error(struct sock *sk, struct msghdr *msg, size_t len);
/* IP_OPTIONS changed: a connected socket's MSS makes room for them. */
void xtcp_icmp_options_changed(struct sock *sk);
/* The MSS for a path of @mtu: IP options, XTCP_MAXSEG, the peer's MSS. */
u16 xtcp_mss_for_path(const struct sock *sk, unsigned int mtu);

#endif /* _XTCP_ICMP_H */
