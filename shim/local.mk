# SPDX-License-Identifier: LGPL-2.1-or-later
# libmshare-shim: the LD_PRELOAD interposer and its pure, unit-tested core.

# The layers, each including only from those below it (shim/README.md,
# "Layout"; tests/shim/check-layering.sh checks it):
#   entry/     the exported symbols, setup, the one fork handler
#   sysv/ mmap/  the SysV and the mmap paths
#   msharefs/  the region files on the mount
#   support/   logging, the attachment tables, raw calls, the process state
#   core/      pure parsing and planning
# Every include names its layer ("core/config.h"), from shim/.
shim_cppflags = -I$(top_srcdir)/shim

# The core decides and parses; it makes no interposed calls, so the unit
# tests link it directly.
noinst_LTLIBRARIES += shim/libmshare-shim-core.la
shim_libmshare_shim_core_la_SOURCES = \
	shim/core/config.c shim/core/config.h \
	shim/core/errtext.c shim/core/errtext.h \
	shim/core/keymatch.c shim/core/keymatch.h \
	shim/core/log-target.c shim/core/log-target.h \
	shim/core/mmap-plan.c shim/core/mmap-plan.h \
	shim/core/number.c shim/core/number.h \
	shim/core/pathglob.c shim/core/pathglob.h \
	shim/core/plan.c shim/core/plan.h \
	shim/core/size.c shim/core/size.h \
	shim/core/textfmt.c shim/core/textfmt.h \
	shim/core/unbacked-cache.c shim/core/unbacked-cache.h
shim_libmshare_shim_core_la_CPPFLAGS = $(AM_CPPFLAGS) $(shim_cppflags)
shim_libmshare_shim_core_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden

# Installed as $(libdir)/libmshare-shim.so; built as shim/.libs/libmshare-shim.so.
# Only the interposed SysV and mmap functions are exported (see SHIM_EXPORT).
lib_LTLIBRARIES += shim/libmshare-shim.la
shim_libmshare_shim_la_SOURCES = \
	shim/entry/fork.c shim/entry/fork.h \
	shim/entry/interpose.c \
	shim/entry/interpose-mmap.c shim/entry/interpose-mmap.h \
	shim/sysv/sysv-attach.c \
	shim/sysv/sysv-common.h \
	shim/sysv/sysv-control.c \
	shim/sysv/sysv-create.c \
	shim/sysv/sysv-kernel.c \
	shim/sysv/sysv.h \
	shim/mmap/mmap-backed.c shim/mmap/mmap-backed.h \
	shim/msharefs/mmap-region.c shim/msharefs/mmap-region.h \
	shim/msharefs/mount-dir.c shim/msharefs/mount-dir.h \
	shim/msharefs/region.c shim/msharefs/region.h \
	shim/support/attach-table.c shim/support/attach-table.h \
	shim/support/log.c shim/support/log.h \
	shim/support/mmap-raw.h \
	shim/support/mmap-table.c shim/support/mmap-table.h \
	shim/support/shim-state.c shim/support/shim-state.h \
	shim/support/uncancellable.c shim/support/uncancellable.h
shim_libmshare_shim_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden -pthread
# The only configuration a set-user-ID program reads (see entry/interpose.c).
shim_libmshare_shim_la_CPPFLAGS = $(AM_CPPFLAGS) $(shim_cppflags) \
	-DSHIM_SECURE_CONFIG='"$(sysconfdir)/libmshare-shim/secure.conf"'
shim_libmshare_shim_la_LDFLAGS = -module -avoid-version -shared -pthread
shim_libmshare_shim_la_LIBADD = shim/libmshare-shim-core.la -ldl

EXTRA_DIST += shim/README.md

# The preload library is loaded by path, never linked against through
# libtool, so its .la file is not installed; without it libtool's uninstall
# cannot find the .so, hence the hook.
install-exec-hook: install-exec-drop-la
install-exec-drop-la:
	rm -f '$(DESTDIR)$(libdir)/libmshare-shim.la'
uninstall-hook: uninstall-shim-so
uninstall-shim-so:
	rm -f '$(DESTDIR)$(libdir)/libmshare-shim.so'
.PHONY: install-exec-drop-la uninstall-shim-so
