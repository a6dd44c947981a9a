# SPDX-License-Identifier: LGPL-2.1-or-later
# The VM suite: builds the patched kernel (kernel/build.sh), boots it in QEMU
# (kernel/vm-run.sh) and runs the kernel selftests, the shim's VM tests, a
# subset of the kernel's own mm selftests and the VmPTE demo inside it, on the
# default and on the debug kernel. It is one TAP producer; skip it with
# `./configure --disable-vm-tests` or `make check MSHARE_VM_TESTS=0`.
#
# automake builds check_PROGRAMS (msharefs-selftest, mshare-ptdemo) before it
# runs TESTS, so the guest programs exist when this suite starts.

TESTS += tests/vm/kernel-suite.sh

dist_noinst_SCRIPTS += \
	tests/vm/kernel-suite.sh \
	tests/vm/mm-selftests.sh \
	tests/vm/mm-selftests-guest.sh \
	tests/vm/main-job-guest.sh \
	tests/vm/main-job-connections.sh \
	tests/vm/main-job-oom.sh \
	tests/vm/pg-debian-guest.sh \
	tests/vm/shared-tables.sh

EXTRA_DIST += \
	tests/vm/mm-selftests.list \
	run-all-tests \
	run-main-job \
	.ci/run \
	README.md \
	COPYING

# PostgreSQL's own regression suite (pg_regress, parallel_schedule from the
# postgresql-15 source package) against a server under the shim, sysv and
# mmap, compared with the same server without it: make pg-regress. Not part
# of make check: one configuration takes about a minute of pg_regress on
# the host and many times that under TCG (see README). The first run needs
# root and apt: it adds a deb-src entry and installs postgresql-server-dev-15
# (scripts/pg-regress-prepare.sh).
# PG_REGRESS_CONFIGS picks configurations (default: all four).
PG_REGRESS_CONFIGS =
pg-regress: all
	$(top_srcdir)/scripts/pg-regress-prepare.sh '$(abs_top_builddir)/pg-regress'
	cd / && MSHARE_TOP_SRCDIR='$(abs_top_srcdir)' MSHARE_TOP_BUILDDIR='$(abs_top_builddir)' \
		MSHARE_VM_BIND='$(abs_top_builddir)' \
		'$(abs_top_srcdir)/kernel/vm-run.sh' --timeout 14400 --mem 4096 -- \
		bash '$(abs_top_srcdir)/tests/vm/pg-regress-guest.sh' '$(abs_top_builddir)/pg-regress' \
		$(PG_REGRESS_CONFIGS)
.PHONY: pg-regress
dist_noinst_SCRIPTS += \
	scripts/pg-regress-prepare.sh \
	tests/vm/pg-regress-guest.sh

# The reclaim/compaction torture for ten minutes per run instead of the
# 30 seconds of make check, on both kernels (the rest of the VM suite too).
torture-long: all
	$(MAKE) check TESTS=tests/vm/kernel-suite.sh MSHARE_TORTURE_SECONDS=600
.PHONY: torture-long
