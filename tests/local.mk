# Order matters: host-side suites first, the VM suite (slow) last.
include $(srcdir)/tests/shim/local.mk
include $(srcdir)/tests/kernel/local.mk
include $(srcdir)/tests/tools/local.mk
include $(srcdir)/tests/conf/local.mk
include $(srcdir)/tests/bench/local.mk
include $(srcdir)/tests/vm/local.mk

# TAP helpers sourced by the shell test scripts, not run.
EXTRA_DIST += tests/tap.sh
