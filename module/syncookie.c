// SPDX-License-Identifier: GPL-2.0
/*
 * SYN cookies: a listener that keeps no request entry for a SYN (its SYN
 * queue is full and syncookies is 1, or syncookies is 2) answers with a
 * SYN-ACK whose sequence number, the cookie, lets the third ACK prove
 * that the SYN and our SYN-ACK happened. The ACK returns the cookie as
 * its acknowledgment number minus one, and the peer's ISN as its
 * sequence number minus one; a cookie that verifies yields what the
 * child needs from the SYN.
 *
 * Layout (Documentation/protocol.md): bits 31..4 are a MAC, 28 bits of
 * a keyed siphash of the 4-tuple, the peer's ISN, the clock count and
 * the MSS index; bit 3 is the clock count's low bit; bits 2..0 are the
 * MSS index into xtcp_cookie_mss[]. Changing any bit of a cookie, or the
 * ISN it was made for, breaks the MAC. The clock counts periods of
 * XTCP_COOKIE_PERIOD_S (64 s) of the monotonic clock; a cookie of the
 * current or the previous period verifies, so a cookie lives 64 to 128
 * seconds. The key is random per boot.
 *
 * Without timestamps there is nowhere else to carry options, so the
 * cookie carries the MSS only: a child made from it has no window
 * scaling, as TCP's without timestamps. xtcp_cookie_decode() is the one
 * place that turns a verified cookie into options, so that timestamps,
 * once xtcp has them, can carry the window scale there.
 */

#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/net.h>
#include <linux/siphash.h>
#include <linux/timekeeping.h>

#include "proto.h"
#include "xtcp.h"

#define XTCP_COOKIE_MSS_BITS	3
#define XTCP_COOKIE_MSS_MASK	((1U << XTCP_COOKIE_MSS_BITS) - 1)
#define XTCP_COOKIE_CLOCK_BIT	BIT(XTCP_COOKIE_MSS_BITS)
#define XTCP_COOKIE_MAC_MASK	(~0U << (XTCP_COOKIE_MSS_BITS + 1))

/*
 * The MSS values a cookie can carry, ascending; the peer's MSS is rounded
 * down to one of them. Entry 0 is the smallest MSS xtcp accepts, so the
 * value is never above the peer's; the others are common path MTUs less
 * 40 bytes (576, 1340 and 1480 tunnels, 1500 Ethernet, 4096, 9000 jumbo
 * frames) and XTCP_SEG_MAX for loopback.
 */
static const u16 xtcp_cookie_mss[1 << XTCP_COOKIE_MSS_BITS] = {
	XTCP_MSS_MIN, 536, 1300, 1440, 1460, 4056, 8960, XTCP_SEG_MAX,
};

static siphash_aligned_key_t xtcp_cookie_secret;

/* The clock's current period: XTCP_COOKIE_PERIOD_S of the monotonic clock. */
static u32 xtcp_cookie_clock(void)
{
	return (u32)div_u64(ktime_get_seconds(), XTCP_COOKIE_PERIOD_S);
}

static u32 xtcp_cookie_mac(__be32 laddr, __be32 raddr, __be16 lport,
			   __be16 rport, u32 irs, u32 clock, u32 mss_index)
{
	u64 addrs = ((u64)(__force u32)laddr << 32) | (__force u32)raddr;
	u64 rest = ((u64)(__force u16)lport << 48) |
		   ((u64)(__force u16)rport << 32) | irs;
	u64 hash;

	net_get_random_once(&xtcp_cookie_secret, sizeof(xtcp_cookie_secret));
	hash = siphash_3u64(addrs, rest,
			    ((u64)clock << XTCP_COOKIE_MSS_BITS) | mss_index,
			    &xtcp_cookie_secret);

	return (u32)(hash >> 32) & XTCP_COOKIE_MAC_MASK;
}

/* The index of the largest table value not above @mss (at least 0). */
static u32 xtcp_cookie_mss_index(u16 mss)
{
	u32 i;

	for (i = ARRAY_SIZE(xtcp_cookie_mss) - 1; i > 0; i--)
		if (mss >= xtcp_cookie_mss[i])
			break;
	return i;
}

/*
 * The cookie for a SYN from raddr:rport to laddr:lport with ISN @irs and
 * MSS @peer_mss; it is the SYN-ACK's sequence number.
 */
u32 xtcp_cookie_make(__be32 laddr, __be32 raddr, __be16 lport, __be16 rport,
		     u32 irs, u16 peer_mss)
{
	u32 clock = xtcp_cookie_clock(), i = xtcp_cookie_mss_index(peer_mss);

	return xtcp_cookie_mac(laddr, raddr, lport, rport, irs, clock, i) |
	       ((clock & 1) ? XTCP_COOKIE_CLOCK_BIT : 0) | i;
}

/* What a verified @cookie says about the SYN; see the header comment. */
static void xtcp_cookie_decode(u32 cookie, struct xtcp_cookie_opts *opts)
{
	opts->mss = xtcp_cookie_mss[cookie & XTCP_COOKIE_MSS_MASK];
	opts->wscale = -1;	/* only timestamps could carry it */
}

/*
 * Verify @cookie (an ACK's ack - 1) for the 4-tuple and the peer's ISN
 * @irs (the ACK's seq - 1). True, with *@opts filled, if we made it in
 * this clock period or the previous one.
 */
bool xtcp_cookie_check(__be32 laddr, __be32 raddr, __be16 lport,
		       __be16 rport, u32 irs, u32 cookie,
		       struct xtcp_cookie_opts *opts)
{
	u32 clock = xtcp_cookie_clock();

	/* The parity bit names the period: now, or the one before. */
	if (!!(cookie & XTCP_COOKIE_CLOCK_BIT) != (clock & 1))
		clock--;
	if ((cookie & XTCP_COOKIE_MAC_MASK) !=
	    xtcp_cookie_mac(laddr, raddr, lport, rport, irs, clock,
			    cookie & XTCP_COOKIE_MSS_MASK))
		return false;
	xtcp_cookie_decode(cookie, opts);
	return true;
}
