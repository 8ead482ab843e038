// SPDX-License-Identifier: GPL-2.0
/*
 * The byte stream's two system calls. sendmsg() copies the user's bytes
 * into page fragments of skbs of one MSS, or of many while output.c may
 * send them as GSO skbs, on the write queue (output.c sends them as
 * the windows allow); recvmsg() copies from the receive queue, which the
 * state machine fills in order, and opens the window again when reading
 * made room. Errnos, MSG_* flags and wake-ups are TCP's (tcp_sendmsg(),
 * tcp_recvmsg()).
 */

#include <net/sock.h>

#include "icmp.h"
#include "mib.h"
#include "output.h"
#include "proto.h"
#include "tune.h"
#include "xtcp.h"

/* Queue a new empty skb at the tail; NULL: wait for memory. */
static struct sk_buff *xtcp_new_tail(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sk_buff *skb;

	skb = alloc_skb(XTCP_SKB_HEADROOM, sk->sk_allocation);
	if (!skb)
		return NULL;
	/*
	 * Charged to the protocol and the memory cgroup; over their limits
	 * the writer waits (an empty queue always takes one skb, as TCP's).
	 */
	if (!sk_wmem_schedule(sk, skb->truesize) &&
	    !skb_queue_empty(&sk->sk_write_queue)) {
		kfree_skb(skb);
		return NULL;
	}
	skb_reserve(skb, XTCP_SKB_HEADROOM);
	XTCP_SKB_CB(skb)->seq = xs->write_seq;
	XTCP_SKB_CB(skb)->end_seq = xs->write_seq;
	XTCP_SKB_CB(skb)->flags = 0;
	__skb_queue_tail(&sk->sk_write_queue, skb);
	sk_wmem_queued_add(sk, skb->truesize);
	sk_mem_charge(sk, skb->truesize);
	if (!xs->send_head)
		xs->send_head = skb;
	return skb;
}

/* Take back the empty skb xtcp_new_tail() queued when nothing went in. */
static void xtcp_drop_tail(struct sock *sk, struct sk_buff *skb)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	__skb_unlink(skb, &sk->sk_write_queue);
	if (xs->send_head == skb)
		xs->send_head = NULL;
	sk_wmem_queued_add(sk, -skb->truesize);
	sk_mem_uncharge(sk, skb->truesize);
	kfree_skb(skb);
}

/*
 * Copy from @msg into the page fragment of the task (sk_page_frag()) and
 * attach it to the unsent tail skb, or to a new one when the tail is sent,
 * holds a FIN, reached @goal bytes or has no fragment slot left. Small
 * writes so coalesce into one segment (Nagle). Returns the bytes taken,
 * -ENOMEM (wait for memory) or -EFAULT.
 */
static int xtcp_append(struct sock *sk, struct msghdr *msg, u32 goal)
{
	struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);
	struct page_frag *pfrag = sk_page_frag(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);
	bool fresh = false, merge;
	int copy, i;

	if (!skb || !xs->send_head || XTCP_SKB_CB(skb)->flags ||
	    skb->len >= goal || skb_cloned(skb) ||
	    (skb_shinfo(skb)->nr_frags >= MAX_SKB_FRAGS)) {
		skb = xtcp_new_tail(sk);
		if (!skb)
			return -ENOMEM;
		fresh = true;
	}
	if (!sk_page_frag_refill(sk, pfrag))
		goto nomem;
	i = skb_shinfo(skb)->nr_frags;
	merge = skb_can_coalesce(skb, i, pfrag->page, pfrag->offset);
	if (!merge && i >= MAX_SKB_FRAGS)
		goto nomem;	/* cannot happen: a full skb is never the tail */
	copy = min3(msg_data_left(msg), (size_t)(goal - skb->len),
		    (size_t)(pfrag->size - pfrag->offset));
	if (!sk_wmem_schedule(sk, copy) &&
	    !(fresh && skb_queue_is_first(&sk->sk_write_queue, skb)))
		goto nomem;
	if (!copy_from_iter_full(page_address(pfrag->page) + pfrag->offset,
				 copy, &msg->msg_iter)) {
		if (fresh)
			xtcp_drop_tail(sk, skb);
		return -EFAULT;
	}
	if (merge) {
		skb_frag_size_add(&skb_shinfo(skb)->frags[i - 1], copy);
	} else {
		skb_fill_page_desc(skb, i, pfrag->page, pfrag->offset, copy);
		get_page(pfrag->page);
	}
	pfrag->offset += copy;
	skb->len += copy;
	skb->data_len += copy;
	skb->truesize += copy;
	sk_wmem_queued_add(sk, copy);
	sk_mem_charge(sk, copy);
	XTCP_SKB_CB(skb)->end_seq += copy;
	xs->write_seq += copy;
	return copy;

nomem:
	if (fresh)
		xtcp_drop_tail(sk, skb);
	return -ENOMEM;
}

int xtcp_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	struct sock *sk = sock->sk;
	int flags = msg->msg_flags;
	size_t copied = 0;
	long timeo;
	int err, n;
	u32 goal;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;

	lock_sock(sk);
	timeo = sock_sndtimeo(sk, flags & MSG_DONTWAIT);
	if ((1 << sk->sk_state) & ~(TCPF_ESTABLISHED | TCPF_CLOSE_WAIT)) {
		err = sk_stream_wait_connect(sk, &timeo);
		if (err)
			goto do_error;
	}

	goal = xtcp_gso_goal(sk);
	while (msg_data_left(msg)) {
		err = -EPIPE;
		if (sk->sk_err || (sk->sk_shutdown & SEND_SHUTDOWN))
			goto do_error;
		if (sk_stream_memory_free(sk)) {
			n = xtcp_append(sk, msg, goal);
			if (n > 0) {
				copied += n;
				continue;
			}
			err = n;
			if (err != -ENOMEM)
				goto do_error;
		}
		/*
		 * Out of send buffer or memory: send, then wait. NOSPACE
		 * first, so that the push sees a writer held by the buffer.
		 */
		set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		xtcp_clock_refresh(sk);
		xtcp_push(sk);
		err = sk_stream_wait_memory(sk, &timeo);
		if (err)
			goto do_error;
	}
	xtcp_clock_refresh(sk);
	__xtcp_push(sk, flags & MSG_MORE ? XTCP_PUSH_MORE : XTCP_PUSH_NORMAL);
	release_sock(sk);
	return copied;

do_error:
	if (copied) {
		xtcp_clock_refresh(sk);
		__xtcp_push(sk, flags & MSG_MORE ? XTCP_PUSH_MORE :
			    XTCP_PUSH_NORMAL);
		release_sock(sk);
		return copied;
	}
	err = sk_stream_error(sk, flags, err);
	release_sock(sk);
	return err;
}

/*
 * After reading: send the ACK data that waited in the queue still owes
 * (xtcp_ack_data() holds it while the window cannot move), or tell the
 * peer that the window opened substantially.
 */
static void xtcp_rcv_space_update(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 wnd, cur;

	if (!((1 << sk->sk_state) &
	      (TCPF_ESTABLISHED | TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2)))
		return;
	/* tcp_cleanup_rbuf()'s: two segments owed, or a window that can double. */
	wnd = xtcp_free_window(sk);
	cur = xtcp_rcv_wnd_left(xs);
	if ((xs->ack_pending && xtcp_two_segs_unacked(xs)) ||
	    (wnd >= 2 * cur && wnd - cur >= xs->mss)) {
		xtcp_clock_refresh(sk);
		xtcp_send_ack(sk);
	}
}

static bool xtcp_recv_ready(struct sock *sk)
{
	return !skb_queue_empty(&sk->sk_receive_queue) || sk->sk_err ||
	       (sk->sk_shutdown & RCV_SHUTDOWN) || sk->sk_state == TCP_CLOSE;
}

/* The receive queue's skb that holds @seq, and @seq's offset in it. */
static struct sk_buff *xtcp_recv_skb(struct sock *sk, u32 seq, u32 *offset)
{
	struct sk_buff *skb;

	skb_queue_walk(&sk->sk_receive_queue, skb) {
		*offset = seq - XTCP_SKB_CB(skb)->seq;
		if (*offset < skb->len)
			return skb;
	}
	return NULL;
}

/*
 * Nothing to copy yet: 1 to wait for more, 0 to return what was copied,
 * or, when nothing was, the errno to return (tcp_recvmsg()'s order).
 */
static int xtcp_recv_may_wait(struct sock *sk, int copied, long timeo)
{
	if (copied)
		return !(sk->sk_err || sk->sk_state == TCP_CLOSE ||
			 (sk->sk_shutdown & RCV_SHUTDOWN) || !timeo ||
			 signal_pending(current));
	if (sock_flag(sk, SOCK_DONE))
		return 0;
	if (sk->sk_err)
		return sock_error(sk);
	if (sk->sk_shutdown & RCV_SHUTDOWN)
		return 0;
	if (sk->sk_state == TCP_CLOSE)
		return -ENOTCONN;
	if (!timeo)
		return -EAGAIN;
	if (signal_pending(current))
		return sock_intr_errno(timeo);
	return 1;
}

int xtcp_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		 int flags)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = sock->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);
	int copied = 0, target, ret;
	u32 peek_seq, *seq;
	long timeo;

	if (flags & MSG_ERRQUEUE)
		return xtcp_icmp_recv_error(sk, msg, len);
	if (flags & MSG_OOB)
		return -EINVAL;

	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN) {
		copied = -ENOTCONN;
		goto out;
	}
	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	target = sock_rcvlowat(sk, flags & MSG_WAITALL, len);
	peek_seq = xs->copied_seq;
	seq = (flags & MSG_PEEK) ? &peek_seq : &xs->copied_seq;

	while (copied < len) {
		struct sk_buff *skb;
		u32 offset, used;

		skb = xtcp_recv_skb(sk, *seq, &offset);
		if (skb) {
			used = min_t(size_t, skb->len - offset, len - copied);
			if (skb_copy_datagram_msg(skb, offset, msg, used)) {
				if (!copied)
					copied = -EFAULT;
				break;
			}
			*seq += used;
			copied += used;
			if (!(flags & MSG_PEEK) && offset + used == skb->len) {
				__skb_unlink(skb, &sk->sk_receive_queue);
				consume_skb(skb);
			}
			continue;
		}
		if (copied >= target)
			break;
		/* Before sleeping, as the data read so far may open the window. */
		if (copied > 0 && !(flags & MSG_PEEK))
			xtcp_rcv_space_update(sk);
		ret = xtcp_recv_may_wait(sk, copied, timeo);
		if (ret <= 0) {
			if (ret < 0)
				copied = ret;
			break;
		}
		add_wait_queue(sk_sleep(sk), &wait);
		sk_wait_event(sk, &timeo, xtcp_recv_ready(sk), &wait);
		remove_wait_queue(sk_sleep(sk), &wait);
	}
	if (copied > 0 && !(flags & MSG_PEEK)) {
		xtcp_rcv_space_adjust(sk);
		xtcp_rcv_space_update(sk);
	}
out:
	release_sock(sk);
	return copied;
}
