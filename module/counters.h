/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-netns, per-CPU event counters and state gauges.
 *
 * Each counter is declared exactly once, in mib_list.h: the one line gives
 * both its enum value and the name /proc/net/xtcp/snmp prints, so the two
 * cannot drift apart.
 */
#ifndef _XTCP_COUNTERS_H
#define _XTCP_COUNTERS_H

#include <linux/percpu.h>
#include <uapi/linux/xtcp.h>

enum xtcp_mib_field {
#define XTCP_MIB(id, ...) XTCP_MIB_##id,
#include "mib_list.h"
#undef XTCP_MIB
	XTCP_MIB_MAX
};

/*
 * Everything counted per CPU. The state gauges go up on one CPU and down on
 * another, so only their sum over all CPUs is meaningful; the readers in
 * proc.c add them up as signed values.
 */
struct xtcp_stats {
	unsigned long mib[XTCP_MIB_MAX];
	unsigned long state_entered[XTCP_MAX_STATES];
	long state_current[XTCP_MAX_STATES];
	unsigned long transitions[XTCP_MAX_STATES][XTCP_MAX_STATES];
};

extern const char * const xtcp_mib_names[XTCP_MIB_MAX];
extern const char * const xtcp_state_names[XTCP_MAX_STATES];

#endif /* _XTCP_COUNTERS_H */
