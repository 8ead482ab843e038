// SPDX-License-Identifier: GPL-2.0
/*
 * Per-netns lifetime: counters, sysctls and procfs appear when a namespace
 * is created (or when the module loads, for those that exist) and vanish
 * with it.
 */

#include <linux/slab.h>
#include <linux/sysctl.h>

#include "compat.h"
#include "netns.h"
#include "output.h"
#include "proc.h"
#include "timewait.h"

unsigned int xtcp_net_id __read_mostly;

static const struct xtcp_sysctl xtcp_sysctl_defaults = {
	.rto_init_ms		= 1000,
	.rto_min_ms		= 200,
	.rto_max_ms		= 120000,
	.syn_retries		= 6,
	.synack_retries		= 5,
	.msl_ms			= 30000,
	.fin_timeout_ms		= 60000,
	.max_tw_buckets		= 262144,
	.max_syn_backlog	= 1024,
	.rfc1337		= 0,
	.delack_ms		= 40,
	.keepalive_time_ms	= 7200000,
	.keepalive_intvl_ms	= 75000,
	.keepalive_probes	= 9,
};

static const int xtcp_zero;
static const int xtcp_one = 1;
static const int xtcp_retries_max = 127;
static const int xtcp_synack_retries_max = 255;
static const int xtcp_ms_max = 600000;
static const int xtcp_int_max = INT_MAX;
static const int xtcp_backlog_max = 65535;
static const int xtcp_delack_max = 1000;

#define XTCP_SYSCTL(field, lo, hi) {					\
	.procname	= #field,					\
	.data		= (void *)offsetof(struct xtcp_sysctl, field),	\
	.maxlen		= sizeof(int),					\
	.mode		= 0644,						\
	.proc_handler	= proc_dointvec_minmax,				\
	.extra1		= (void *)(lo),					\
	.extra2		= (void *)(hi),					\
}

/*
 * The template: .data holds the field's offset in struct xtcp_sysctl and is
 * rebased onto each namespace's copy when the table is duplicated.
 */
static struct ctl_table xtcp_sysctl_template[] = {
	XTCP_SYSCTL(rto_init_ms, &xtcp_one, &xtcp_ms_max),
	XTCP_SYSCTL(rto_min_ms, &xtcp_one, &xtcp_ms_max),
	XTCP_SYSCTL(rto_max_ms, &xtcp_one, &xtcp_ms_max),
	XTCP_SYSCTL(syn_retries, &xtcp_one, &xtcp_retries_max),
	XTCP_SYSCTL(synack_retries, &xtcp_one, &xtcp_synack_retries_max),
	XTCP_SYSCTL(msl_ms, &xtcp_one, &xtcp_ms_max),
	XTCP_SYSCTL(fin_timeout_ms, &xtcp_one, &xtcp_ms_max),
	XTCP_SYSCTL(max_tw_buckets, &xtcp_zero, &xtcp_int_max),
	XTCP_SYSCTL(max_syn_backlog, &xtcp_one, &xtcp_backlog_max),
	XTCP_SYSCTL(rfc1337, &xtcp_zero, &xtcp_one),
	XTCP_SYSCTL(delack_ms, &xtcp_one, &xtcp_delack_max),
	XTCP_SYSCTL(keepalive_time_ms, &xtcp_one, &xtcp_int_max),
	XTCP_SYSCTL(keepalive_intvl_ms, &xtcp_one, &xtcp_int_max),
	XTCP_SYSCTL(keepalive_probes, &xtcp_one, &xtcp_retries_max),
	{ }
};

#define XTCP_NR_SYSCTLS (ARRAY_SIZE(xtcp_sysctl_template) - 1)

static int xtcp_sysctl_init(struct net *net, struct xtcp_net *xn)
{
	struct ctl_table *table;
	size_t i;

	table = kmemdup(xtcp_sysctl_template, sizeof(xtcp_sysctl_template),
			GFP_KERNEL);
	if (!table)
		return -ENOMEM;

	for (i = 0; i < XTCP_NR_SYSCTLS; i++)
		table[i].data = (char *)&xn->sysctl +
				(uintptr_t)table[i].data;

	xn->sysctl_hdr = xtcp_register_net_sysctl(net, "net/xtcp", table,
						  XTCP_NR_SYSCTLS);
	if (!xn->sysctl_hdr) {
		kfree(table);
		return -ENOMEM;
	}
	return 0;
}

static void xtcp_sysctl_exit(struct xtcp_net *xn)
{
	const struct ctl_table *table = xn->sysctl_hdr->ctl_table_arg;

	unregister_net_sysctl_table(xn->sysctl_hdr);
	kfree(table);
}

u64 xtcp_mib_sum(const struct xtcp_net *xn, enum xtcp_mib_field field)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(xn->stats, cpu)->mib[field];
	return sum;
}

static int __net_init xtcp_net_init(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);
	int err;

	xn->sysctl = xtcp_sysctl_defaults;

	xn->stats = alloc_percpu(struct xtcp_stats);
	if (!xn->stats)
		return -ENOMEM;

	err = xtcp_sysctl_init(net, xn);
	if (err)
		goto err_free_stats;

	err = xtcp_ctl_init(net);
	if (err)
		goto err_sysctl;

	err = xtcp_proc_init(net);
	if (err)
		goto err_ctl;

	return 0;

err_ctl:
	xtcp_ctl_exit(net);
err_sysctl:
	xtcp_sysctl_exit(xn);
err_free_stats:
	free_percpu(xn->stats);
	return err;
}

static void __net_exit xtcp_net_exit(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);

	xtcp_proc_exit(net);
	/*
	 * Sockets hold their namespace, so only TIME_WAIT buckets can be
	 * left; they go (and their timers finish) before the counters do.
	 */
	xtcp_tw_purge(net);
	xtcp_ctl_exit(net);
	xtcp_sysctl_exit(xn);
	free_percpu(xn->stats);
}

static struct pernet_operations xtcp_net_ops = {
	.init	= xtcp_net_init,
	.exit	= xtcp_net_exit,
	.id	= &xtcp_net_id,
	.size	= sizeof(struct xtcp_net),
};

int xtcp_netns_register(void)
{
	return register_pernet_subsys(&xtcp_net_ops);
}

void xtcp_netns_unregister(void)
{
	unregister_pernet_subsys(&xtcp_net_ops);
}
