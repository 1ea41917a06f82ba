# SPDX-License-Identifier: GPL-2.0
#
# Included by each module's Kbuild after setting hone_crate (the crate root's name under rs/).
# bindgen turns the module's c/shim.h, with the rust/kglue/c headers it includes, into checked
# Rust declarations (rs/shim_bindings.rs): Hone's own hone_* functions and types and HONE_*
# constants. Nothing else is generated (no recursion into the types they use): the crate gets
# the kernel's types from kernel::bindings, as rust/Makefile does for rust/helpers.

#
# The crate being built, for the code it shares with the other modules: an item of rust/kglue or
# rust/hone that only some of them use says which, with #[cfg(hone_crate = "...")], so that each
# crate holds (and the compiler checks for dead code) only what it uses. rust/hone is also the
# host library of the tools, for which hone_kernel is not set: `not(hone_kernel)` is its own.
rustflags-y += --cfg hone_kernel --cfg 'hone_crate="$(hone_crate)"'

#
# The kernel's Rust API as the tree being built against has it: one cfg per change since 6.12,
# named for what it is, set when the tree's version is at least the one that made the change.
# Only rust/kglue reads them; the modules see one API.
hone_kernel_code := $(shell echo $$(( $(VERSION) * 256 + $(PATCHLEVEL) )))
hone_since = $(if $(shell [ $(hone_kernel_code) -ge $$(( $(1) )) ] && echo y),--cfg $(2))
# lock::Backend requires try_lock (6.13) and assert_is_held (6.14).
rustflags-y += $(call hone_since,6 * 256 + 13,hone_lock_try_lock)
rustflags-y += $(call hone_since,6 * 256 + 14,hone_lock_assert_is_held)
# module! lists `authors: [..]` (6.15; `author` is gone in 6.17).
rustflags-y += $(call hone_since,6 * 256 + 15,hone_module_authors)
# KVec::set_len is replaced by inc_len and truncate (6.16).
rustflags-y += $(call hone_since,6 * 256 + 16,hone_kvec_truncate)
# uaccess::UserPtr is a type of its own, made with UserPtr::from_addr (6.17).
rustflags-y += $(call hone_since,6 * 256 + 17,hone_user_ptr_type)

#
# libclang parses the header with the kernel's C flags. A GCC-built kernel's flags need the same
# adjustment the kernel's rust/Makefile (7.3) makes for its own bindings: drop what libclang
# does not know, silence warnings, name the target.
ifdef CONFIG_CC_IS_CLANG
hone_bindgen_c_flags = $(c_flags)
else
hone_bindgen_skip_c_flags := -mno-fp-ret-in-387 -mpreferred-stack-boundary=% \
	-mskip-rax-setup -mgeneral-regs-only -msign-return-address=% \
	-mindirect-branch=thunk-extern -mindirect-branch-register \
	-mfunction-return=thunk-extern -mrecord-mcount -mabi=lp64 \
	-mindirect-branch-cs-prefix -mstack-protector-guard% -mtraceback=no \
	-mno-pointers-to-nested-functions -mno-string \
	-mno-strict-align -mstrict-align -mdirect-extern-access \
	-mexplicit-relocs -mno-check-zero-division \
	-fconserve-stack -falign-jumps=% -falign-loops=% \
	-femit-struct-debug-baseonly -fno-ipa-cp-clone -fno-ipa-sra \
	-fno-partial-inlining -fplugin-arg-arm_ssp_per_task_plugin-% \
	-fno-reorder-blocks -fno-allow-store-data-races -fasan-shadow-offset=% \
	-fzero-call-used-regs=% -fno-stack-clash-protection \
	-fno-inline-functions-called-once -fsanitize=bounds-strict \
	-fstrict-flex-arrays=% -fmin-function-alignment=% \
	-fzero-init-padding-bits=% -mno-fdpic \
	-fdiagnostics-show-context -fdiagnostics-show-context=% \
	--param=% --param asan-% -fno-isolate-erroneous-paths-dereference \
	-ffixed-r2 -mmultiple -mno-readonly-in-sdata
hone_bindgen_target_x86 := x86_64-linux-gnu
hone_bindgen_target_arm64 := aarch64-linux-gnu
hone_bindgen_target_loongarch := loongarch64-linux-gnusf
hone_bindgen_c_flags = $(filter-out $(hone_bindgen_skip_c_flags), $(c_flags)) \
	-w --target=$(hone_bindgen_target_$(SRCARCH))
ifdef CONFIG_INIT_STACK_ALL_ZERO
# libclang before 16 wants this with -ftrivial-auto-var-init=zero (llvm-project#44842).
hone_libclang_major = $(shell $(BINDGEN) $(srctree)/scripts/rust_is_available_bindgen_libclang.h 2>&1 \
	| sed -ne 's/.*clang version \([0-9]*\).*/\1/p')
ifeq ($(shell expr $(hone_libclang_major) \< 16), 1)
hone_bindgen_c_flags += -enable-trivial-auto-var-init-zero-knowing-it-will-be-removed-from-clang
endif
endif
endif

quiet_cmd_hone_bindgen = BINDGEN $@
      cmd_hone_bindgen = $(BINDGEN) $< --rust-target 1.68 --formatter none --use-core --with-derive-default \
	--ctypes-prefix ffi --no-layout-tests --no-debug '.*' --enable-function-attribute-detection \
	--allowlist-type 'hone_.*' --no-recursive-allowlist --allowlist-var 'HONE_.*' --allowlist-function 'hone_.*' \
	-o $@ -- $(hone_bindgen_c_flags) -fno-builtin -D__BINDGEN__ -DMODULE

$(obj)/rs/shim_bindings.rs: $(src)/c/shim.h $(wildcard $(src)/../rust/kglue/c/*.h) FORCE
	$(call if_changed_dep,hone_bindgen)

targets += rs/shim_bindings.rs
$(obj)/rs/$(hone_crate).o: $(obj)/rs/shim_bindings.rs
