/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The xtcp socket and the few things every part of the module shares.
 */
#ifndef _XTCP_H
#define _XTCP_H

#include <net/inet_sock.h>
#include <uapi/linux/xtcp.h>

/* Module parameters, fixed once the module has loaded. */
extern int xtcp_family;
extern int xtcp_ipproto;

/*
 * struct inet_sock comes first so that IPv4 output and the generic inet
 * helpers can treat an xtcp socket as an inet socket.
 */
struct xtcp_sock {
	struct inet_sock inet;
};

static inline struct xtcp_sock *xtcp_sk(const struct sock *sk)
{
	return (struct xtcp_sock *)sk;
}

void xtcp_set_state(struct sock *sk, int state);

int xtcp_socket_register(void);
void xtcp_socket_unregister(void);

int xtcp_input_register(void);
void xtcp_input_unregister(void);

#endif /* _XTCP_H */
