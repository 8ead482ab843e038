// SPDX-License-Identifier: GPL-2.0
/*
 * Initial sequence numbers as RFC 6528 asks: a keyed hash of the 4-tuple
 * plus a clock. The key is random, chosen on first use, so a peer can
 * neither predict our ISN nor learn it from other connections; the clock
 * makes successive incarnations of one 4-tuple start above each other.
 */

#include <linux/net.h>
#include <linux/siphash.h>
#include <linux/timekeeping.h>

#include "xtcp.h"

static siphash_aligned_key_t xtcp_isn_secret;

u32 xtcp_isn(__be32 saddr, __be32 daddr, __be16 sport, __be16 dport)
{
	u32 hash;

	net_get_random_once(&xtcp_isn_secret, sizeof(xtcp_isn_secret));
	hash = siphash_3u32((__force u32)saddr, (__force u32)daddr,
			    ((__force u32)sport << 16) | (__force u32)dport,
			    &xtcp_isn_secret);
	/* The clock ticks every 64 ns, wrapping in about 4.6 minutes. */
	return hash + (u32)(ktime_get_real_ns() >> 6);
}
