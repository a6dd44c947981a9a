# SPDX-License-Identifier: LGPL-2.1-or-later
# man/: libmshare-shim(7), mshare-run(1), mshare-stat(8), written in roff.
# The sources show the default prefix; man/installed/ gets the configured
# paths (installed_paths_subst in Makefile.am) and is what is installed.
EXTRA_DIST += \
	man/libmshare-shim.7 \
	man/mshare-run.1 \
	man/mshare-stat.8
man_MANS = \
	man/installed/libmshare-shim.7 \
	man/installed/mshare-run.1 \
	man/installed/mshare-stat.8
CLEANFILES += $(man_MANS)
man/installed/libmshare-shim.7: $(srcdir)/man/libmshare-shim.7 Makefile
	$(AM_V_GEN)$(installed_paths_recipe)
man/installed/mshare-run.1: $(srcdir)/man/mshare-run.1 Makefile
	$(AM_V_GEN)$(installed_paths_recipe)
man/installed/mshare-stat.8: $(srcdir)/man/mshare-stat.8 Makefile
	$(AM_V_GEN)$(installed_paths_recipe)
