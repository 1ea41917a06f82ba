# SPDX-License-Identifier: GPL-2.0
#
# Hone: `make` builds the five modules against KDIR; `make test` and `make demo` build and boot
# their own test kernel (see README.md). The module list itself is in Kbuild.

KDIR ?= /lib/modules/$(shell uname -r)/build
CARGO ?= cargo
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
TOOLS := hone-read hone-dump hone-stats

FUZZ_SECONDS ?= 60
FUZZ_TARGETS := dump decode

.PHONY: all rust-check modules modules_install tools install install-tools host-test test demo kernel fuzz clean help

all: modules

## modules: build the five modules against KDIR (needs a kernel built with CONFIG_RUST=y)
modules: rust-check
	$(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=1 modules

# A kernel without Rust support gets one clear sentence instead of a compiler dump.
rust-check:
	@test -f $(KDIR)/include/config/auto.conf || { \
		echo "hone: $(KDIR) is not a configured kernel build tree (set KDIR)" >&2; exit 1; }
	@grep -q '^CONFIG_RUST=y' $(KDIR)/include/config/auto.conf || { \
		echo "hone: the kernel in $(KDIR) is built without CONFIG_RUST=y; Hone's modules are Rust and need it" >&2; exit 1; }
	@test -f $(KDIR)/rust/libkernel.rmeta || { \
		echo "hone: $(KDIR) has no Rust artefacts (rust/libkernel.rmeta): run 'make modules_prepare' in it" >&2; exit 1; }

## modules_install: install them under /lib/modules/<release>/updates and run depmod
modules_install: modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=1 modules_install
	depmod -a $$(cat $(KDIR)/include/config/kernel.release)

## tools: build the userspace tools (tools/target/release)
tools:
	$(CARGO) build --release --manifest-path tools/Cargo.toml

## install: modules_install, then install-tools
install: modules_install install-tools

## install-tools: the tools into BINDIR, the systemd unit, logrotate file and udev rule (DESTDIR honoured)
install-tools: tools
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR)/systemd/system $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	install -m 0755 $(addprefix tools/target/release/,$(TOOLS)) $(DESTDIR)$(BINDIR)/
	sed 's|@BINDIR@|$(BINDIR)|' packaging/hone.service > $(DESTDIR)$(SYSCONFDIR)/systemd/system/hone.service
	chmod 0644 $(DESTDIR)$(SYSCONFDIR)/systemd/system/hone.service
	install -m 0644 packaging/hone.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/hone
	install -d $(DESTDIR)$(SYSCONFDIR)/udev/rules.d
	install -m 0644 packaging/60-hone.rules $(DESTDIR)$(SYSCONFDIR)/udev/rules.d/60-hone.rules

## host-test: run the host (cargo) tests only
host-test:
	$(CARGO) test --manifest-path rust/hone/Cargo.toml
	$(CARGO) test --manifest-path tools/Cargo.toml

## test: install what is missing, build the test kernel, run host and in-VM tests
test:
	scripts/test.sh

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
	if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=1 clean; fi
	$(CARGO) clean --manifest-path rust/hone/Cargo.toml
	$(CARGO) clean --manifest-path tools/Cargo.toml

help:
	@sed -n 's/^## //p' Makefile
