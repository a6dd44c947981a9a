/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What mshare-torture does to a region's pages while its workers use
 * them: reclaim (swap-out of shmem where the machine swaps, write-back and
 * drop of file pages), compaction, and migration between NUMA nodes.
 */
#ifndef TORTURE_PRESSURE_H
#define TORTURE_PRESSURE_H

#include <signal.h>
#include <stddef.h>

/* Rounds that worked, shared with the parent (MAP_SHARED memory). */
struct pressure_counts {
	unsigned long reclaims;
	unsigned long compactions;
	unsigned long migrate_rounds;
	unsigned long pages_migrated;
};

/* The number of online NUMA nodes (1 without NUMA). */
int pressure_numa_nodes(void);

/*
 * Until *STOP: memory.reclaim of CGROUP (none if ""), compaction, and,
 * with two nodes or more, move_pages() of pages of FILE_FD (the region's
 * backing file, SIZE bytes) through a plain shared mapping of it: the
 * region's attachers see those pages move under them.
 */
void pressure_run(const char *cgroup, int file_fd, size_t size,
		  volatile sig_atomic_t *stop, struct pressure_counts *counts);

#endif
