# SPDX-License-Identifier: GPL-2.0
#
# xtcp top-level Makefile.  Kbuild (the module's own build) lives in Kbuild.
#
#   make                build xtcp.ko (below) and the preload library
#   make preload        build/preload/libxtcp-preload.so (scripts/xtcp-run)
#   make [modules]      build xtcp.ko: for the running kernel when its headers
#                       are installed (/lib/modules/$(uname -r)/build), else
#                       for every test-VM kernel series (6.1 and 6.12) into
#                       build/<series>/xtcp.ko
#   make KVER=6.1       one test-VM series (6.1 or 6.12) -> build/<series>/
#   make KVER=<release> a kernel release   -> build/<release>/xtcp.ko
#   make KDIR=<dir>     a kernel build dir -> build/custom/xtcp.ko
#   make W=1 C=2 ...    passed to Kbuild (extra warnings, sparse)
#   make selftests      build the selftests into build/selftests/ (lib.mk),
#                       and install them with the kernel's kselftest
#                       Makefile into build/kselftest/ (run_kselftest.sh)
#   make deps           install build and test dependencies (scripts/deps)
#   make check          deps, build, run the selftests in the VM on each series
#   make check-debug    build (once) the sanitizer kernel from Debian sid's
#                       newest linux-source, xtcp against it, run the suite
#                       with the debug lane's sizes and a kmemleak scan
#   make demo           deps, build, run scripts/demo in the VM
#                       (SCENARIO=two-hosts: scripts/check-wire --demo)
#   make check-wire     the two-host lane: two VMs (6.12, 6.1) on a virtual
#                       wire with a router and a 1280-MTU link (scripts/check-wire)
#   make bench [KERNEL=6.12] [BENCH_QUICK=1] [BENCH_ROUNDS=N] ...
#                       xtcp vs Linux TCP in the VM (bench/run): a table;
#                       every BENCH_* variable is passed to bench/run
#   make vm [KERNEL=6.12]  interactive shell in the test VM with xtcp loaded
#   make style          checkpatch --strict and sparse on the module
#   make install        modules_install + depmod for the selected kernel
#   make deb            the xtcp-dkms Debian package in build/deb/ (scripts/mkdeb)
#   make deb-check      install that package in the test VM (DKMS build, modprobe)
#   make clean
#
# Every kernel gets its own output directory, populated with symlinks to
# Kbuild, module/ and include/, so one source tree builds for several
# kernels side by side.

SERIES  := $(shell scripts/kernels)
KERNEL  ?= 6.12
OUT_ROOT := $(CURDIR)/build
KBUILD_ARGS := $(if $(W),W=$(W)) $(if $(C),C=$(C)) $(if $(V),V=$(V))

# Which kernels a plain "make" builds: "series" (the test VM kernels) or
# one output directory OUT with kernel build directory KDIR.
ifneq ($(KDIR),)
  OUT := $(OUT_ROOT)/$(or $(KVER),custom)
else ifneq ($(filter $(KVER),$(SERIES)),)
  SELECTED := $(KVER)
else ifneq ($(KVER),)
  KDIR := /lib/modules/$(KVER)/build
  OUT := $(OUT_ROOT)/$(KVER)
else ifneq ($(wildcard /lib/modules/$(shell uname -r)/build/Makefile),)
  KVER := $(shell uname -r)
  KDIR := /lib/modules/$(KVER)/build
  OUT := $(OUT_ROOT)/$(KVER)
else
  SELECTED := $(SERIES)
endif

# $(call kbuild,OUTDIR,KDIR,TARGET)
define kbuild
	@mkdir -p $(1)
	@cp -rs --remove-destination $(CURDIR)/Kbuild $(CURDIR)/module \
		$(CURDIR)/include $(1)/
	$(MAKE) -C $(2) M=$(1) $(KBUILD_ARGS) $(3)
endef

.PHONY: all modules clean install deps check check-debug modules-debug \
	demo style vm selftests check-wire bench preload install-tools deb deb-check \
	$(addprefix modules-,$(SERIES))

all: modules preload

PRELOAD := $(OUT_ROOT)/preload/libxtcp-preload.so
preload: $(PRELOAD)
$(PRELOAD): scripts/preload/xtcp-preload.c include/uapi/linux/xtcp.h
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -O2 -g -Wall -Wextra \
		-I$(CURDIR)/include/uapi -o $@ $< -ldl -lpthread

# The xtcp-dkms package: module source for DKMS, the user tools, docs.
deb: preload
	scripts/mkdeb

# The package installed in the VM: dpkg -i, DKMS build, modprobe, one
# connection (scripts/deb-test; about 7 minutes in multi-threaded TCG).
# DKMS comes from the host (the guest sees its root); only this lane
# needs it, so only this lane installs it.
deb-check: deps deb
	command -v dkms >/dev/null || \
		apt-get install -y --no-install-recommends dkms >/dev/null
	$(MAKE) modules-$(KERNEL) selftests
	VM_ACCEL=$${VM_ACCEL:-tcg,thread=multi} \
	scripts/vm --kernel $(KERNEL) --timeout 3600 -- scripts/deb-test

# The user tools, for "make install": the preload library and its launcher.
PREFIX ?= /usr/local
install-tools: preload
	install -D -m 0644 $(PRELOAD) $(DESTDIR)$(PREFIX)/lib/xtcp/libxtcp-preload.so
	install -D -m 0755 scripts/xtcp-run $(DESTDIR)$(PREFIX)/bin/xtcp-run

ifdef OUT
modules:
	$(call kbuild,$(OUT),$(KDIR),modules)

install: modules install-tools
	$(MAKE) -C $(KDIR) M=$(OUT) modules_install
	depmod -a $(KVER)
else
modules: $(addprefix modules-,$(SELECTED))

install:
	@echo "make install: no headers for the running kernel;" \
	      "use KVER=<release> or KDIR=<dir>" >&2; exit 1
endif

$(addprefix modules-,$(SERIES)): modules-%:
	$(call kbuild,$(OUT_ROOT)/$*,$$(scripts/kernels $* kdir),modules)

# The kselftest machinery of linux-source (scripts/deps puts it in
# .cache/ksft/linux) as a kernel tree of this checkout's own in build/linux,
# with selftests/ linked in as tools/testing/selftests/net/xtcp; the
# kernel's install puts the target, run_kselftest.sh and kselftest-list.txt
# into build/kselftest/.
KSFT_SRC := $(CURDIR)/.cache/ksft/linux
KTREE := $(OUT_ROOT)/linux
KSFT_TOPFILES := Makefile lib.mk kselftest kselftest.h kselftest_harness.h \
	kselftest_install.sh run_kselftest.sh

selftests:
	$(MAKE) -C selftests
	$(MAKE) -C bench
	@mkdir -p $(KTREE)/tools/testing/selftests/net
	@cp -rs --remove-destination $(KSFT_SRC)/scripts $(KTREE)/
	@cp -rs --remove-destination \
		$(addprefix $(KSFT_SRC)/tools/testing/selftests/,$(KSFT_TOPFILES)) \
		$(KTREE)/tools/testing/selftests/
	@ln -sfn $(CURDIR)/selftests $(KTREE)/tools/testing/selftests/net/xtcp
	$(MAKE) -C $(KTREE)/tools/testing/selftests TARGETS=net/xtcp \
		O=$(OUT_ROOT)/ksft KSFT_INSTALL_PATH=$(OUT_ROOT)/kselftest install

deps:
	scripts/deps

check: deps
	$(MAKE) $(addprefix modules-,$(SERIES)) selftests preload
	CHECK_WIRE=$${CHECK_WIRE:-1} scripts/check

# Left out of the debug lane: their subject is a user-space tool (the
# documentation checker, the tshark dissector, the ladder renderer, the
# bench driver); the module paths they drive are the other tests' too,
# and make check runs them on 6.1 and 6.12.
DEBUG_EXCLUDE := docs.sh dissector.sh ladder.sh bench.sh

modules-debug:
	scripts/debug-kernel
	$(call kbuild,$(OUT_ROOT)/debug,$$(scripts/kernels debug kdir),modules)

check-debug: deps
	$(MAKE) modules-debug selftests preload
	CHECK_KERNELS=debug CHECK_SHARDS=$${CHECK_SHARDS:-2} \
	CHECK_TIMEOUT=$${CHECK_TIMEOUT:-3600} \
	CHECK_EXCLUDE="$${CHECK_EXCLUDE-$(DEBUG_EXCLUDE)}" scripts/check

ifeq ($(SCENARIO),two-hosts)
demo: deps
	$(MAKE) $(addprefix modules-,$(SERIES)) selftests
	scripts/check-wire --demo
else
demo: deps
	$(MAKE) modules-$(KERNEL) selftests preload
	scripts/vm --kernel $(KERNEL) -- scripts/demo $(SCENARIO)
endif

check-wire: deps
	$(MAKE) $(addprefix modules-,$(SERIES)) selftests
	scripts/check-wire

bench: deps
	$(MAKE) modules-$(KERNEL)
	$(MAKE) -C bench
	VM_ACCEL=$${VM_ACCEL:-tcg,thread=multi} \
	scripts/vm --kernel $(KERNEL) --timeout 7200 -- \
		env $(foreach v,$(filter BENCH_%,$(.VARIABLES)),'$(v)=$($(v))') \
		bench/run

vm: modules-$(KERNEL) selftests
	scripts/vm --kernel $(KERNEL)

style:
	scripts/style

clean:
	rm -rf $(OUT_ROOT)
