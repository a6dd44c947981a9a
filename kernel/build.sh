#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build the msharefs test kernel: Debian's linux-source-6.12 + kernel/patches/
# (applied in name order), tinyconfig + kvm_guest.config + our fragments, with
# ccache. Usage: kernel/build.sh [--debug | --deb] [--print-image]
#
# --deb builds linux-image/linux-headers packages for a real host instead:
# Debian's own config (linux-config-6.12) + config/deb.config (CONFIG_MSHARE=y,
# release suffix -mshare), `make bindeb-pkg`; the .deb files go to
# $MSHARE_CACHE.  Hours on 2 cores: use a cache of its own
# (MSHARE_CACHE=/var/cache/mshare-kernel-deb).  See README (real hosts).
#
# Environment:
#   MSHARE_CACHE      work dir (default /var/cache/mshare-kernel)
#   CCACHE_DIR        default $MSHARE_CACHE/ccache; CCACHE_MAXSIZE default 5G
#   MSHARE_NO_APT=1   do not run scripts/install-deps.sh
#   MSHARE_KCONFIG_DROP="CONFIG_A CONFIG_B"  drop these lines from the
#                     fragments (testing only, e.g. CONFIG_MSHARE on an
#                     unpatched tree)
#   MSHARE_JOBS       make -j (default: nproc)
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
CACHE=${MSHARE_CACHE:-/var/cache/mshare-kernel}
KSRC=linux-source-6.12
TARBALL=/usr/src/$KSRC.tar.xz

usage() {
	sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//'
}

variant=default
print_image=0
while [ $# -gt 0 ]; do
	case $1 in
	--debug) variant=debug ;;
	--deb) variant=deb ;;
	--print-image) print_image=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "build.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

SRC=$CACHE/src/$KSRC
BUILD=$CACHE/build-$variant
IMAGE=$BUILD/arch/x86/boot/bzImage
LOG=$CACHE/build-$variant.log

frags=("$HERE/config/qemu-guest.config")
[ "$variant" = debug ] && frags+=("$HERE/config/debug.config")
# Debian's configuration for amd64 (the base of --deb).
DEB_CONFIG=/usr/src/linux-config-6.12/config.amd64_none_amd64.xz
[ "$variant" = deb ] && frags=("$HERE/config/deb.config")

die() { echo "build.sh: ERROR: $*" >&2; exit 1; }
warn() { echo "build.sh: WARNING: $*" >&2; }

patches() {
	local p
	for p in "$HERE"/patches/*.patch; do
		[ -e "$p" ] && printf '%s\n' "$p"
	done
	return 0
}

installed_kver() {
	dpkg-query -W -f='${Version}' "$KSRC" 2>/dev/null || true
}

# Source stamp: the tree is re-created only when the kernel version or the
# patch series (names and contents, in order) changes.
series_stamp() {
	{
		echo "kver $(installed_kver)"
		local p
		while IFS= read -r p; do
			echo "patch $(basename "$p")"
			cat "$p"
		done < <(patches)
	} | sha256sum | cut -d' ' -f1
}

# The fragments as merged: testing may drop lines (MSHARE_KCONFIG_DROP).
effective_fragment() {
	local drop=${MSHARE_KCONFIG_DROP:-} f opt
	for f in "${frags[@]}"; do
		if [ -n "$drop" ]; then
			local pat=""
			for opt in $drop; do pat+="${pat:+|}^(# )?${opt}[= ]"; done
			grep -Ev "$pat" "$f" || true
		else
			cat "$f"
		fi
	done
}

config_stamp() {
	{
		echo "series $1"
		echo "variant $variant"
		effective_fragment
		[ "$variant" != deb ] || xzcat "$DEB_CONFIG" 2>/dev/null
	} | sha256sum | cut -d' ' -f1
}

if [ "$print_image" = 1 ]; then
	# 0: up to date, 1: not built, 3: built from an older series/config.
	[ -f "$IMAGE" ] && [ -f "$BUILD/.mshare-built" ] || exit 1
	echo "$IMAGE"
	[ "$(cat "$BUILD/.mshare-built")" = "$(config_stamp "$(series_stamp)")" ] || exit 3
	exit 0
fi

if [ "${MSHARE_NO_APT:-0}" != 1 ]; then
	if [ "$variant" = deb ]; then
		"$REPO/scripts/install-deps.sh" kernel kernel-deb
	else
		"$REPO/scripts/install-deps.sh"
	fi
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/build.lock"
if ! flock -n 9; then
	echo "build.sh: waiting for another build (lock $CACHE/build.lock)"
	flock 9
fi

[ -r "$TARBALL" ] || die "$TARBALL missing (install $KSRC)"
want_kver=$(tr -d '[:space:]' < "$HERE/debian-version")
have_kver=$(installed_kver)
if [ "$have_kver" != "$want_kver" ]; then
	cat >&2 <<-EOF
	build.sh: ###################################################################
	build.sh: WARNING: $KSRC $have_kver is installed, but kernel/debian-version
	build.sh: WARNING: says $want_kver. Building anyway; the patches must apply.
	build.sh: ###################################################################
	EOF
fi

export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
# Cache hits independent of the path of $CACHE; ccache through its masquerade
# dir so kbuild's CC string is always plain "gcc" (changing it rebuilds all).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$CACHE}
export PATH=/usr/lib/ccache:$PATH
JOBS=${MSHARE_JOBS:-$(nproc)}

: >"$LOG"
t_all=$(date +%s)
step() {
	local name=$1 t0
	shift
	t0=$(date +%s)
	if ! "$@" >>"$LOG" 2>&1; then
		echo "build.sh: step '$name' FAILED; last lines of $LOG:" >&2
		tail -n 40 "$LOG" >&2
		# The verdicts, in case the tail buried them.
		grep -E '^(CONFIG MISMATCH|PATCH DOES NOT APPLY)' "$LOG" >&2 || true
		exit 1
	fi
	echo "build.sh: $name: $(($(date +%s) - t0)) s"
}

series=$(series_stamp)

unpack() {
	local tmp p
	rm -rf "$SRC" "$CACHE/src/.new"
	tmp=$CACHE/src/.new
	mkdir -p "$tmp"
	tar -C "$tmp" -xf "$TARBALL"
	while IFS= read -r p; do
		echo "applying $(basename "$p")"
		if ! patch -d "$tmp/$KSRC" -p1 --forward --batch -s <"$p"; then
			echo "PATCH DOES NOT APPLY: $p (onto $KSRC $have_kver)"
			return 1
		fi
	done < <(patches)
	mv "$tmp/$KSRC" "$SRC"
	rmdir "$tmp"
	echo "$series" >"$SRC/.mshare-series"
}

if [ ! -f "$SRC/.mshare-series" ] || [ "$(cat "$SRC/.mshare-series")" != "$series" ]; then
	echo "build.sh: patch series changed or tree missing: unpacking $KSRC $have_kver"
	step unpack+patch unpack
fi

cfg_stamp=$(config_stamp "$series")

# A tree re-created from the tarball has old mtimes: objects built from a
# previous series would look up to date, so the build dir goes with it.
if [ -f "$BUILD/.mshare-series" ] && [ "$(cat "$BUILD/.mshare-series")" != "$series" ]; then
	echo "build.sh: series changed: wiping $BUILD"
	rm -rf "$BUILD"
fi

configure() {
	local frag=$BUILD/.mshare-fragment.config bad=0 line opt got
	mkdir -p "$BUILD"
	effective_fragment >"$frag"
	if [ "$variant" = deb ]; then
		[ -r "$DEB_CONFIG" ] || { echo "$DEB_CONFIG missing (install linux-config-6.12)"; return 1; }
		xzcat "$DEB_CONFIG" >"$BUILD/.config"
	else
		make -s -C "$SRC" O="$BUILD" tinyconfig
		make -s -C "$SRC" O="$BUILD" kvm_guest.config
	fi
	"$SRC/scripts/kconfig/merge_config.sh" -m -O "$BUILD" "$BUILD/.config" "$frag"
	make -s -C "$SRC" O="$BUILD" olddefconfig
	# merge_config only warns when an option does not take; we insist.
	while IFS= read -r line; do
		if ! grep -qxF -- "$line" "$BUILD/.config"; then
			opt=${line%%=*}
			got=$(grep -E "^(# )?${opt}[= ]" "$BUILD/.config" || echo "absent (unknown symbol or unmet dependency)")
			echo "CONFIG MISMATCH: wanted $line, got: $got"
			bad=1
		fi
	done < <(grep -E '^CONFIG_[A-Za-z0-9_]+=(y|".*")$' "$frag")
	[ $bad = 0 ] || return 1
	echo "$series" >"$BUILD/.mshare-series"
	echo "$cfg_stamp" >"$BUILD/.mshare-config"
}

if [ ! -f "$BUILD/.mshare-config" ] || [ "$(cat "$BUILD/.mshare-config")" != "$cfg_stamp" ] ||
	[ ! -f "$BUILD/.config" ]; then
	rm -f "$BUILD/.mshare-config"
	step "configure ($variant)" configure
fi

rm -f "$BUILD/.mshare-built"
if [ "$variant" = deb ]; then
	# bindeb-pkg writes the packages to the parent of the build directory.
	step "make bindeb-pkg (-j$JOBS)" make -C "$SRC" O="$BUILD" -j"$JOBS" bindeb-pkg
	echo "$cfg_stamp" >"$BUILD/.mshare-built"
	echo "build.sh: total $(($(date +%s) - t_all)) s"
	ls -1 "$CACHE"/linux-image-*-mshare_*.deb "$CACHE"/linux-headers-*-mshare_*.deb
	exit 0
fi
step "make bzImage ($variant, -j$JOBS)" make -C "$SRC" O="$BUILD" -j"$JOBS" bzImage
echo "$cfg_stamp" >"$BUILD/.mshare-built"
echo "build.sh: total $(($(date +%s) - t_all)) s; ccache: $(ccache -s 2>/dev/null | awk '/Hits:/ {print $2 "/" $4; exit}' || true)"
echo "$IMAGE"
