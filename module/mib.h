/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-netns, per-CPU event counters and state gauges.
 *
 * Each counter is declared exactly once, in mib_list.h: the one line gives
 * both its enum value and the name /proc/net/xtcp/snmp prints, so the two
 * cannot drift apart. Everything that counts goes through this header;
 * everything that reads the sums goes through mib.c.
 */
#ifndef _XTCP_MIB_H
#define _XTCP_MIB_H

#include <linux/percpu.h>
#include <uapi/linux/xtcp.h>

#include "netns.h"

struct sock;

enum xtcp_mib_field {
#define XTCP_MIB(id, ...) XTCP_MIB_##id,
#include "mib_list.h"
#undef XTCP_MIB
	XTCP_MIB_MAX
};

/*
 * Everything counted per CPU. The state gauges go up on one CPU and down on
 * another, so only their sum over all CPUs is meaningful, as a signed value.
 */
struct xtcp_stats {
	unsigned long mib[XTCP_MIB_MAX];
	unsigned long state_entered[XTCP_MAX_STATES];
	long state_current[XTCP_MAX_STATES];
	unsigned long transitions[XTCP_MAX_STATES][XTCP_MAX_STATES];
};

/* On a namespace's state @xn; the others name it by net or socket. */
#define XTCP_XN_INC_STATS(xn, field) \
	this_cpu_inc((xn)->stats->mib[XTCP_MIB_##field])
#define XTCP_XN_ADD_STATS(xn, field, n) \
	this_cpu_add((xn)->stats->mib[XTCP_MIB_##field], n)
#define XTCP_INC_STATS(net, field) \
	XTCP_XN_INC_STATS(xtcp_pernet(net), field)
#define XTCP_ADD_STATS(net, field, n) \
	XTCP_XN_ADD_STATS(xtcp_pernet(net), field, n)
#define XTCP_DEC_STATS(net, field) \
	this_cpu_dec(xtcp_pernet(net)->stats->mib[XTCP_MIB_##field])
/* A full socket's namespace (xtcp_sk_pernet()): no net_generic(). */
#define XTCP_SK_INC_STATS(sk, field) \
	XTCP_XN_INC_STATS(xtcp_sk_pernet(sk), field)

int xtcp_mib_net_init(struct net *net);
void xtcp_mib_net_exit(struct net *net);

/* Names, as /proc/net/xtcp prints them. */
extern const char * const xtcp_mib_names[XTCP_MIB_MAX];
extern const char * const xtcp_state_names[XTCP_MAX_STATES];

/* Sums over all CPUs. */
u64 xtcp_mib_sum(const struct net *net, enum xtcp_mib_field field);
void xtcp_state_sum(const struct net *net, int state, long *current_nr,
		    unsigned long *entered);
unsigned long xtcp_transition_sum(const struct net *net, int from, int to);

/* State accounting: states are 1..XTCP_MAX_STATES-1, 0 is "no state". */
void xtcp_state_account(struct net *net, int from, int to);
void xtcp_state_spawn(struct net *net, int from, int to);
void xtcp_state_gone(struct net *net, int state);
void xtcp_state_handoff(struct sock *sk, int state);
void xtcp_set_state(struct sock *sk, int state);

#endif /* _XTCP_MIB_H */
