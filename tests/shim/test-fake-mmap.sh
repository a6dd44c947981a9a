#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The shim's mmap paths under threads and signal handlers, on any host:
# fake-msharefs.so makes a tmpfs directory pass for msharefs, so anonymous
# MAP_SHARED memory gets a region there (a tmpfs file mapped whole, like an
# attachment) and tests/shim/mmap-race runs against it.  Needs no root.
# vm-mmap-tests.sh runs the same program against the real msharefs.
# Prints TAP.

set -u
builddir=${top_builddir:-.}
builddir=$(cd "$builddir" && pwd)
fake_so=$builddir/tests/shim/fake-msharefs.so
shim=$builddir/shim/.libs/libmshare-shim.so
race=$builddir/tests/shim/mmap-race
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -f "$fake_so" ] || [ ! -f "$shim" ] || [ ! -x "$race" ]; then
	echo "1..0 # SKIP fake-msharefs.so, the shim or mmap-race not built"
	exit 0
fi
dir=$(mktemp -d /dev/shm/fake-mmap.XXXXXX) || exit 99
# The shim's path calls beneath the mount, by the fake (fake-msharefs.c).
pathlog=$(mktemp /dev/shm/fake-mmap-paths.XXXXXX) || exit 99
trap 'rm -rf "$dir" "$pathlog"' EXIT
echo 549755813888 >"$dir/mshare_info"
chmod 0444 "$dir/mshare_info"

# ok, not_ok, skip, note, expect, expect_match
. "$here/../tap.sh"

under_fake() {
	env FAKE_MSHAREFS_DIR="$dir" FAKE_MSHAREFS_PATH_LOG="$pathlog" \
	    LD_PRELOAD="$fake_so $shim" \
	    MSHARE_SHIM_MOUNT="$dir" MSHARE_SHIM_ANON=1M MSHARE_SHIM_MIN_SIZE=1M \
	    MSHARE_SHIM_LOG_FILE="$dir/shim.log" "$@"
}

# 1. Two threads map and unmap backed memory while a third maps private
#    memory: no call fails, no data is lost, no mapping vanishes.
out=$(under_fake timeout 120 "$race" threads 2097152 1500 2>&1)
expect "threads: both shared mappers are backed" "backed 2" \
	"$(echo "$out" | grep '^backed')"
expect "threads: no failed call, no wrong data, no SIGSEGV" "failures 0" \
	"$(echo "$out" | grep -e '^failures' -e SIGSEGV | tr '\n' ' ' | sed 's/ $//')"

expect "threads: one notice at the default log level says the memory is backed" 1 \
	"$(grep -c 'notice: anonymous shared memory of 2097152 bytes is backed by an msharefs region' "$dir/shim.log")"

# 1b. The calls on a backed anonymous mapping (mmap-helper anonfork, as in
#     the VM): fork, partial munmap, mremap, madvise, munmap.
out=$(under_fake env SHIM_TEST_MOUNT="$dir" timeout 20 \
	"$builddir/tests/shim/mmap-helper" anonfork 8388608 2>&1 | tr '\n' '|')
expect "anonymous: fork, EINVAL, ENOMEM, madvise, munmap as documented" \
	"backed|child sees parent backed|parent sees from child|partial munmap -1 Invalid argument|mremap Cannot allocate memory|madvise dontneed 0|text kept from child|munmap 0|" \
	"$out"

# 1c. A MADV_DONTFORK mapping is not the fork child's: private memory the
#     child maps in its range behaves as without the shim.
out=$(under_fake env SHIM_TEST_MOUNT="$dir" timeout 20 \
	"$builddir/tests/shim/mmap-helper" dontfork 8388608 2>&1 | tr '\n' '|')
expect "MADV_DONTFORK: the child's own mappings in the old range are its own" \
	"backed|madvise dontfork 0|child munmap 0|child mprotect 0|child madvise 0|child data kept|child exited|munmap 0|" \
	"$out"

# 1d. mremap(MREMAP_FIXED) over a backed mapping replaces it: the range
#     is then the program's, as without the shim.
out=$(under_fake env SHIM_TEST_MOUNT="$dir" timeout 20 \
	"$builddir/tests/shim/mmap-helper" remapover 8388608 2>&1 | tr '\n' '|')
expect "mremap(MREMAP_FIXED) over a backed mapping: the range is the program's" \
	"backed|mremap moved|munmap part 0|mprotect part 0|data kept|" "$out"

# 1e. A MAP_FIXED mmap that fails (EACCES) over a backed mapping leaves
#     it in place, as the kernel does.
out=$(under_fake env SHIM_TEST_MOUNT="$dir" timeout 20 \
	"$builddir/tests/shim/mmap-helper" fixedfail 8388608 2>&1 | tr '\n' '|')
expect "failing mmap(MAP_FIXED) over a backed mapping: its data stays" \
	"backed|mmap Permission denied|data kept|" "$out"

# 2. A signal handler's mprotect()/madvise() while its thread is inside the
#    shim's mmap/munmap: no deadlock (timeout), no failure.
out=$(under_fake timeout 60 "$race" signal 2097152 1500 2>&1)
expect "signal: the handler ran and nothing failed or hung" \
	"handler calls some|backed 1|failures 0" \
	"$(echo "$out" | tr '\n' '|' | sed 's/|$//')"
# 2b. Threads cancelled (pthread_cancel) while mapping backed memory leave
#     no lock held: a fork and a backed mmap afterwards do not hang.
out=$(under_fake timeout 60 "$race" cancel 2097152 200 2>&1)
expect "cancel: threads cancelled inside the shim leave no lock held (fork, mmap)" \
	"cancelled 200|after fork child 0|backed 1|failures 0" \
	"$(echo "$out" | tr '\n' '|' | sed 's/|$//')"
# 3. A probe of the mount that fails for want of descriptors (EMFILE) is
#    repeated at the next call, not kept as "no msharefs" for good.
out=$(under_fake "$builddir/tests/shim/fd-reuse" emfile 2097152 2>&1)
expect "EMFILE while probing: the next mapping is backed" \
	"first backed no|second backed yes" "$(echo "$out" | tr '\n' '|' | sed 's/|$//')"

# 4. Each attachment takes a 512 GiB unit of address space, and only about
#    250 fit: the shim keeps a quarter for the program (192 attachments)
#    and passes further mappings through, saying so once.
: >"$dir/shim.log"
out=$(under_fake "$race" many 2097152 260 2>&1)
expect "260 mappings: 192 backed, the program still gets 1 TiB and malloc" \
	"big mmap ok|malloc ok|backed 192|failures 0" "$(echo "$out" | tr '\n' '|' | sed 's/|$//')"
expect "260 mappings: one line says why the rest pass through" 1 \
	"$(grep -c 'too little address space' "$dir/shim.log")"

# 5. File mappings (the fake's attachment is the tmpfs region file, so
#    data written through one never reaches the file; the calls and the
#    shim's descriptors are what these cases check).
files=$(mktemp -d "${TMPDIR:-/tmp}/fake-mmap-files.XXXXXX") || exit 99
trap 'rm -rf "$dir" "$pathlog" "$files"' EXIT
under_fake_files() {
	under_fake env MSHARE_SHIM_FILES="$files/*" "$@"
}

# 5a. The program closes every fd, then maps the same file again: the
#     shim's new descriptors get the old ones' numbers, and letting go
#     of the first mapping must not close the second's (the log goes to
#     stderr here: a log file would hold a number of its own).
truncate -s 8M "$files/remap"
out=$(under_fake_files env -u MSHARE_SHIM_LOG_FILE \
	"$builddir/tests/shim/fd-reuse" remap "$files/remap" 2>/dev/null)
expect "same file mapped again after close_range: the first's release leaves the second's descriptors" \
	"backed yes|backed yes|partial munmap 0|munmap 0" \
	"$(echo "$out" | tr '\n' '|' | sed 's/|$//')"

# 5b'. The program closes every fd and opens the mapped file itself under
#     the numbers of the shim's descriptors: device and inode match, but
#     the shim neither uses nor closes the program's descriptors (the
#     conversion fails instead, as for a lost descriptor).
truncate -s 8M "$files/same"
out=$(under_fake_files "$builddir/tests/shim/fd-reuse" samefile "$files/same" 2>&1)
expect "the mapped file opened by the program under the shim's numbers: none of them closed" \
	"backed yes|partial munmap -1|munmap 0|fds of the file 32" \
	"$(echo "$out" | tr '\n' '|' | sed 's/|$//')"

# 5c. A MAP_FIXED mmap over backed mappings with one of the shim's steps
#     failing (seccomp): a failed call leaves the program's memory as it
#     was (no tail of a conversion left mapped, no mapping lost to an
#     inaccessible reservation); one that does not need the step works.
truncate -s 8M "$files/conv1" "$files/conv2"
out=$(under_fake_files "$builddir/tests/shim/mmap-fixed-fail" convert \
	"$files/conv1" "$files/conv2" 2>&1 | tr '\n' '|')
expect "MAP_FIXED, second conversion fails: the first's tail is unmapped, the second is intact" \
	"mmap ENOMEM|upper's attachment beyond the mapping: none|upper perms rw-s|lower perms rw-s reads l|" "$out"
out=$(under_fake "$builddir/tests/shim/mmap-fixed-fail" reserve-lower 2>&1 | tr '\n' '|')
expect "MAP_FIXED over a whole attachment needs no reservation of it" \
	"mmap same address|range reads 0 0|" "$out"
out=$(under_fake "$builddir/tests/shim/mmap-fixed-fail" reserve-any 2>&1 | tr '\n' '|')
expect "MAP_FIXED, the reservation fails: both mappings intact" \
	"mmap ENOMEM|upper perms rw-s reads u|lower perms rw-s reads l|" "$out"

# 5b. Calls whose results must be the kernel's (tests/shim/mmap-fidelity,
#     as in the VM, whose noexec case needs a mount: here both files are
#     on one file system).  Lines that say what is backed differ, and are
#     checked on their own: calls past the end of a mapping convert
#     nothing.
truncate -s 8M "$files/fid" "$files/fid2"
"$builddir/tests/shim/mmap-fidelity" "$files/fid" "$files/fid2" >"$files/fid.plain" 2>&1
under_fake_files env MSHARE_SHIM_MODE=strict MSHARE_SHIM_ANON=8M \
	"$builddir/tests/shim/mmap-fidelity" "$files/fid" "$files/fid2" \
	>"$files/fid.shim" 2>&1
if [ "$(grep -v '^backed' "$files/fid.plain")" = "$(grep -v '^backed' "$files/fid.shim")" ]; then
	ok "fidelity: every result as the kernel's ($(grep -vc '^backed' "$files/fid.plain") cases)"
else
	not_ok "fidelity: every result as the kernel's"
	diff "$files/fid.plain" "$files/fid.shim" | sed 's/^/#   /'
fi
expect "fidelity: backed throughout, also after calls past the end" \
	"backed yes|backed file after munmap past the end: yes|backed file after mprotect past the end: yes|backed file after mremap past the end: yes|backed anonymous after munmap past the end: yes|backed anonymous after mprotect past the end: yes|backed anonymous after mremap past the end: yes" \
	"$(grep '^backed' "$files/fid.shim" | tr '\n' '|' | sed 's/|$//')"

# (The shim's log file lies in the directory too: not a name on the mount.)
expect "every name on the mount is reached through a descriptor of its root, no path" \
	"" "$(grep -v " $dir/shim.log\$" "$pathlog" | sort -k2,2 -u | head -5)"

[ -s "$dir/shim.log" ] && sed 's/^/# log: /' "$dir/shim.log"
echo "1..$n"
[ "$failed" = 0 ]
