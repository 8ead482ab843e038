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
 * a keyed siphash of the 4-tuple, the peer's ISN, the clock count, the
 * MSS index and the options word; bit 3 is the clock count's low bit;
 * bits 2..0 are the MSS index into xtcp_cookie_mss[]. Changing any bit
 * of a cookie, or the ISN it was made for, breaks the MAC. The clock
 * counts periods of XTCP_COOKIE_PERIOD_S (64 s) of the monotonic clock;
 * a cookie of the current or the previous period verifies, so a cookie
 * lives 64 to 128 seconds. The key is random per boot.
 *
 * The options other than the MSS ride in the SYN-ACK's TSval when the
 * SYN offered timestamps and we take them: its low XTCP_COOKIE_TS_BITS
 * bits are the peer's window scale (15: none) and its SACK-permitted
 * offer, the rest our clock, moved back rather than forward so that
 * TSval never runs ahead of the clock. The third ACK echoes them in
 * TSecr. The options word the MAC covers is those bits and whether
 * timestamps were used, so an ACK that echoes other bits, or drops the
 * timestamp option, fails like a wrong cookie. Without timestamps there
 * is nowhere to carry options: the child has no window scaling, as
 * TCP's without timestamps.
 */

#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/net.h>
#include <linux/siphash.h>
#include <linux/timekeeping.h>

#include "options.h"
#include "proto.h"
#include "xtcp.h"

#define XTCP_COOKIE_MSS_BITS	3
#define XTCP_COOKIE_MSS_MASK	((1U << XTCP_COOKIE_MSS_BITS) - 1)
#define XTCP_COOKIE_CLOCK_BIT	BIT(XTCP_COOKIE_MSS_BITS)
#define XTCP_COOKIE_MAC_MASK	(~0U << (XTCP_COOKIE_MSS_BITS + 1))

/* TSval's low bits: 3..0 the peer's window scale, 4 SACK-permitted. */
#define XTCP_COOKIE_TS_BITS	5
#define XTCP_COOKIE_TS_MASK	((1U << XTCP_COOKIE_TS_BITS) - 1)
#define XTCP_COOKIE_TS_WSCALE	0xfU		/* also "no window scale" */
#define XTCP_COOKIE_TS_SACK	BIT(4)
#define XTCP_COOKIE_OPT_TS	BIT(XTCP_COOKIE_TS_BITS)	/* in the MAC only */

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
			   __be16 rport, u32 irs, u32 clock, u32 mss_index,
			   u32 optword)
{
	u64 addrs = ((u64)(__force u32)laddr << 32) | (__force u32)raddr;
	u64 rest = ((u64)(__force u16)lport << 48) |
		   ((u64)(__force u16)rport << 32) | irs;
	u64 hash;

	net_get_random_once(&xtcp_cookie_secret, sizeof(xtcp_cookie_secret));
	hash = siphash_3u64(addrs, rest,
			    ((u64)optword << 40) |
			    ((u64)clock << XTCP_COOKIE_MSS_BITS) | mss_index,
			    &xtcp_cookie_secret);

	return (u32)(hash >> 32) & XTCP_COOKIE_MAC_MASK;
}

/*
 * The options word of a SYN's options @syn: 0 without timestamps, else
 * XTCP_COOKIE_OPT_TS and the bits TSval carries.
 */
static u32 xtcp_cookie_optword(const struct xtcp_cookie_opts *syn)
{
	u32 w = XTCP_COOKIE_OPT_TS;

	if (!syn->ts)
		return 0;
	w |= syn->wscale >= 0 ? (u32)syn->wscale : XTCP_COOKIE_TS_WSCALE;
	if (syn->sack_ok)
		w |= XTCP_COOKIE_TS_SACK;
	return w;
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
 * the options @syn (the peer's MSS; the window scale and SACK-permitted
 * if it carries timestamps that we take); it is the SYN-ACK's sequence
 * number.
 */
u32 xtcp_cookie_make(__be32 laddr, __be32 raddr, __be16 lport, __be16 rport,
		     u32 irs, const struct xtcp_cookie_opts *syn)
{
	u32 clock = xtcp_cookie_clock(), i = xtcp_cookie_mss_index(syn->mss);

	return xtcp_cookie_mac(laddr, raddr, lport, rport, irs, clock, i,
			       xtcp_cookie_optword(syn)) |
	       ((clock & 1) ? XTCP_COOKIE_CLOCK_BIT : 0) | i;
}

/*
 * The TSval of a cookie's SYN-ACK (@syn->ts set): @now, our clock with
 * the connection's offset, its low bits replaced by @syn's options and
 * moved back by a period of them if that took it forward.
 */
u32 xtcp_cookie_tsval(u32 now, const struct xtcp_cookie_opts *syn)
{
	u32 tsval = (now & ~XTCP_COOKIE_TS_MASK) |
		    (xtcp_cookie_optword(syn) & XTCP_COOKIE_TS_MASK);

	if ((s32)(tsval - now) > 0)
		tsval -= XTCP_COOKIE_TS_MASK + 1;
	return tsval;
}

/*
 * What a verified @cookie says about the SYN, with the options word
 * @optword it was verified with; see the header comment.
 */
static void xtcp_cookie_decode(u32 cookie, u32 optword,
			       struct xtcp_cookie_opts *opts)
{
	u32 ws = optword & XTCP_COOKIE_TS_WSCALE;

	opts->mss = xtcp_cookie_mss[cookie & XTCP_COOKIE_MSS_MASK];
	opts->ts = optword & XTCP_COOKIE_OPT_TS;
	opts->wscale = opts->ts && ws != XTCP_COOKIE_TS_WSCALE ? ws : -1;
	opts->sack_ok = opts->ts && (optword & XTCP_COOKIE_TS_SACK);
}

/*
 * Verify @cookie (an ACK's ack - 1) for the 4-tuple and the peer's ISN
 * @irs (the ACK's seq - 1), with the options @ack the ACK carries (its
 * TSecr returns the rest of the SYN's options). True, with *@opts
 * filled, if we made it in this clock period or the previous one.
 */
bool xtcp_cookie_check(__be32 laddr, __be32 raddr, __be16 lport,
		       __be16 rport, u32 irs, u32 cookie,
		       const struct xtcp_opts *ack,
		       struct xtcp_cookie_opts *opts)
{
	u32 clock = xtcp_cookie_clock(), optword = 0;

	if (ack->ts)
		optword = XTCP_COOKIE_OPT_TS |
			  (ack->tsecr & XTCP_COOKIE_TS_MASK);
	/* The parity bit names the period: now, or the one before. */
	if (!!(cookie & XTCP_COOKIE_CLOCK_BIT) != (clock & 1))
		clock--;
	if ((cookie & XTCP_COOKIE_MAC_MASK) !=
	    xtcp_cookie_mac(laddr, raddr, lport, rport, irs, clock,
			    cookie & XTCP_COOKIE_MSS_MASK, optword))
		return false;
	xtcp_cookie_decode(cookie, optword, opts);
	return true;
}
