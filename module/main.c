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
 *
 * A namespace's own state is composed here in the same spirit: counters
 * first (everything counts into them), then tunables, the control socket,
 * procfs and the fault rules; its exit runs in reverse, with the TIME_WAIT
 * buckets (which count and send) gone before the control socket and the
 * counters.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/socket.h>
#include <net/protocol.h>

#include "fault.h"
#include "hash.h"
#include "mib.h"
#include "netns.h"
#include "output.h"
#include "proc.h"
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

bool xtcp_report_inet __read_mostly;
module_param_named(report_inet, xtcp_report_inet, bool, 0644);
MODULE_PARM_DESC(report_inet, "new sockets report AF_INET in the addresses they return (default off)");

/* Written back at load with the size chosen: sysfs shows what is used. */
unsigned int xtcp_ehash_entries;
module_param_named(ehash_entries, xtcp_ehash_entries, uint, 0444);
MODULE_PARM_DESC(ehash_entries, "established table buckets, rounded up to a power of 2 (default 0: one per 128 KiB of RAM, 256..65536)");

unsigned int xtcp_bhash_entries;
module_param_named(bhash_entries, xtcp_bhash_entries, uint, 0444);
MODULE_PARM_DESC(bhash_entries, "bound-port table buckets, rounded up to a power of 2 (default 0: one per 512 KiB of RAM, 64..16384)");

unsigned int xtcp_net_id __read_mostly;

static int __net_init xtcp_net_init(struct net *net)
{
	int err;

	err = xtcp_mib_net_init(net);
	if (err)
		return err;

	err = xtcp_sysctl_net_init(net);
	if (err)
		goto err_mib;

	err = xtcp_ctl_init(net);
	if (err)
		goto err_sysctl;

	err = xtcp_proc_init(net);
	if (err)
		goto err_ctl;

	err = xtcp_fault_net_init(net, xtcp_pernet(net)->proc_dir);
	if (err)
		goto err_proc;
	return 0;

err_proc:
	xtcp_proc_exit(net);
err_ctl:
	xtcp_ctl_exit(net);
err_sysctl:
	xtcp_sysctl_net_exit(net);
err_mib:
	xtcp_mib_net_exit(net);
	return err;
}

static void __net_exit xtcp_net_exit(struct net *net)
{
	xtcp_fault_net_exit(net);
	xtcp_proc_exit(net);
	/* Sockets hold their namespace, so only TIME_WAIT buckets are left. */
	xtcp_tw_purge(net);
	xtcp_ctl_exit(net);
	xtcp_sysctl_net_exit(net);
	xtcp_mib_net_exit(net);
}

static struct pernet_operations xtcp_net_ops = {
	.init	= xtcp_net_init,
	.exit	= xtcp_net_exit,
	.id	= &xtcp_net_id,
	.size	= sizeof(struct xtcp_net),
};

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

	err = register_pernet_subsys(&xtcp_net_ops);
	if (err)
		goto err_tw;

	err = xtcp_sysctl_init();
	if (err)
		goto err_netns;

	err = xtcp_input_register();
	if (err)
		goto err_sysctl;

	err = xtcp_offload_register();
	if (err)
		goto err_input;

	err = xtcp_socket_register();
	if (err)
		goto err_offload;

	pr_info("loaded: family %d, IP protocol %d\n", xtcp_family,
		xtcp_ipproto);
	return 0;

err_offload:
	xtcp_offload_unregister();
err_input:
	xtcp_input_unregister();
err_sysctl:
	xtcp_sysctl_exit();
err_netns:
	unregister_pernet_subsys(&xtcp_net_ops);
	xtcp_fault_exit();
err_tw:
	xtcp_tw_exit();
err_hash:
	xtcp_hash_exit();
	return err;
}

static void __exit xtcp_exit(void)
{
	xtcp_socket_unregister();
	/*
	 * A GSO skb not yet cut is owned by its socket (skb_set_owner_w()),
	 * and the socket holds the module until it is freed: none is left.
	 */
	xtcp_offload_unregister();
	xtcp_input_unregister();
	xtcp_sysctl_exit();
	unregister_pernet_subsys(&xtcp_net_ops);
	xtcp_fault_exit();
	xtcp_tw_exit();
	xtcp_hash_exit();
}

module_init(xtcp_init);
module_exit(xtcp_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xtcp: instrumented TCP-like transport over IPv4");
MODULE_AUTHOR("The xtcp developers");
