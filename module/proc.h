/* SPDX-License-Identifier: GPL-2.0 */
/* /proc/net/xtcp/: the per-namespace view of counters, states and sockets. */
#ifndef _XTCP_PROC_H
#define _XTCP_PROC_H

#include <linux/types.h>

struct net;
struct seq_file;

/* The "tr" column of /proc/net/xtcp/sockets, numbered as /proc/net/tcp's. */
enum {
	XTCP_PROC_TIMER_NONE		= 0,
	XTCP_PROC_TIMER_RETRANS		= 1,	/* SYN, SYN-ACK, data, FIN */
	XTCP_PROC_TIMER_FIN_WAIT2	= 2,	/* orphan's fin_timeout */
	XTCP_PROC_TIMER_TIME_WAIT	= 3,
	XTCP_PROC_TIMER_PROBE		= 4,	/* zero window probe */
};

int xtcp_proc_init(struct net *net);
void xtcp_proc_exit(struct net *net);

void xtcp_proc_row(struct seq_file *seq, int row, __be32 laddr, __be16 lport,
		   __be32 raddr, __be16 rport, int state, u32 txq, u32 rxq,
		   int timer, s64 expires_ms, int retrans, uid_t uid,
		   unsigned long ino);

#endif /* _XTCP_PROC_H */
