/* SPDX-License-Identifier: GPL-2.0 */
/* /proc/net/xtcp/: the per-namespace view of counters, states and sockets. */
#ifndef _XTCP_PROC_H
#define _XTCP_PROC_H

struct net;

int xtcp_proc_init(struct net *net);
void xtcp_proc_exit(struct net *net);

#endif /* _XTCP_PROC_H */
