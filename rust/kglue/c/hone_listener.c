// SPDX-License-Identifier: GPL-2.0
/*
 * The listener of a TCP connection not yet accepted, for packet_notify's shim.c, which includes
 * this file once (it calls nothing the other modules need: the listener lookups would tie them
 * to IPv6).
 */

#include <linux/ipv6.h>
#include <linux/version.h>
#include <net/inet_hashtables.h>
#include <net/inet6_hashtables.h>
#include <net/sock.h>
#include <net/tcp_states.h>

/*
 * Since 6.18 the lookups find the TCP hash table themselves (hashinfo is gone from their
 * arguments).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0)
#define HONE_TCP_HASHINFO(net)
#else
#define HONE_TCP_HASHINFO(net) (net)->ipv4.tcp_death_row.hashinfo,
#endif

/*
 * The listener of sk if sk is a TCP connection that has arrived but that no process has
 * accept()ed yet (a full socket with no file that is not orphaned: a socket that was accepted
 * and then closed is dead), found as the kernel found it for the connection's SYN (without the
 * packet, a reuseport group chooses by the connection's hash); NULL for any other socket. In a
 * netfilter hook, under RCU: a listener is freed only after a grace period, so no reference is
 * taken.
 */
static struct sock *hone_unaccepted_listener(struct sock *sk)
{
	const struct inet_sock *inet = inet_sk(sk);
	struct net *net = sock_net(sk);

	if (sk->sk_protocol != IPPROTO_TCP || sk->sk_type != SOCK_STREAM ||
	    READ_ONCE(sk->sk_state) == TCP_LISTEN || READ_ONCE(sk->sk_socket) ||
	    sock_flag(sk, SOCK_DEAD))
		return NULL;
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6 && !ipv6_addr_v4mapped(&sk->sk_v6_daddr))
		return inet6_lookup_listener(net, HONE_TCP_HASHINFO(net) NULL, 0, &sk->sk_v6_daddr,
					     inet->inet_dport, &sk->sk_v6_rcv_saddr, inet->inet_num,
					     sk->sk_bound_dev_if, 0);
#endif
	return __inet_lookup_listener(net, HONE_TCP_HASHINFO(net) NULL, 0, inet->inet_daddr,
				      inet->inet_dport, inet->inet_rcv_saddr, inet->inet_num,
				      sk->sk_bound_dev_if, 0);
}
