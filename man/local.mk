# SPDX-License-Identifier: LGPL-2.1-or-later
# man/: libmshare-shim(7), mshare-run(1), mshare-stat(8), written in roff.
dist_man_MANS = \
	man/libmshare-shim.7 \
	man/mshare-run.1 \
	man/mshare-stat.8
