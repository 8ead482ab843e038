// SPDX-License-Identifier: GPL-2.0
/*
 * Counters and state accounting: the per-CPU statistics of a namespace,
 * the names /proc/net/xtcp prints, and the one place where a socket, a
 * request entry or a TIME_WAIT bucket changes state and is counted for it.
 * Adding a counter is one line in mib_list.h; nothing here changes.
 */

#include <net/sock.h>

#include "mib.h"
#include "trace.h"

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

int xtcp_mib_net_init(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);

	xn->stats = alloc_percpu(struct xtcp_stats);
	return xn->stats ? 0 : -ENOMEM;
}

void xtcp_mib_net_exit(struct net *net)
{
	free_percpu(xtcp_pernet(net)->stats);
}

u64 xtcp_mib_sum(const struct net *net, enum xtcp_mib_field field)
{
	const struct xtcp_net *xn = xtcp_pernet(net);
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(xn->stats, cpu)->mib[field];
	return sum;
}

void xtcp_state_sum(const struct net *net, int state, long *current_nr,
		    unsigned long *entered)
{
	const struct xtcp_net *xn = xtcp_pernet(net);
	int cpu;

	*current_nr = 0;
	*entered = 0;
	for_each_possible_cpu(cpu) {
		const struct xtcp_stats *s = per_cpu_ptr(xn->stats, cpu);

		*entered += s->state_entered[state];
		*current_nr += s->state_current[state];
	}
}

unsigned long xtcp_transition_sum(const struct net *net, int from, int to)
{
	const struct xtcp_net *xn = xtcp_pernet(net);
	unsigned long n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += per_cpu_ptr(xn->stats, cpu)->transitions[from][to];
	return n;
}

static bool xtcp_state_valid(int state)
{
	return state > 0 && state < XTCP_MAX_STATES;
}

/* One object moved @from -> @to (0: did not exist before). */
void xtcp_state_account(struct net *net, int from, int to)
{
	struct xtcp_stats __percpu *stats = xtcp_pernet(net)->stats;

	if (xtcp_state_valid(from)) {
		this_cpu_dec(stats->state_current[from]);
		if (xtcp_state_valid(to))
			this_cpu_inc(stats->transitions[from][to]);
	}
	if (xtcp_state_valid(to)) {
		this_cpu_inc(stats->state_current[to]);
		this_cpu_inc(stats->state_entered[to]);
	}
}

/* A new object in @to was spawned by one in @from (a SYN to a listener). */
void xtcp_state_spawn(struct net *net, int from, int to)
{
	struct xtcp_stats __percpu *stats = xtcp_pernet(net)->stats;

	this_cpu_inc(stats->transitions[from][to]);
	this_cpu_inc(stats->state_current[to]);
	this_cpu_inc(stats->state_entered[to]);
}

/* An object in @state ceased to exist. */
void xtcp_state_gone(struct net *net, int state)
{
	if (xtcp_state_valid(state))
		this_cpu_dec(xtcp_pernet(net)->stats->state_current[state]);
}

/*
 * @sk's current state was taken over by another object (a TIME_WAIT
 * bucket); the socket itself now sits in @state without having "entered" it.
 */
void xtcp_state_handoff(struct sock *sk, int state)
{
	this_cpu_inc(xtcp_pernet(sock_net(sk))->stats->state_current[state]);
	/* Lockless readers (lookups, poll) pair with this. */
	smp_store_release(&sk->sk_state, state);
}

/*
 * Move @sk to @state and account for it: the per-state gauge, how often the
 * state was entered, the FROM->TO transition, and CurrEstab/EstabResets as
 * Linux TCP counts them. A socket that has never had a state (0) enters.
 */
void xtcp_set_state(struct sock *sk, int state)
{
	struct net *net = sock_net(sk);
	int old = sk->sk_state;

	if (old == state)
		return;

	if (state == TCP_ESTABLISHED) {
		XTCP_INC_STATS(net, CURR_ESTAB);
	} else if ((old == TCP_ESTABLISHED || old == TCP_CLOSE_WAIT) &&
		   state != TCP_CLOSE_WAIT) {
		XTCP_DEC_STATS(net, CURR_ESTAB);
		if (state == TCP_CLOSE)
			XTCP_INC_STATS(net, ESTAB_RESETS);
	}
	xtcp_state_account(net, old, state);
	xtcp_trace_state(sk, old, state);
	/* Lockless readers (lookups, poll) pair with this. */
	smp_store_release(&sk->sk_state, state);
}
