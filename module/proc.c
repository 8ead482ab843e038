// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/xtcp/ renderers. Each file is produced by one loop over the
 * tables declared in counters.h, so adding a counter or a state needs no
 * change here.
 */

#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "netns.h"
#include "proc.h"

const char * const xtcp_mib_names[XTCP_MIB_MAX] = {
#define XTCP_MIB(id, name) \
	[XTCP_MIB_##id] = name,
#include "mib_list.h"
#undef XTCP_MIB
};

const char * const xtcp_state_names[XTCP_MAX_STATES] = {
	[XTCP_ESTABLISHED]	= "ESTABLISHED",
	[XTCP_SYN_SENT]		= "SYN_SENT",
	[XTCP_SYN_RECV]		= "SYN_RCVD",
	[XTCP_FIN_WAIT1]	= "FIN_WAIT_1",
	[XTCP_FIN_WAIT2]	= "FIN_WAIT_2",
	[XTCP_TIME_WAIT]	= "TIME_WAIT",
	[XTCP_CLOSE]		= "CLOSED",
	[XTCP_CLOSE_WAIT]	= "CLOSE_WAIT",
	[XTCP_LAST_ACK]		= "LAST_ACK",
	[XTCP_LISTEN]		= "LISTEN",
	[XTCP_CLOSING]		= "CLOSING",
};

static int xtcp_snmp_show(struct seq_file *seq, void *v)
{
	const struct xtcp_net *xn = xtcp_pernet(seq_file_single_net(seq));
	int i;

	for (i = 0; i < XTCP_MIB_MAX; i++)
		seq_printf(seq, "%-24s%llu\n", xtcp_mib_names[i],
			   xtcp_mib_sum(xn, i));
	return 0;
}

/* "NAME current entered" for every state. */
static int xtcp_states_show(struct seq_file *seq, void *v)
{
	const struct xtcp_net *xn = xtcp_pernet(seq_file_single_net(seq));
	int state, cpu;

	for (state = XTCP_ESTABLISHED; state < XTCP_MAX_STATES; state++) {
		unsigned long entered = 0;
		long current_nr = 0;

		for_each_possible_cpu(cpu) {
			const struct xtcp_stats *s = per_cpu_ptr(xn->stats, cpu);

			entered += s->state_entered[state];
			current_nr += s->state_current[state];
		}
		seq_printf(seq, "%-12s %ld %lu\n", xtcp_state_names[state],
			   current_nr, entered);
	}
	return 0;
}

/* "FROM TO count" for every transition taken at least once. */
static int xtcp_transitions_show(struct seq_file *seq, void *v)
{
	const struct xtcp_net *xn = xtcp_pernet(seq_file_single_net(seq));
	int from, to, cpu;

	for (from = XTCP_ESTABLISHED; from < XTCP_MAX_STATES; from++) {
		for (to = XTCP_ESTABLISHED; to < XTCP_MAX_STATES; to++) {
			unsigned long n = 0;

			for_each_possible_cpu(cpu)
				n += per_cpu_ptr(xn->stats, cpu)->transitions[from][to];
			if (n)
				seq_printf(seq, "%s %s %lu\n",
					   xtcp_state_names[from],
					   xtcp_state_names[to], n);
		}
	}
	return 0;
}

int xtcp_proc_init(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);

	xn->proc_dir = proc_net_mkdir(net, "xtcp", net->proc_net);
	if (!xn->proc_dir)
		return -ENOMEM;

	if (!proc_create_net_single("snmp", 0444, xn->proc_dir,
				    xtcp_snmp_show, NULL) ||
	    !proc_create_net_single("states", 0444, xn->proc_dir,
				    xtcp_states_show, NULL) ||
	    !proc_create_net_single("transitions", 0444, xn->proc_dir,
				    xtcp_transitions_show, NULL)) {
		remove_proc_subtree("xtcp", net->proc_net);
		return -ENOMEM;
	}
	return 0;
}

void xtcp_proc_exit(struct net *net)
{
	remove_proc_subtree("xtcp", net->proc_net);
}
