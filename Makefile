# SPDX-License-Identifier: GPL-2.0
#
# Hone: `make` builds the five modules against KDIR; `make test` and `make demo` build and boot
# their own test kernel (see README.md). The module list itself is in Kbuild.

KDIR ?= /lib/modules/$(shell uname -r)/build
CARGO ?= cargo
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
UNITDIR ?= $(SYSCONFDIR)/systemd/system
UDEVRULESDIR ?= $(SYSCONFDIR)/udev/rules.d
DOCDIR ?= $(PREFIX)/share/doc/hone
TOOLS := hone-read hone-dump hone-stats
# Where cargo puts the tools (it honours CARGO_TARGET_DIR).
TOOLS_BUILD := $(or $(CARGO_TARGET_DIR),tools/target)/release

# The one place versions come from (modules, tools, dkms, deb, rpm).
HONE_VERSION := $(shell cat $(CURDIR)/VERSION)
DKMS_SRCDIR ?= /usr/src/hone-$(HONE_VERSION)
# What a module build needs: the files `make modules` reads, for the dkms source tree.
MODULE_DIRS := $(patsubst %/,%,$(shell sed -n 's/^obj-m := //p' $(CURDIR)/Kbuild))
KERNEL_SOURCES := Kbuild Makefile VERSION COPYING \
	$(foreach d,$(MODULE_DIRS),$(d)/Kbuild $(wildcard $(d)/c/*.[ch]) $(filter-out %/shim_bindings.rs,$(wildcard $(d)/rs/*.rs))) \
	$(wildcard rust/hone/src/*.rs rust/kglue/*.rs rust/kglue/*.mk rust/kglue/c/*.[ch]) scripts/rust-tree.sh

FUZZ_SECONDS ?= 60
FUZZ_TARGETS := dump decode encode params ring tally keep

.PHONY: all check-kernel modules modules_install tools install install-tools install-dkms-source deb rpm \
	host-test test test-hardened test-packaging stress bench demo kernel fuzz clean help

all: modules

# C must be compiled the way the kernel was: LLVM=1 for a clang-built kernel, GCC otherwise.
KBUILD_CC := $(if $(shell grep -s '^CONFIG_CC_IS_CLANG=y' $(KDIR)/.config),LLVM=1)

## modules: build the five modules against KDIR (needs a kernel built with CONFIG_RUST=y); a
##   Debian headers tree without the kernel's Rust artefacts gets them made once, from the
##   kernel's linux-source (scripts/rust-tree.sh)
modules:
	@tree=$$(bash $(CURDIR)/scripts/rust-tree.sh $(KDIR)) && \
		$(MAKE) -C $$tree M=$(CURDIR) $(KBUILD_CC) modules

## check-kernel: say in plain words whether the modules can be built for KDIR, and what is missing
check-kernel:
	@bash $(CURDIR)/scripts/rust-tree.sh $(KDIR) --check >/dev/null

## modules_install: install them under /lib/modules/<release>/updates and run depmod
modules_install: modules
	@tree=$$(bash $(CURDIR)/scripts/rust-tree.sh $(KDIR)) && \
		$(MAKE) -C $$tree M=$(CURDIR) $(KBUILD_CC) modules_install
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) -a $$(cat $(KDIR)/include/config/kernel.release)

## tools: build the userspace tools (tools/target/release)
tools:
	$(CARGO) build --release --manifest-path tools/Cargo.toml

## install: modules_install, then install-tools
install: modules_install install-tools

## install-tools: the tools into BINDIR, the systemd unit (UNITDIR), logrotate file, udev rule
##   (UDEVRULESDIR) and README (DOCDIR); DESTDIR honoured. Without DESTDIR it also creates the
##   `hone` group the udev rule names.
install-tools: tools
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/logrotate.d \
		$(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(DOCDIR)
	install -m 0755 $(addprefix $(TOOLS_BUILD)/,$(TOOLS)) $(DESTDIR)$(BINDIR)/
	sed -e 's|@BINDIR@|$(BINDIR)|' -e 's|@DOCDIR@|$(DOCDIR)|' packaging/hone.service > $(DESTDIR)$(UNITDIR)/hone.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/hone.service
	install -m 0644 packaging/hone.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/hone
	install -m 0644 packaging/60-hone.rules $(DESTDIR)$(UDEVRULESDIR)/60-hone.rules
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	$(if $(DESTDIR),,getent group hone >/dev/null || groupadd -r hone)

## install-dkms-source: the module sources and dkms.conf into DKMS_SRCDIR (/usr/src/hone-VERSION);
##   then `dkms install -m hone -v VERSION` builds and installs them for a kernel
install-dkms-source:
	for f in $(KERNEL_SOURCES); do install -D -m $$(test -x $$f && echo 0755 || echo 0644) $$f \
		$(DESTDIR)$(DKMS_SRCDIR)/$$f || exit 1; done
	sed 's/#MODULE_VERSION#/$(HONE_VERSION)/' dkms.conf > $(DESTDIR)$(DKMS_SRCDIR)/dkms.conf

## deb: build the hone-dkms and hone-tools .deb packages into dist/
deb:
	scripts/package.sh deb

## rpm: build the hone-dkms and hone-tools .rpm packages into dist/
rpm:
	scripts/package.sh rpm

## host-test: run the host (cargo) tests only
host-test:
	$(CARGO) test --manifest-path rust/hone/Cargo.toml
	$(CARGO) test --manifest-path tools/Cargo.toml

## test: install what is missing, build the test kernel, run host and in-VM tests
test:
	scripts/test.sh

## test-hardened: the in-VM suites on a debug build of Debian 13's stock kernel source (7.3, with
##   trixie's toolchain) with KASAN, UBSAN, lockdep and kmemleak; fails on any report in the kernel log
test-hardened:
	scripts/test-hardened.sh

## stress: STRESS_CYCLES (1000) load/unload cycles under traffic, namespace churn, fork storms
##   and readers killed mid-read; then leak, slab and kernel-log checks (STRESS_SEED repeats a run)
stress:
	scripts/stress.sh

## bench: Hone's cost per packet next to no capture and tcpdump (table + BENCH_JSON, see BENCHMARKS.md)
bench:
	scripts/bench.sh

## test-packaging: build and lint both package formats, dkms-build against the test kernel
test-packaging:
	scripts/test-packaging.sh

## demo: boot the test VM and watch Hone capture live
demo:
	scripts/demo.sh

## fuzz: run each cargo-fuzz target (tools/fuzz) for FUZZ_SECONDS seconds; installs cargo-fuzz
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install --locked cargo-fuzz
	for t in $(FUZZ_TARGETS); do \
		mkdir -p tools/fuzz/corpus/$$t && \
		RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -s none --fuzz-dir tools/fuzz $$t tools/fuzz/corpus/$$t tools/fuzz/seeds \
			-- -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done

## kernel: build (or find in the cache) the Rust-enabled test kernel; prints its build dir
kernel:
	scripts/kernel.sh

clean:
	if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) $(KBUILD_CC) clean; fi
	$(CARGO) clean --manifest-path rust/hone/Cargo.toml
	$(CARGO) clean --manifest-path tools/Cargo.toml

help:
	@sed -n 's/^## //p' Makefile
