// SPDX-License-Identifier: GPL-2.0
/* packet_notify's C shim: the subscriber chain (a static ATOMIC_NOTIFIER_HEAD) and its exports. */

#include "../../rust/kglue/c/hone_chain.h"

HONE_DECLARE_CHAIN(packet);
HONE_DEFINE_CHAIN(packet);
HONE_EXPORT_CHAIN(packet);
