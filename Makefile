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

.PHONY: all modules modules_install tools install install-tools host-test test demo kernel fuzz clean help

all: modules

## modules: build the five modules against KDIR (needs a kernel built with CONFIG_RUST=y)
modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=1 modules

## modules_install: install them under /lib/modules/<release>/updates and run depmod
modules_install: modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=1 modules_install
	depmod -a $$(cat $(KDIR)/include/config/kernel.release)

## tools: build the userspace tools (tools/target/release)
tools:
	$(CARGO) build --release --manifest-path tools/Cargo.toml

## install: modules_install, then install-tools
install: modules_install install-tools

## install-tools: the tools into BINDIR, the systemd unit and the logrotate file (DESTDIR honoured)
install-tools: tools
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR)/systemd/system $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	install -m 0755 $(addprefix tools/target/release/,$(TOOLS)) $(DESTDIR)$(BINDIR)/
	sed 's|@BINDIR@|$(BINDIR)|' packaging/hone.service > $(DESTDIR)$(SYSCONFDIR)/systemd/system/hone.service
	chmod 0644 $(DESTDIR)$(SYSCONFDIR)/systemd/system/hone.service
	install -m 0644 packaging/hone.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/hone

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
