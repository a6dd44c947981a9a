# SPDX-License-Identifier: LGPL-2.1-or-later
# Tests of mshare-run and mshare-stat.  test-tools.sh runs on any host (no
# msharefs needed; it uses tests/shim/fake-msharefs.so when built);
# vm-tools-tests.sh needs msharefs and runs inside the VM as root:
#   kernel/vm-run.sh --mem 2048 -- bash tests/tools/vm-tools-tests.sh
TESTS += tests/tools/test-tools.sh
dist_noinst_SCRIPTS += \
	tests/tools/test-tools.sh \
	tests/tools/vm-tools-tests.sh
# Sourced by both, not run.
EXTRA_DIST += tests/tools/tap.sh
