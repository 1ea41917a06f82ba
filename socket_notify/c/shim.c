// SPDX-License-Identifier: GPL-2.0
/* socket_notify's C shim: the subscriber chain (a static ATOMIC_NOTIFIER_HEAD) and its exports. */

#include "../../rust/kglue/c/hone_chain.h"

HONE_DECLARE_CHAIN(socket);
HONE_DEFINE_CHAIN(socket);
HONE_EXPORT_CHAIN(socket);
