// SPDX-License-Identifier: GPL-2.0
/* socket_notify's C shim; see shim.h. */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/sched/task.h>
#include <net/sock.h>

#include "../../rust/kglue/c/hone_glue.c"
#include "shim.h"

HONE_DEFINE_CHAIN(socket);
HONE_EXPORT_CHAIN(socket);

/* A kretprobe instance remembers the struct socket the probed call fills in. */
struct socket_arg {
	struct socket *sock;
};

static int save_second_arg(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct socket_arg *arg = (struct socket_arg *)ri->data;

	/* inet_create(net, sock, ...), inet6_create(net, sock, ...), inet_accept(sock, newsock, ...) */
	arg->sock = (struct socket *)regs_get_kernel_argument(regs, 1);
	return 0;
}

static int opened(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct socket_arg *arg = (struct socket_arg *)ri->data;

	if (regs_return_value(regs) == 0 && arg->sock && arg->sock->sk && hone_socket_has_subscribers())
		hone_socket_changed(arg->sock->sk, HONE_SOCKET_OPENED);
	return 0;
}

static struct kretprobe create_probe = {
	.kp.symbol_name = "inet_create",
	.entry_handler = save_second_arg,
	.handler = opened,
	.data_size = sizeof(struct socket_arg),
	.maxactive = 64,
};

static struct kretprobe create6_probe = {
	.kp.symbol_name = "inet6_create",
	.entry_handler = save_second_arg,
	.handler = opened,
	.data_size = sizeof(struct socket_arg),
	.maxactive = 64,
};

/* Every thread blocked in accept() holds an instance until a connection arrives. */
static struct kretprobe accept_probe = {
	.kp.symbol_name = "inet_accept",
	.entry_handler = save_second_arg,
	.handler = opened,
	.data_size = sizeof(struct socket_arg),
	.maxactive = 1024,
};

static struct kretprobe *kretprobes[] = { &create_probe, &create6_probe, &accept_probe };

static int released(struct kprobe *p, struct pt_regs *regs)
{
	struct socket *sock = (struct socket *)regs_get_kernel_argument(regs, 0);

	if (sock && sock->sk && hone_socket_has_subscribers())
		hone_socket_changed(sock->sk, HONE_SOCKET_CLOSED);
	return 0;
}

static int destructed(struct kprobe *p, struct pt_regs *regs)
{
	struct sock *sk = (struct sock *)regs_get_kernel_argument(regs, 0);

	if (sk && hone_socket_has_subscribers())
		hone_socket_changed(sk, HONE_SOCKET_DESTROYED);
	return 0;
}

static struct kprobe release_probe = { .symbol_name = "inet_release", .pre_handler = released };
static struct kprobe destruct_probe = { .symbol_name = "inet_sock_destruct", .pre_handler = destructed };
static struct kprobe *kprobes[] = { &release_probe, &destruct_probe };

int hone_socket_probes_register(void)
{
	int ret = register_kretprobes(kretprobes, ARRAY_SIZE(kretprobes));

	if (ret)
		return ret;
	ret = register_kprobes(kprobes, ARRAY_SIZE(kprobes));
	if (ret)
		unregister_kretprobes(kretprobes, ARRAY_SIZE(kretprobes));
	return ret;
}

static unsigned long probes_missed(void)
{
	unsigned long n = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(kretprobes); i++)
		n += kretprobes[i]->nmissed + kretprobes[i]->kp.nmissed;
	for (i = 0; i < ARRAY_SIZE(kprobes); i++)
		n += kprobes[i]->nmissed;
	return n;
}

void hone_socket_probes_unregister(void)
{
	unsigned long missed;

	unregister_kprobes(kprobes, ARRAY_SIZE(kprobes));
	unregister_kretprobes(kretprobes, ARRAY_SIZE(kretprobes));
	missed = probes_missed();
	if (missed)
		pr_warn("%lu socket events were missed by the kprobes\n", missed);
}

struct snapshot_walk {
	void (*visit)(void *data, struct sock *sk);
	void *data;
};

static int snapshot_fd(const void *priv, struct file *file, unsigned int fd)
{
	const struct snapshot_walk *w = priv;
	struct socket *sock = sock_from_file(file);

	if (sock && sock->sk && hone_sock_is_user_inet(sock->sk))
		w->visit(w->data, sock->sk);
	return 0;
}

int hone_socket_snapshot(struct task_struct *task, void (*visit)(void *data, struct sock *sk), void *data)
{
	struct snapshot_walk w = { .visit = visit, .data = data };

	task_lock(task);
	if (task->files)
		iterate_fd(task->files, 0, snapshot_fd, &w);
	task_unlock(task);
	return 0;
}
EXPORT_SYMBOL_GPL(hone_socket_snapshot);
