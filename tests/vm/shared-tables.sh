# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the guest scripts: which mappings of a process share page
# tables.  smaps marks them "st" in VmFlags (VM_MSHARE): an attachment of an
# msharefs region file (/sys/fs/mshare/...), or of a SysV segment attached
# with shmat(SHM_SHARE_MMU) (/SYSV<key>, the kernel's own region).

# shared_table_maps PID: the maps line of each such mapping of PID.
shared_table_maps() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { head = $0; next }
	     /^VmFlags:/ { for (i = 2; i <= NF; i++) if ($i == "st") print head }' \
		"/proc/$1/smaps" 2>/dev/null
}

# shared_table_mib PID: the largest such mapping of PID, in MiB (0: none).
shared_table_mib() {
	local lo hi rest max=0
	while IFS='- ' read -r lo hi rest; do
		[ $(((0x$hi - 0x$lo) >> 20)) -le "$max" ] || max=$(((0x$hi - 0x$lo) >> 20))
	done < <(shared_table_maps "$1")
	echo "$max"
}

# is_segment_attachment LINE: a maps line of a SysV segment's shared
# tables, through the shim's region (sysv.*) or the kernel's (/SYSV<key>).
is_segment_attachment() {
	case "$1" in
	*" /sys/fs/mshare/sysv."* | *" /SYSV"*) return 0 ;;
	esac
	return 1
}
