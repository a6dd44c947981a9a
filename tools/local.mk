# SPDX-License-Identifier: LGPL-2.1-or-later
# tools/: mshare-run(1), the launcher, and mshare-stat(8), the status and
# garbage-collection tool.

# mshare-run is a bash script; the installed paths of the library and of the
# profiles are substituted at build time (they follow --prefix/--libdir and
# may be overridden at `make` time, so configure cannot do it).
bin_SCRIPTS = tools/mshare-run
CLEANFILES += tools/mshare-run
EXTRA_DIST += tools/mshare-run.in
tools_subst = sed \
	-e 's|@VERSION[@]|$(VERSION)|g' \
	-e 's|@libdir[@]|$(libdir)|g' \
	-e 's|@pkgsysconfdir[@]|$(pkgsysconfdir)|g' \
	-e 's|@pkgdatadir[@]|$(pkgdatadir)|g' \
	-e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g'
tools/mshare-run: $(srcdir)/tools/mshare-run.in Makefile
	$(AM_V_GEN)$(MKDIR_P) tools && rm -f $@ $@.tmp && \
	$(tools_subst) $(srcdir)/tools/mshare-run.in >$@.tmp && \
	chmod +x,a-w $@.tmp && mv -f $@.tmp $@

# mshare-run's checks, on the shim's own configuration parser (the core
# convenience library, linked in statically).
pkglibexec_PROGRAMS = tools/mshare-preflight
tools_mshare_preflight_SOURCES = tools/mshare-preflight.c
tools_mshare_preflight_CPPFLAGS = $(AM_CPPFLAGS) $(shim_cppflags)
tools_mshare_preflight_LDADD = shim/libmshare-shim-core.la

sbin_PROGRAMS += tools/mshare-stat
tools_mshare_stat_SOURCES = \
	tools/mshare-stat.c tools/mshare-stat.h \
	tools/mshare-stat-table.c \
	tools/mshare-stat-prom.c
tools_mshare_stat_CFLAGS = $(AM_CFLAGS) $(SMARTCOLS_CFLAGS) $(MOUNT_CFLAGS)
tools_mshare_stat_LDADD = $(SMARTCOLS_LIBS) $(MOUNT_LIBS)

# `make distcheck` runs `make check` without the QEMU suite.
AM_DISTCHECK_CONFIGURE_FLAGS = --disable-vm-tests
