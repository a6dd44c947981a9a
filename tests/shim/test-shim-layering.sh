#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# shim/'s layers depend one way (shim/README.md, "Layout"):
#
#   entry/  ->  sysv/, mmap/  ->  msharefs/  ->  support/  ->  core/
#
# A file may use its own layer and the layers below it; sysv/ and mmap/
# stand side by side and do not use each other.  Checked twice:
#   - the sources: every #include "..." of a shim header names its layer
#     ("core/config.h") and that layer is allowed;
#   - the built objects, if there are any: every symbol an object uses
#     that another layer defines comes from an allowed layer (a variable
#     declared low and defined high passes the first check, not this one).
# And pthread_atfork() is registered in one place, entry/fork.c, where the
# lock order is written.  Prints TAP.

set -u
srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
shim=$srcdir/shim
LC_ALL=C
export LC_ALL

layers="core support msharefs sysv mmap entry"

# The layers a file of layer $1 may use, its own included.
allowed() {
	case $1 in
	core) echo "core" ;;
	support) echo "support core" ;;
	msharefs) echo "msharefs support core" ;;
	sysv) echo "sysv msharefs support core" ;;
	mmap) echo "mmap msharefs support core" ;;
	entry) echo "entry sysv mmap msharefs support core" ;;
	esac
}

is_allowed() {	# layer used-layer
	case " $(allowed "$1") " in
	*" $2 "*) return 0 ;;
	*) return 1 ;;
	esac
}

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
note() { echo "# $*"; }

if [ ! -d "$shim/core" ]; then
	echo "1..0 # SKIP no shim/core in $srcdir"
	exit 0
fi

# Every source sits in a layer.
stray=$(cd "$shim" && ls -- *.c *.h 2>/dev/null)
if [ -z "$stray" ]; then
	ok "every shim source sits in a layer directory"
else
	not_ok "every shim source sits in a layer directory"
	note "outside: $(echo $stray)"
fi

# The sources: one line per file.
for layer in $layers; do
	for file in "$shim/$layer"/*.c "$shim/$layer"/*.h; do
		[ -f "$file" ] || continue
		rel=shim/$layer/${file##*/}
		bad=""
		for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file"); do
			case $inc in
			*/*)
				used=${inc%%/*}
				if [ ! -f "$shim/$inc" ]; then
					# Not a shim header (include/msharefs-uapi.h & co).
					continue
				fi
				is_allowed "$layer" "$used" || bad="$bad $inc"
				;;
			*)
				# A shim header named without its layer hides it.
				if ls "$shim"/*/"$inc" >/dev/null 2>&1; then
					bad="$bad $inc(no-layer)"
				fi
				;;
			esac
		done
		if [ -z "$bad" ]; then
			ok "$rel includes only from: $(allowed "$layer")"
		else
			not_ok "$rel includes only from: $(allowed "$layer")"
			note "includes:$bad"
		fi
	done
done

# One fork registration.
atfork=$(grep -l 'pthread_atfork[[:space:]]*(' "$shim"/*/*.c 2>/dev/null |
	 sed "s|^$shim/||")
if [ "$atfork" = "entry/fork.c" ]; then
	ok "pthread_atfork() is called only in shim/entry/fork.c"
else
	not_ok "pthread_atfork() is called only in shim/entry/fork.c"
	note "called in: $(echo $atfork)"
fi

# The built objects: libtool puts the PIC ones in .libs.
object_of() {	# .lo file
	dir=${1%/*}
	base=${1##*/}
	base=${base%.lo}
	if [ -f "$dir/.libs/$base.o" ]; then
		echo "$dir/.libs/$base.o"
	elif [ -f "$dir/$base.o" ]; then
		echo "$dir/$base.o"
	fi
}

if ! command -v nm >/dev/null 2>&1; then
	echo "ok $((n + 1)) - symbols of the built objects # SKIP no nm"
	n=$((n + 1))
else
	defs=$(mktemp) || exit 99
	trap 'rm -f "$defs"' EXIT
	objects=""
	for layer in $layers; do
		for lo in "$builddir/shim/$layer"/libmshare_shim*_la-*.lo; do
			[ -f "$lo" ] || continue
			o=$(object_of "$lo")
			[ -n "$o" ] || continue
			objects="$objects $layer:$o"
			nm --defined-only "$o" |
				awk -v l="$layer" 'NF == 3 && $2 ~ /^[BDRTV]$/ { print $3, l }' >>"$defs"
		done
	done
	if [ -z "$objects" ]; then
		echo "ok $((n + 1)) - symbols of the built objects # SKIP not built in $builddir"
		n=$((n + 1))
	else
		bad=""
		for entry in $objects; do
			layer=${entry%%:*}
			o=${entry#*:}
			for use in $(nm --undefined-only "$o" | awk '{ print $2 }' |
				     awk 'NR == FNR { def[$1] = $2; next }
					  ($1 in def) { print def[$1] ":" $1 }' "$defs" -); do
				used=${use%%:*}
				is_allowed "$layer" "$used" ||
					bad="$bad ${o##*/}->$used/${use#*:}"
			done
		done
		if [ -z "$bad" ]; then
			ok "the built objects use symbols only of their own and lower layers"
		else
			not_ok "the built objects use symbols only of their own and lower layers"
			note "uses:$bad"
		fi
	fi
fi

echo "1..$n"
[ "$failed" = 0 ]
