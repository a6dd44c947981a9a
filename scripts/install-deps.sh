#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install the Debian packages the project needs. Idempotent: when everything
# is already installed it only runs dpkg-query and exits, so callers may run
# it each time.
#
#   install-deps.sh [GROUP...]
#
# Groups (default: all, which is what run-all-tests and CI need):
#   userspace  build the shim and the tools (no Check, QEMU or PostgreSQL)
#   tests      the host test suites (Check, python3, util-linux...)
#   packaging  dpkg-buildpackage -b of debian/ and lintian (with userspace)
#   kernel     build the patched kernel (and linux-source-6.12)
#   kernel-deb kernel/build.sh --deb: Debian's own config (linux-config-6.12)
#   vm         run the kernel under QEMU, PostgreSQL for the main job, gnuplot
#   all        userspace tests packaging kernel vm
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
KVER_FILE=$REPO/kernel/debian-version

die() { echo "install-deps: ERROR: $*" >&2; exit 1; }

declare -A group_pkgs=(
	[userspace]="build-essential pkg-config autoconf automake libtool make gcc libsmartcols-dev libmount-dev"
	[tests]="check python3 util-linux procps iproute2"
	[packaging]="debhelper dpkg-dev lintian"
	[kernel]="build-essential flex bison bc libelf-dev libssl-dev cpio xz-utils ccache kmod rsync"
	[kernel-deb]="linux-config-6.12 dpkg-dev debhelper rsync dwarves"
	[vm]="qemu-system-x86 postgresql-15 postgresql-contrib-15 gnuplot-nox"
)
[ $# -gt 0 ] || set -- all
pkgs=()
want_ksrc=0
for g in "$@"; do
	case $g in
	all) members=(userspace tests packaging kernel vm) ;;
	packaging) members=(userspace packaging) ;;
	userspace | tests | kernel | kernel-deb | vm) members=("$g") ;;
	*) die "unknown group '$g' (userspace, tests, packaging, kernel, kernel-deb, vm, all)" ;;
	esac
	for one in "${members[@]}"; do
		read -r -a more <<<"${group_pkgs[$one]}"
		pkgs+=("${more[@]}")
		case $one in kernel | kernel-deb) want_ksrc=1 ;; esac
	done
done

ksrc=linux-source-6.12
ksrcs=()
if [ "$want_ksrc" = 1 ]; then
	[ -r "$KVER_FILE" ] || die "missing $KVER_FILE"
	want_kver=$(tr -d '[:space:]' < "$KVER_FILE")
	[ -n "$want_kver" ] || die "$KVER_FILE is empty"
	ksrcs=("$ksrc")
fi

# Fast path: everything present, and the kernel source in any version (a
# version mismatch is build.sh's to report, not a reason to run apt).
# Some names are virtual (postgresql-contrib-15 is provided by postgresql-15),
# so the installed set includes what installed packages provide.
have=$(dpkg-query -W -f='${db:Status-Abbrev}|${Package}|${Provides}\n' 2>/dev/null |
	awk -F'|' '$1 == "ii " { print $2; n = split($3, p, ", "); for (i = 1; i <= n; i++) { sub(/ .*/, "", p[i]); print p[i] } }')
installed() {
	grep -qxF -- "$1" <<<"$have"
}
missing=()
for p in "${pkgs[@]}" "${ksrcs[@]}"; do
	installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

[ "$(id -u)" -eq 0 ] || die "need root to install: ${missing[*]}"
echo "install-deps: installing: ${missing[*]}"

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/install-deps.XXXXXX.log)
trap 'rm -f "$log"' EXIT

run() {
	if ! "$@" >>"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "failed: $*"
	fi
}

run apt-get update -q

# Pin the kernel source to the recorded version while apt still offers it;
# security updates replace old versions, so fall back to the candidate.
ksrc_spec=$ksrc
if [ "$want_ksrc" = 1 ] && ! installed "$ksrc"; then
	if apt-cache madison "$ksrc" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}' |
		grep -qxF -- "$want_kver"; then
		ksrc_spec="$ksrc=$want_kver"
	else
		cand=$(apt-cache policy "$ksrc" 2>/dev/null | awk '/Candidate:/ {print $2}')
		if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
			die "apt offers no $ksrc at all (is bookworm-security in sources.list?)"
		fi
		cat >&2 <<-EOF
		install-deps: ###############################################################
		install-deps: WARNING: $ksrc $want_kver (kernel/debian-version) is no
		install-deps: WARNING: longer offered by apt; installing $cand instead.
		install-deps: WARNING: kernel/patches/ must still apply to it; update
		install-deps: WARNING: kernel/debian-version once they do.
		install-deps: ###############################################################
		EOF
	fi
fi

to_install=()
for p in "${missing[@]}"; do
	if [ "$p" = "$ksrc" ]; then to_install+=("$ksrc_spec"); else to_install+=("$p"); fi
done
# An installed kernel source keeps its version: linux-config-6.12 recommends
# linux-source-6.12, and apt would otherwise upgrade it to the candidate
# (which changes the tree every kernel build starts from).
if installed "$ksrc" && have_ksrc=$(dpkg-query -W -f='${Version}' "$ksrc" 2>/dev/null); then
	to_install+=("$ksrc=$have_ksrc")
fi
run apt-get install -y -q --no-install-recommends "${to_install[@]}"
echo "install-deps: done"
