// SPDX-License-Identifier: GPL-2.0
/*
 * The IPv4 protocol handler: every segment of protocol "ipproto" enters
 * here, in softirq context.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/skbuff.h>
#include <net/protocol.h>

#include "netns.h"
#include "xtcp.h"

/* The fixed part of the header: ports, seq, ack, offset/flags, window, csum. */
#define XTCP_MIN_HDR_LEN	20

static int xtcp_v4_rcv(struct sk_buff *skb)
{
	struct net *net = dev_net(skb->dev);

	XTCP_INC_STATS(net, IN_SEGS);

	if (!pskb_may_pull(skb, XTCP_MIN_HDR_LEN)) {
		XTCP_INC_STATS(net, IN_ERRS);
		goto drop;
	}

	/* No socket can match yet: the protocol is not implemented. */
	XTCP_INC_STATS(net, IN_NO_SOCKET);
drop:
	kfree_skb(skb);
	return 0;
}

static int xtcp_v4_err(struct sk_buff *skb, u32 info)
{
	return 0;
}

static const struct net_protocol xtcp_protocol = {
	.handler	= xtcp_v4_rcv,
	.err_handler	= xtcp_v4_err,
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
