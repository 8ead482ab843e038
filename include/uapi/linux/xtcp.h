/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * xtcp: an instrumented, TCP-like reliable byte stream over IPv4.
 *
 * This is the one header user programs include. The address family and
 * the IP protocol number are module parameters; a program should read
 * them from /sys/module/xtcp/parameters/{family,ipproto} rather than
 * assume the defaults below.
 */
#ifndef _UAPI_LINUX_XTCP_H
#define _UAPI_LINUX_XTCP_H

#include <linux/types.h>
#include <linux/in.h>

/* Defaults of the module parameters "family" and "ipproto". */
#define XTCP_FAMILY_DEFAULT	22
#define XTCP_IPPROTO_DEFAULT	253

/* Where the loaded module reports its actual numbers. */
#define XTCP_SYSFS_FAMILY	"/sys/module/xtcp/parameters/family"
#define XTCP_SYSFS_IPPROTO	"/sys/module/xtcp/parameters/ipproto"

/*
 * Socket address: laid out exactly like struct sockaddr_in, so a
 * sockaddr_in may be passed to bind() and connect() (tagged AF_INET or
 * the xtcp family). Addresses xtcp reports carry the xtcp family.
 */
struct sockaddr_xtcp {
	__kernel_sa_family_t	sxtcp_family;
	__be16			sxtcp_port;
	struct in_addr		sxtcp_addr;
	unsigned char		sxtcp_zero[8];
};

/* Connection states; the numbers equal Linux TCP's (TCP_ESTABLISHED...). */
enum {
	XTCP_ESTABLISHED = 1,
	XTCP_SYN_SENT,
	XTCP_SYN_RECV,
	XTCP_FIN_WAIT1,
	XTCP_FIN_WAIT2,
	XTCP_TIME_WAIT,
	XTCP_CLOSE,
	XTCP_CLOSE_WAIT,
	XTCP_LAST_ACK,
	XTCP_LISTEN,
	XTCP_CLOSING,
	XTCP_MAX_STATES	/* one past the last state */
};

/*
 * Level for xtcp's own socket options. The numbers and meanings equal
 * TCP's, and the same options are taken at level IPPROTO_TCP (SOL_TCP)
 * with TCP's names, so that programs written for TCP work unchanged;
 * there TCP_INFO answers with struct tcp_info. Options numbered from 100
 * are xtcp's own and exist only at SOL_XTCP.
 */
#define SOL_XTCP		299

#define XTCP_NODELAY		1	/* int: 1 turns Nagle's algorithm off */
#define XTCP_MAXSEG		2	/* int 88..32767: MSS cap, 0 none */
#define XTCP_CORK		3	/* int: 1 holds partial segments */
#define XTCP_KEEPIDLE		4	/* int s: idle time before keepalive probes */
#define XTCP_KEEPINTVL		5	/* int s: between keepalive probes */
#define XTCP_KEEPCNT		6	/* int: unanswered probes before ETIMEDOUT */
#define XTCP_SYNCNT		7	/* int 1..127: SYN retransmissions */
#define XTCP_LINGER2		8	/* int s: orphan FIN_WAIT_2 lifetime, <0 none */
#define XTCP_DEFER_ACCEPT	9	/* int s: accept() waits for data, as TCP's */
#define XTCP_INFO		11	/* struct xtcp_info, read only */
#define XTCP_QUICKACK		12	/* int: 1 ACKs at once, read: 1 unless 0 set */
#define XTCP_CONGESTION		13	/* char[16]: algorithm name */
#define XTCP_USER_TIMEOUT	18	/* int ms: unacknowledged data aborts after */
#define XTCP_NOTSENT_LOWAT	25	/* int: writable below this many unsent bytes */

/*
 * int: 1 reports AF_INET in the addresses a socket returns (getsockname,
 * getpeername, accept), for programs that check sa_family; the module
 * parameter report_inet is the default of new sockets.
 */
#define XTCP_REPORT_INET	100

/*
 * int: 1 lets listeners of one owner (uid) share a port, as SO_REUSEPORT
 * does on TCP (the socket core refuses SO_REUSEPORT for non-inet
 * families): every socket bound to the port must have it set before
 * bind(); new connections are spread over the listeners by a hash of
 * their addresses and ports.
 */
#define XTCP_REUSEPORT		101

/* The name XTCP_CONGESTION reads and takes (TCP's "reno" is taken too). */
#define XTCP_CA_NAME_MAX	16

/* getsockopt(SOL_XTCP, XTCP_INFO); a shorter buffer gets a prefix. */
struct xtcp_info {
	__u8	xtcpi_state;		/* XTCP_ESTABLISHED ... */
	__u8	xtcpi_retransmits;	/* of the current segment */
	__u8	xtcpi_backoff;		/* RTO doublings */
	__u8	xtcpi_pad;
	__u32	xtcpi_rto;		/* retransmission timeout, us */
	__u32	xtcpi_rtt;		/* smoothed RTT, us; 0: not measured */
	__u32	xtcpi_iss;		/* initial send sequence number */
	__u32	xtcpi_irs;		/* initial receive sequence number */
	__u32	xtcpi_snd_una;		/* oldest unacknowledged */
	__u32	xtcpi_snd_nxt;		/* next to send */
	__u32	xtcpi_rcv_nxt;		/* next expected */
	__u32	xtcpi_snd_wnd;		/* peer's window, bytes */
	__u32	xtcpi_rcv_wnd;		/* our last advertised window, bytes */
	__u32	xtcpi_mss;		/* largest payload we send */
	/* Since the data path (issue 4); older programs see a prefix. */
	__u32	xtcpi_rttvar;		/* RTT variation, us */
	__u32	xtcpi_snd_cwnd;		/* congestion window, bytes */
	__u32	xtcpi_snd_ssthresh;	/* slow start threshold, bytes */
	__u8	xtcpi_ca_state;		/* XTCP_CA_* */
	__u8	xtcpi_dupacks;		/* duplicate ACKs in a row */
	__u8	xtcpi_snd_wscale;	/* peer's window scale shift */
	__u8	xtcpi_rcv_wscale;	/* our window scale shift */
	__u32	xtcpi_unacked;		/* bytes sent, not yet acknowledged */
	__u32	xtcpi_total_retrans;	/* segments retransmitted */
	__u32	xtcpi_fast_retrans;	/* fast retransmissions (3 dup ACKs) */
	__u32	xtcpi_rto_timeouts;	/* retransmission timeouts */
	__u32	xtcpi_ooo_segs;		/* segments received out of order */
	__u32	xtcpi_rcv_queued;	/* bytes in the receive queue */
	/* Since buffer autotuning (issue 14). */
	__u32	xtcpi_rcvbuf;		/* receive buffer now (SO_RCVBUF) */
	__u32	xtcpi_sndbuf;		/* send buffer now (SO_SNDBUF) */
	__u32	xtcpi_rcv_rtt;		/* receiver's RTT estimate, us; 0: none */
	__u32	xtcpi_rcv_space;	/* bytes read in the last receiver RTT */
	__u64	xtcpi_busy_time;	/* us with data queued or unacknowledged */
	__u64	xtcpi_rwnd_limited;	/* us of those held by the peer's window */
	__u64	xtcpi_sndbuf_limited;	/* us of those the writer waited for buffer */
	/* Since timestamps (issue 15). */
	__u32	xtcpi_options;		/* XTCPI_OPT_*: what the handshake agreed */
	__u32	xtcpi_ts_recent;	/* TS.Recent: the peer's TSval we echo */
	/* Since SACK (issue 15). */
	__u32	xtcpi_sacked_out;	/* bytes SACKed, not yet acknowledged */
	__u32	xtcpi_lost_out;		/* bytes SACK deems lost (RFC 6675) */
	__u32	xtcpi_retrans_out;	/* bytes resent in SACK recovery, in flight */
	__u32	xtcpi_sack_retrans;	/* segments resent by SACK recovery */
	__u32	xtcpi_dsack_recv;	/* D-SACK blocks received */
	__u32	xtcpi_dsack_sent;	/* D-SACK blocks sent */
};

/* xtcpi_options: the numbers equal TCP_INFO's TCPI_OPT_*. */
#define XTCPI_OPT_TIMESTAMPS	1
#define XTCPI_OPT_SACK		2
#define XTCPI_OPT_WSCALE	4

/* xtcpi_ca_state: the numbers equal Linux TCP's TCP_CA_* states. */
enum {
	XTCP_CA_OPEN = 0,	/* no loss seen */
	XTCP_CA_DISORDER = 1,	/* duplicate ACKs, below the threshold */
	XTCP_CA_RECOVERY = 3,	/* fast retransmit, NewReno recovery */
	XTCP_CA_LOSS = 4,	/* after a retransmission timeout */
};

#endif /* _UAPI_LINUX_XTCP_H */
