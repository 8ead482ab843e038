/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one list of xtcp's event counters. Each line is
 * XTCP_MIB(ENUM_SUFFIX, "NameInProcfs"); includers define XTCP_MIB to
 * expand it into an enum, a name table, and so on. No include guard: this
 * file is meant to be included more than once.
 */
XTCP_MIB(ACTIVE_OPENS,		"ActiveOpens")
XTCP_MIB(PASSIVE_OPENS,		"PassiveOpens")
XTCP_MIB(ATTEMPT_FAILS,		"AttemptFails")
XTCP_MIB(ESTAB_RESETS,		"EstabResets")
XTCP_MIB(CURR_ESTAB,		"CurrEstab")
XTCP_MIB(IN_SEGS,		"InSegs")
XTCP_MIB(OUT_SEGS,		"OutSegs")
XTCP_MIB(RETRANS_SEGS,		"RetransSegs")
XTCP_MIB(IN_ERRS,		"InErrs")
XTCP_MIB(IN_CSUM_ERRORS,	"InCsumErrors")
XTCP_MIB(IN_NO_SOCKET,		"InNoSocket")
XTCP_MIB(OUT_RSTS,		"OutRsts")
XTCP_MIB(IN_RSTS,		"InRsts")
XTCP_MIB(SYN_RETRANS,		"SynRetrans")
XTCP_MIB(SYNACK_RETRANS,	"SynAckRetrans")
XTCP_MIB(FIN_RETRANS,		"FinRetrans")
XTCP_MIB(DATA_RETRANS,		"DataRetrans")
XTCP_MIB(TIME_WAIT_CREATED,	"TimeWaitCreated")
XTCP_MIB(TIME_WAIT_EXPIRED,	"TimeWaitExpired")
XTCP_MIB(TIME_WAIT_REUSED,	"TimeWaitReused")
XTCP_MIB(TIME_WAIT_KILLED,	"TimeWaitKilled")
XTCP_MIB(TIME_WAIT_OVERFLOW,	"TimeWaitOverflow")
XTCP_MIB(LISTEN_OVERFLOWS,	"ListenOverflows")
XTCP_MIB(LISTEN_DROPS,		"ListenDrops")
XTCP_MIB(CHALLENGE_ACKS,	"ChallengeAcks")
XTCP_MIB(FAULT_DROPS,		"FaultDrops")
