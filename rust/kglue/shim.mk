# SPDX-License-Identifier: GPL-2.0
#
# Included by each module's Kbuild after setting hone_crate (the crate root's name under rs/).
# bindgen turns the module's c/shim.h into checked Rust prototypes (rs/shim_bindings.rs). Every
# type is blocklisted: the crate gets them from kernel::bindings (the recipe rust/Makefile uses
# for rust/helpers), so only the shim's own hone_* functions are generated.

quiet_cmd_hone_bindgen = BINDGEN $@
      cmd_hone_bindgen = $(BINDGEN) $< --rust-target 1.68 --use-core --with-derive-default \
	--ctypes-prefix ffi --no-layout-tests --no-debug '.*' --enable-function-attribute-detection \
	--blocklist-type '.*' --allowlist-var '' --allowlist-function 'hone_.*' \
	-o $@ -- $(c_flags) -fno-builtin -D__BINDGEN__ -DMODULE

$(obj)/rs/shim_bindings.rs: $(src)/c/shim.h $(src)/../rust/kglue/c/hone_glue.h $(src)/../rust/kglue/c/hone_chain.h FORCE
	$(call if_changed_dep,hone_bindgen)

targets += rs/shim_bindings.rs
$(obj)/rs/$(hone_crate).o: $(obj)/rs/shim_bindings.rs
