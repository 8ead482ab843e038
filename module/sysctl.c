// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/sys/net/xtcp/: the per-namespace tunables, each range-checked on
 * write. A namespace starts with the defaults below, not a copy of its
 * parent's. Adding a sysctl: a field in struct xtcp_sysctl (netns.h), its
 * default and one XTCP_SYSCTL() line here, a row in Documentation/procfs.md.
 */

#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sysctl.h>

#include "compat.h"
#include "netns.h"
#include "proto.h"

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
	.timestamps		= 1,
	.sack			= 1,
	.rack			= 1,
	.tlp			= 1,
	.gso			= 1,
	.tw_reuse_connect	= 2,
	.delack_ms		= 40,
	.keepalive_time_ms	= 7200000,
	.keepalive_intvl_ms	= 75000,
	.keepalive_probes	= 9,
	.orphan_retries		= 8,
	.challenge_ack_limit	= XTCP_CHALLENGE_ACK_LIMIT,
	.invalid_ratelimit_ms	= XTCP_INVALID_RATELIMIT_MS,
	.syncookies		= 1,
	/* tcp_rmem's and tcp_wmem's defaults. */
	.rmem			= { XTCP_BUF_MIN, 131072, 6291456 },
	.wmem			= { XTCP_BUF_MIN, 16384, 4194304 },
};

static const int xtcp_retries_max = XTCP_RETRIES_MAX;
static const int xtcp_synack_retries_max = XTCP_SYNACK_RETRIES_MAX;
static const int xtcp_ms_max = XTCP_SYSCTL_MS_MAX;
static const int xtcp_backlog_max = XTCP_BACKLOG_MAX;
static const int xtcp_delack_max = XTCP_DELACK_MAX_MS;
static const int xtcp_buf_min = XTCP_BUF_MIN;
static const int xtcp_buf_max = XTCP_BUF_MAX;
static const int xtcp_syncookies_max = 2;

/*
 * rmem and wmem: three sizes, each in [XTCP_BUF_MIN, XTCP_BUF_MAX], in
 * order (min <= default <= max), or the write fails with EINVAL and
 * nothing changes. The initial namespace's minima are also the core's
 * floor under memory pressure (struct proto has one for all namespaces).
 */
static int xtcp_proc_buf_sizes(xtcp_ctl_table *table, int write,
			       void *buffer, size_t *lenp, loff_t *ppos)
{
	struct ctl_table tmp = *table;
	int *cur = table->data;
	int vals[3], i, ret;

	for (i = 0; i < 3; i++)
		vals[i] = READ_ONCE(cur[i]);
	tmp.data = vals;
	ret = proc_dointvec_minmax(&tmp, write, buffer, lenp, ppos);
	if (ret || !write)
		return ret;
	if (vals[0] > vals[1] || vals[1] > vals[2])
		return -EINVAL;
	for (i = 0; i < 3; i++)
		WRITE_ONCE(cur[i], vals[i]);
	if (cur == xtcp_pernet(&init_net)->sysctl.rmem)
		xtcp_set_mem_floor(vals[0], -1);
	else if (cur == xtcp_pernet(&init_net)->sysctl.wmem)
		xtcp_set_mem_floor(-1, vals[0]);
	return 0;
}

/* A sysctl whose field has another name (the kernel took the name). */
#define XTCP_SYSCTL_AS(name, field, lo, hi) {				\
	.procname	= #name,					\
	.data		= (void *)offsetof(struct xtcp_sysctl, field),	\
	.maxlen		= sizeof(int),					\
	.mode		= 0644,						\
	.proc_handler	= proc_dointvec_minmax,				\
	.extra1		= (void *)(lo),					\
	.extra2		= (void *)(hi),					\
}

#define XTCP_SYSCTL(field, lo, hi) {					\
	.procname	= #field,					\
	.data		= (void *)offsetof(struct xtcp_sysctl, field),	\
	.maxlen		= sizeof(int),					\
	.mode		= 0644,						\
	.proc_handler	= proc_dointvec_minmax,				\
	.extra1		= (void *)(lo),					\
	.extra2		= (void *)(hi),					\
}

#define XTCP_SYSCTL_BUF(field) {					\
	.procname	= #field,					\
	.data		= (void *)offsetof(struct xtcp_sysctl, field),	\
	.maxlen		= sizeof(int[3]),				\
	.mode		= 0644,						\
	.proc_handler	= xtcp_proc_buf_sizes,				\
	.extra1		= (void *)&xtcp_buf_min,			\
	.extra2		= (void *)&xtcp_buf_max,			\
}

/*
 * The template: .data holds the field's offset in struct xtcp_sysctl and is
 * rebased onto each namespace's copy when the table is duplicated.
 */
static struct ctl_table xtcp_sysctl_template[] = {
	XTCP_SYSCTL(rto_init_ms, SYSCTL_ONE, &xtcp_ms_max),
	XTCP_SYSCTL(rto_min_ms, SYSCTL_ONE, &xtcp_ms_max),
	XTCP_SYSCTL(rto_max_ms, SYSCTL_ONE, &xtcp_ms_max),
	XTCP_SYSCTL(syn_retries, SYSCTL_ONE, &xtcp_retries_max),
	XTCP_SYSCTL(synack_retries, SYSCTL_ONE, &xtcp_synack_retries_max),
	XTCP_SYSCTL(msl_ms, SYSCTL_ONE, &xtcp_ms_max),
	XTCP_SYSCTL(fin_timeout_ms, SYSCTL_ONE, &xtcp_ms_max),
	XTCP_SYSCTL(max_tw_buckets, SYSCTL_ZERO, SYSCTL_INT_MAX),
	XTCP_SYSCTL(max_syn_backlog, SYSCTL_ONE, &xtcp_backlog_max),
	XTCP_SYSCTL(rfc1337, SYSCTL_ZERO, SYSCTL_ONE),
	XTCP_SYSCTL(timestamps, SYSCTL_ZERO, SYSCTL_ONE),
	XTCP_SYSCTL(sack, SYSCTL_ZERO, SYSCTL_ONE),
	XTCP_SYSCTL(rack, SYSCTL_ZERO, SYSCTL_ONE),
	XTCP_SYSCTL(tlp, SYSCTL_ZERO, SYSCTL_ONE),
	XTCP_SYSCTL(gso, SYSCTL_ZERO, SYSCTL_ONE),
	XTCP_SYSCTL_AS(tw_reuse, tw_reuse_connect, SYSCTL_ZERO, SYSCTL_TWO),
	XTCP_SYSCTL(delack_ms, SYSCTL_ONE, &xtcp_delack_max),
	XTCP_SYSCTL(keepalive_time_ms, SYSCTL_ONE, SYSCTL_INT_MAX),
	XTCP_SYSCTL(keepalive_intvl_ms, SYSCTL_ONE, SYSCTL_INT_MAX),
	XTCP_SYSCTL(keepalive_probes, SYSCTL_ONE, &xtcp_retries_max),
	XTCP_SYSCTL(orphan_retries, SYSCTL_ONE, &xtcp_retries_max),
	XTCP_SYSCTL(challenge_ack_limit, SYSCTL_ONE, SYSCTL_INT_MAX),
	XTCP_SYSCTL(invalid_ratelimit_ms, SYSCTL_ZERO, &xtcp_ms_max),
	XTCP_SYSCTL(syncookies, SYSCTL_ZERO, &xtcp_syncookies_max),
	XTCP_SYSCTL_BUF(rmem),
	XTCP_SYSCTL_BUF(wmem),
	{ }
};

#define XTCP_NR_SYSCTLS (ARRAY_SIZE(xtcp_sysctl_template) - 1)

int xtcp_sysctl_net_init(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);
	struct ctl_table *table;
	size_t i;

	xn->sysctl = xtcp_sysctl_defaults;
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

void xtcp_sysctl_net_exit(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);
	const struct ctl_table *table = xn->sysctl_hdr->ctl_table_arg;

	unregister_net_sysctl_table(xn->sysctl_hdr);
	kfree(table);
}

/* ---- global: the initial namespace only ---- */

long xtcp_sysctl_mem[3] __read_mostly;
int xtcp_max_orphans __read_mostly;

#define XTCP_SYSCTL_GLOBAL(name, var, handler, lo) {			\
	.procname	= #name,					\
	.data		= &(var),					\
	.maxlen		= sizeof(var),					\
	.mode		= 0644,						\
	.proc_handler	= handler,					\
	.extra1		= (void *)(lo),					\
}

static struct ctl_table xtcp_sysctl_global_table[] = {
	XTCP_SYSCTL_GLOBAL(mem, xtcp_sysctl_mem, proc_doulongvec_minmax, NULL),
	XTCP_SYSCTL_GLOBAL(max_orphans, xtcp_max_orphans, proc_dointvec_minmax,
			   SYSCTL_ZERO),
	{ }
};

static struct ctl_table_header *xtcp_sysctl_global_hdr;

/*
 * The defaults of tcp_mem (tcp_init_mem()) and tcp_max_orphans
 * (tcp_init()), from the memory the machine has: low = 3/64, pressure =
 * 1/16, high = 3/32 of the free buffer pages.
 */
int xtcp_sysctl_init(void)
{
	unsigned long limit = max(nr_free_buffer_pages() / 16, 128UL);

	xtcp_sysctl_mem[0] = limit / 4 * 3;
	xtcp_sysctl_mem[1] = limit;
	xtcp_sysctl_mem[2] = xtcp_sysctl_mem[0] * 2;
	xtcp_max_orphans = clamp_t(unsigned long, limit / 8, 128, INT_MAX);

	xtcp_sysctl_global_hdr =
		xtcp_register_net_sysctl(&init_net, "net/xtcp",
					 xtcp_sysctl_global_table,
					 ARRAY_SIZE(xtcp_sysctl_global_table) - 1);
	return xtcp_sysctl_global_hdr ? 0 : -ENOMEM;
}

void xtcp_sysctl_exit(void)
{
	unregister_net_sysctl_table(xtcp_sysctl_global_hdr);
}
