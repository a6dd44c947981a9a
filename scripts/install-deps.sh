#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install the Debian packages needed to build the shim, build the msharefs
# kernel and run the tests in QEMU. Idempotent: when everything is already
# installed it only runs dpkg-query and exits, so callers may run it each time.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
KVER_FILE=$REPO/kernel/debian-version

die() { echo "install-deps: ERROR: $*" >&2; exit 1; }

[ -r "$KVER_FILE" ] || die "missing $KVER_FILE"
want_kver=$(tr -d '[:space:]' < "$KVER_FILE")
[ -n "$want_kver" ] || die "$KVER_FILE is empty"

pkgs=(
	build-essential flex bison bc libelf-dev libssl-dev cpio xz-utils ccache
	qemu-system-x86 check pkg-config autoconf automake libtool make gcc
	libsmartcols-dev libmount-dev
	python3 postgresql-15 postgresql-contrib-15 iproute2 util-linux procps
	gnuplot-nox rsync kmod
)
ksrc=linux-source-6.12

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
for p in "${pkgs[@]}" "$ksrc"; do
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
if ! installed "$ksrc"; then
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
run apt-get install -y -q --no-install-recommends "${to_install[@]}"
echo "install-deps: done"
