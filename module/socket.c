// SPDX-License-Identifier: GPL-2.0
/*
 * The socket layer: the address family, struct proto and proto_ops.
 *
 * Every proto_ops call is wired; those the protocol does not implement yet
 * answer -EOPNOTSUPP so that user space sees a clean error, never a NULL
 * dereference.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <net/inet_common.h>
#include <net/sock.h>

#include "compat.h"
#include "netns.h"
#include "xtcp.h"

/*
 * Move @sk to @state and account for it: the per-state gauge, how often the
 * state was entered and the FROM->TO transition. A socket that has never had
 * a state (state 0) only enters.
 */
void xtcp_set_state(struct sock *sk, int state)
{
	struct xtcp_stats __percpu *stats = xtcp_pernet(sock_net(sk))->stats;
	int old = sk->sk_state;

	if (old == state)
		return;

	if (old > 0 && old < XTCP_MAX_STATES) {
		this_cpu_dec(stats->state_current[old]);
		this_cpu_inc(stats->transitions[old][state]);
	}
	if (state > 0 && state < XTCP_MAX_STATES) {
		this_cpu_inc(stats->state_current[state]);
		this_cpu_inc(stats->state_entered[state]);
	}
	/* Lockless readers (lookups, poll) pair with this. */
	smp_store_release(&sk->sk_state, state);
}

/* Leave the state gauges as if the socket had never existed. */
static void xtcp_state_forget(struct sock *sk)
{
	struct xtcp_stats __percpu *stats = xtcp_pernet(sock_net(sk))->stats;
	int state = sk->sk_state;

	if (state > 0 && state < XTCP_MAX_STATES)
		this_cpu_dec(stats->state_current[state]);
}

static int xtcp_release(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (!sk)
		return 0;

	lock_sock(sk);
	xtcp_set_state(sk, TCP_CLOSE);
	xtcp_state_forget(sk);
	sock_orphan(sk);
	release_sock(sk);

	sock->sk = NULL;
	sock_put(sk);
	return 0;
}

static int xtcp_bind(struct socket *sock, struct sockaddr *uaddr, int len)
{
	return -EOPNOTSUPP;
}

static int xtcp_connect(struct socket *sock, struct sockaddr *uaddr,
			int len, int flags)
{
	return -EOPNOTSUPP;
}

static int xtcp_accept(XTCP_ACCEPT_ARGS)
{
	return -EOPNOTSUPP;
}

static int xtcp_getname(struct socket *sock, struct sockaddr *uaddr, int peer)
{
	return -EOPNOTSUPP;
}

static __poll_t xtcp_poll(struct file *file, struct socket *sock,
			  poll_table *wait)
{
	struct sock *sk = sock->sk;

	sock_poll_wait(file, sock, wait);

	/* An unconnected stream socket is writable and hung up, as TCP's. */
	if (sk->sk_state == TCP_CLOSE)
		return EPOLLOUT | EPOLLWRNORM | EPOLLHUP;
	return 0;
}

static int xtcp_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg)
{
	return -EOPNOTSUPP;
}

static int xtcp_listen(struct socket *sock, int backlog)
{
	return -EOPNOTSUPP;
}

static int xtcp_shutdown(struct socket *sock, int how)
{
	return -EOPNOTSUPP;
}

static int xtcp_setsockopt(struct socket *sock, int level, int optname,
			   sockptr_t optval, unsigned int optlen)
{
	return -EOPNOTSUPP;
}

static int xtcp_getsockopt(struct socket *sock, int level, int optname,
			   char __user *optval, int __user *optlen)
{
	return -EOPNOTSUPP;
}

static int xtcp_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	return -EOPNOTSUPP;
}

static int xtcp_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
			int flags)
{
	return -EOPNOTSUPP;
}

/*
 * .family is left unset: the family is a module parameter, registered
 * through xtcp_family_ops, and the core reads proto_ops->family only to
 * recognise AF_UNIX sockets.
 */
static const struct proto_ops xtcp_stream_ops = {
	.owner		= THIS_MODULE,
	.release	= xtcp_release,
	.bind		= xtcp_bind,
	.connect	= xtcp_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= xtcp_accept,
	.getname	= xtcp_getname,
	.poll		= xtcp_poll,
	.ioctl		= xtcp_ioctl,
	.listen		= xtcp_listen,
	.shutdown	= xtcp_shutdown,
	.setsockopt	= xtcp_setsockopt,
	.getsockopt	= xtcp_getsockopt,
	.sendmsg	= xtcp_sendmsg,
	.recvmsg	= xtcp_recvmsg,
	.mmap		= sock_no_mmap,
};

static struct proto xtcp_prot = {
	.name		= "XTCP",
	.owner		= THIS_MODULE,
	.obj_size	= sizeof(struct xtcp_sock),
};

static int xtcp_create(struct net *net, struct socket *sock, int protocol,
		       int kern)
{
	struct sock *sk;

	if (sock->type != SOCK_STREAM)
		return -ESOCKTNOSUPPORT;
	if (protocol && protocol != xtcp_ipproto)
		return -EPROTONOSUPPORT;

	sk = sk_alloc(net, xtcp_family, GFP_KERNEL, &xtcp_prot, kern);
	if (!sk)
		return -ENOBUFS;

	sock->state = SS_UNCONNECTED;
	sock->ops = &xtcp_stream_ops;
	sock_init_data(sock, sk);
	sk->sk_protocol = xtcp_ipproto;
	sk->sk_destruct = inet_sock_destruct;
	sk->sk_state = 0;
	xtcp_set_state(sk, TCP_CLOSE);
	return 0;
}

/* .family is the module parameter, filled in before registration. */
static struct net_proto_family xtcp_family_ops __ro_after_init = {
	.create	= xtcp_create,
	.owner	= THIS_MODULE,
};

int xtcp_socket_register(void)
{
	int err;

	err = proto_register(&xtcp_prot, 1);
	if (err)
		return err;

	xtcp_family_ops.family = xtcp_family;
	err = sock_register(&xtcp_family_ops);
	if (err) {
		pr_err("address family %d is already registered (module parameter family=%d)\n",
		       xtcp_family, xtcp_family);
		proto_unregister(&xtcp_prot);
	}
	return err;
}

void xtcp_socket_unregister(void)
{
	sock_unregister(xtcp_family);
	proto_unregister(&xtcp_prot);
}
