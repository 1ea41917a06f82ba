// SPDX-License-Identifier: GPL-2.0
/* packet_notify's C shim; see shim.h. */

#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <net/inet_sock.h>
#include <net/net_namespace.h>
#include <net/netfilter/nf_socket.h>
#include <net/sock.h>

#include "../../rust/kglue/c/hone_glue.c"
#include "../../rust/kglue/c/hone_listener.c"
#include "shim.h"

HONE_DEFINE_CHAIN(packet);
HONE_EXPORT_CHAIN(packet);

/* The listener of a connection not yet accepted stands for it; any other full socket for itself. */
static struct sock *standing_for(struct sock *sk)
{
	struct sock *listener = hone_unaccepted_listener(sk);

	return listener ? listener : sk;
}

/*
 * The local socket of an arriving packet: the one early demux attached, else a lookup (TCP
 * established then listening, UDP connected then bound, ICMP errors by their quoted header).
 * A TIME_WAIT socket counts as none.
 * Returns a referenced socket in *ref when the lookup took one.
 */
static struct sock *inbound_sock(struct sk_buff *skb, const struct nf_hook_state *state, struct sock **ref)
{
	struct sock *sk = skb->sk;

	*ref = NULL;
	if (sk && sk_fullsock(sk))
		return standing_for(sk);
	if (!state->in)
		return NULL;
	if (state->pf == NFPROTO_IPV4)
		sk = nf_sk_lookup_slow_v4(state->net, skb, state->in);
	else
		sk = nf_sk_lookup_slow_v6(state->net, skb, state->in);
	if (!sk)
		return NULL;
	*ref = sk;
	/* The ACK completing a handshake finds a request socket: it belongs to the listener. */
	sk = sk_to_full_sk(sk);
	return sk && sk_fullsock(sk) ? standing_for(sk) : NULL;
}

static unsigned int hone_nf_hook(void *priv, struct sk_buff *skb, const struct nf_hook_state *state)
{
	bool inbound = state->hook == NF_INET_LOCAL_IN;
	struct sock *sk, *ref = NULL;

	if (!hone_packet_has_subscribers())
		return NF_ACCEPT;
	if (inbound) {
		sk = inbound_sock(skb, state, &ref);
	} else {
		/*
		 * A SYN-ACK's request socket stands for its listener, as does a connection not yet
		 * accepted; TIME_WAIT counts as none.
		 */
		sk = skb_to_full_sk(skb);
		sk = sk && sk_fullsock(sk) ? standing_for(sk) : NULL;
	}
	hone_packet_seen(skb, sk, inbound, state->net->ns.inum);
	if (ref)
		sock_gen_put(ref);
	return NF_ACCEPT;
}

/* Last in line (as the original): packets dropped by INPUT/OUTPUT rules are not reported. */
static const struct nf_hook_ops hone_nf_ops[] = {
	{ .hook = hone_nf_hook, .pf = NFPROTO_IPV4, .hooknum = NF_INET_LOCAL_IN, .priority = NF_IP_PRI_LAST },
	{ .hook = hone_nf_hook, .pf = NFPROTO_IPV4, .hooknum = NF_INET_LOCAL_OUT, .priority = NF_IP_PRI_LAST },
	{ .hook = hone_nf_hook, .pf = NFPROTO_IPV6, .hooknum = NF_INET_LOCAL_IN, .priority = NF_IP6_PRI_LAST },
	{ .hook = hone_nf_hook, .pf = NFPROTO_IPV6, .hooknum = NF_INET_LOCAL_OUT, .priority = NF_IP6_PRI_LAST },
};

static int __net_init hone_net_init(struct net *net)
{
	return nf_register_net_hooks(net, hone_nf_ops, ARRAY_SIZE(hone_nf_ops));
}

static void __net_exit hone_net_exit(struct net *net)
{
	nf_unregister_net_hooks(net, hone_nf_ops, ARRAY_SIZE(hone_nf_ops));
}

static struct pernet_operations hone_net_ops = {
	.init = hone_net_init,
	.exit = hone_net_exit,
};

int hone_packet_hooks_register(void)
{
	return register_pernet_subsys(&hone_net_ops);
}

void hone_packet_hooks_unregister(void)
{
	unregister_pernet_subsys(&hone_net_ops);
}
