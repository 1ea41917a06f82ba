/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A notifier module's subscriber chain: an atomic (RCU) notifier chain.
 * HONE_DEFINE_CHAIN(process) defines hone_process_register(), hone_process_unregister(),
 * hone_process_call() and hone_process_has_subscribers(); HONE_EXPORT_CHAIN(process) exports
 * the first two to other modules (hone_interface.h declares them for the modules that use them).
 * Subscribers are called in the context of the event (possibly atomic); unregister waits for
 * running callbacks (synchronize_rcu), so it must be called from process context.
 */
#ifndef HONE_CHAIN_H
#define HONE_CHAIN_H

struct notifier_block;

#define HONE_DECLARE_CHAIN(name)						\
	int hone_##name##_register(struct notifier_block *nb);		\
	int hone_##name##_unregister(struct notifier_block *nb);	\
	int hone_##name##_call(void *event);				\
	bool hone_##name##_has_subscribers(void)

#ifndef __BINDGEN__
#include <linux/export.h>
#include <linux/notifier.h>
#include <linux/rcupdate.h>

#define HONE_DEFINE_CHAIN(name)						\
	static ATOMIC_NOTIFIER_HEAD(hone_##name##_chain);		\
	int hone_##name##_register(struct notifier_block *nb)		\
	{								\
		return atomic_notifier_chain_register(&hone_##name##_chain, nb); \
	}								\
	int hone_##name##_unregister(struct notifier_block *nb)	\
	{								\
		return atomic_notifier_chain_unregister(&hone_##name##_chain, nb); \
	}								\
	int hone_##name##_call(void *event)				\
	{								\
		return atomic_notifier_call_chain(&hone_##name##_chain, 0, event); \
	}								\
	bool hone_##name##_has_subscribers(void)			\
	{								\
		return rcu_access_pointer(hone_##name##_chain.head) != NULL; \
	}

#define HONE_EXPORT_CHAIN(name)						\
	EXPORT_SYMBOL_GPL(hone_##name##_register);			\
	EXPORT_SYMBOL_GPL(hone_##name##_unregister)
#endif

#endif
