// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: an instrumented, TCP-like reliable byte stream over IPv4, in its
 * own address family and IP protocol number.
 *
 * Registration order matters: the lookup tables and the TIME_WAIT cache,
 * then per-netns state (everything else counts into it), then the IP
 * handler, then the socket family, so that nothing can reach a piece that
 * is not ready yet. Unload runs in reverse; sockets pin the module, and the
 * namespaces' exit drains the TIME_WAIT buckets, which pin nothing.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/socket.h>
#include <net/protocol.h>

#include "hash.h"
#include "netns.h"
#include "timewait.h"
#include "xtcp.h"

int xtcp_family __read_mostly = XTCP_FAMILY_DEFAULT;
module_param_named(family, xtcp_family, int, 0444);
MODULE_PARM_DESC(family, "address family number to register (default "
		 __stringify(XTCP_FAMILY_DEFAULT) ")");

int xtcp_ipproto __read_mostly = XTCP_IPPROTO_DEFAULT;
module_param_named(ipproto, xtcp_ipproto, int, 0444);
MODULE_PARM_DESC(ipproto, "IPv4 protocol number to use (default "
		 __stringify(XTCP_IPPROTO_DEFAULT) ", RFC 3692 experimental)");

static int __init xtcp_init(void)
{
	int err;

	if (xtcp_family <= AF_UNSPEC || xtcp_family >= NPROTO) {
		pr_err("module parameter family=%d is out of range 1..%d\n",
		       xtcp_family, NPROTO - 1);
		return -EINVAL;
	}
	if (xtcp_ipproto <= 0 || xtcp_ipproto >= MAX_INET_PROTOS) {
		pr_err("module parameter ipproto=%d is out of range 1..%d\n",
		       xtcp_ipproto, MAX_INET_PROTOS - 1);
		return -EINVAL;
	}

	err = xtcp_hash_init();
	if (err)
		return err;

	err = xtcp_tw_init();
	if (err)
		goto err_hash;

	err = xtcp_netns_register();
	if (err)
		goto err_tw;

	err = xtcp_input_register();
	if (err)
		goto err_netns;

	err = xtcp_socket_register();
	if (err)
		goto err_input;

	pr_info("loaded: family %d, IP protocol %d\n", xtcp_family,
		xtcp_ipproto);
	return 0;

err_input:
	xtcp_input_unregister();
err_netns:
	xtcp_netns_unregister();
err_tw:
	xtcp_tw_exit();
err_hash:
	xtcp_hash_exit();
	return err;
}

static void __exit xtcp_exit(void)
{
	xtcp_socket_unregister();
	xtcp_input_unregister();
	xtcp_netns_unregister();
	xtcp_tw_exit();
	xtcp_hash_exit();
}

module_init(xtcp_init);
module_exit(xtcp_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xtcp: instrumented TCP-like transport over IPv4");
MODULE_AUTHOR("The xtcp developers");
