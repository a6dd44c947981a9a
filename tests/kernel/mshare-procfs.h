/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Readers for the /proc numbers the tests use as evidence: a process's VmPTE
 * and VmRSS, the system's PageTables and MemFree, huge page settings, and the
 * /proc/self/maps line of an address; one writer for the knobs of /proc,
 * /sys and cgroup files, and the memory cgroups the tests make with it;
 * and the pinning of a process to a CPU.
 */
#ifndef MSHARE_PROCFS_H
#define MSHARE_PROCFS_H

#include <stdbool.h>
#include <stddef.h>

/* "KEY:   123 kB" from /proc/self/status, in KiB; -1 if absent. */
long proc_self_status_kb(const char *key);

/* "KEY:   123 kB" (or a bare count) from /proc/meminfo; -1 if absent. */
long meminfo_kb(const char *key);

/* "KEY 123" from /proc/vmstat (event counts, e.g. pswpout); -1 if absent. */
long vmstat_count(const char *key);

/*
 * Free pages held on the per-CPU lists (/proc/zoneinfo pagesets), in KiB, or
 * -1: they are free but MemFree does not count them, and the lists grow by
 * tens of MiB after a burst of frees.
 */
long percpu_free_kb(void);

/* The number a one-number file (sysctl, sysfs) starts with; -1 if none. */
long file_number(const char *path);

/* /proc/sys/vm/nr_hugepages, or -1 if unreadable. */
long nr_hugepages(void);

/* Default huge page size in bytes (Hugepagesize), or 0 if unknown. */
size_t default_hugepage_size(void);

/*
 * Finds the /proc/self/maps line whose range starts at ADDR.  Returns 0 and
 * stores the end address and the path column (possibly empty), or -1.
 */
int maps_lookup(const void *addr, unsigned long *end, char *path,
		size_t pathlen);

/*
 * Whether the VMA starting at ADDR shares page tables: "st" (VM_MSHARE) in
 * its VmFlags in /proc/self/smaps, for a region file's attachment as for a
 * SysV segment's through shmat(SHM_SHARE_MMU).  -1 if no VMA starts there.
 */
int smaps_shares_tables(const void *addr);

/* Mount point of the first hugetlbfs mount in /proc/mounts, or -1. */
int find_hugetlbfs_mount(char *dir, size_t dirlen);

/* Writes TEXT to the file at PATH in one write(); false if that failed. */
bool write_text_file(const char *path, const char *text);

/* Where the tests find (or mount) the cgroup2 hierarchy. */
#define CGROUP_ROOT "/sys/fs/cgroup"

/* kernel.numa_balancing: the torture turns it on, the TLB bench reads it. */
#define NUMA_BALANCING "/proc/sys/kernel/numa_balancing"

/*
 * Readies CGROUP_ROOT for memory cgroups: mounts cgroup2 there if it is not
 * mounted yet, and enables the memory controller for the root's children.
 * Returns NULL, or why that failed (fit for a skip message).
 */
const char *cgroup_memory_setup(void);

/*
 * Makes the memory cgroup DIR, a directory under CGROUP_ROOT, after
 * cgroup_memory_setup(); false if either failed.
 */
bool cgroup_memory_create(const char *dir);

/* Moves the calling process into the cgroup DIR; false if that failed. */
bool cgroup_join(const char *dir);

/* Restricts the calling thread to CPU.  Returns 0, or -errno. */
int pin_to_cpu(int cpu);

#endif /* MSHARE_PROCFS_H */
