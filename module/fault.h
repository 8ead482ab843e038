/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Deterministic fault injection: rules written to /proc/net/xtcp/faults
 * make the input and output paths drop chosen segments. The grammar is in
 * Documentation/faults.md and at the top of fault.c.
 */
#ifndef _XTCP_FAULT_H
#define _XTCP_FAULT_H

#include <linux/jump_label.h>
#include <linux/types.h>

struct net;
struct proc_dir_entry;

enum xtcp_fault_dir {
	XTCP_FAULT_IN,
	XTCP_FAULT_OUT,
	XTCP_FAULT_CHILD,	/* a listener's child: the completing segment */
};

/*
 * Enabled while at least one rule exists in any network namespace, and for
 * up to a second after the last one went (see fault.c).
 */
DECLARE_STATIC_KEY_FALSE(xtcp_fault_active);

/* Beside the header's flag bits: the segment carries a SACK option. */
#define XTCP_FAULT_F_SACK	0x100

struct xtcphdr;

bool __xtcp_fault_should_drop(struct net *net, enum xtcp_fault_dir dir,
			      u16 flags, unsigned int payload_len,
			      __be16 sport, __be16 dport);
bool __xtcp_fault_should_drop_th(struct net *net, enum xtcp_fault_dir dir,
				 const struct xtcphdr *th,
				 unsigned int payload_len);

/**
 * xtcp_fault_should_drop - consult the fault rules for one segment
 * @net: namespace the segment is received or sent in
 * @dir: XTCP_FAULT_IN on receive, XTCP_FAULT_OUT on transmit,
 *	 XTCP_FAULT_CHILD when a handshake's child socket is made (@flags
 *	 and the rest are then the completing segment's)
 * @flags: the header's flag byte (FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10)
 * @payload_len: bytes of data after the header
 * @sport: source port, network order
 * @dport: destination port, network order
 *
 * Callable from process and softirq context. Costs a patched-out jump
 * while no namespace has a rule.
 *
 * Return: true if the caller must drop the segment (for XTCP_FAULT_CHILD:
 * fail to make the child). FaultDrops has then already been counted.
 */
static inline bool xtcp_fault_should_drop(struct net *net,
					  enum xtcp_fault_dir dir, u8 flags,
					  unsigned int payload_len,
					  __be16 sport, __be16 dport)
{
	if (!static_branch_unlikely(&xtcp_fault_active))
		return false;
	return __xtcp_fault_should_drop(net, dir, flags, payload_len,
					sport, dport);
}

/*
 * As xtcp_fault_should_drop() for a whole segment @th (options included)
 * with @payload_len bytes of data: rules with sack= see its options too.
 */
static inline bool xtcp_fault_should_drop_th(struct net *net,
					     enum xtcp_fault_dir dir,
					     const struct xtcphdr *th,
					     unsigned int payload_len)
{
	if (!static_branch_unlikely(&xtcp_fault_active))
		return false;
	return __xtcp_fault_should_drop_th(net, dir, th, payload_len);
}

/*
 * Does @net have a fault rule now? Unlike the static key this is per
 * namespace: output.c sends skbs of many segments only while its own
 * namespace has none, so every rule sees each wire segment.
 */
bool __xtcp_fault_net_active(struct net *net);

static inline bool xtcp_fault_net_active(struct net *net)
{
	return static_branch_unlikely(&xtcp_fault_active) &&
	       __xtcp_fault_net_active(net);
}

/* Creates "faults" in @dir (/proc/net/xtcp) and xtcp_pernet(net)->faults. */
int xtcp_fault_net_init(struct net *net, struct proc_dir_entry *dir);
/* Removes the file and frees every rule; safe if init failed or never ran. */
void xtcp_fault_net_exit(struct net *net);
/* Module unload, after the namespaces: the hook goes off for good. */
void xtcp_fault_exit(void);

#endif /* _XTCP_FAULT_H */
