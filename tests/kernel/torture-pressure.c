// SPDX-License-Identifier: LGPL-2.1-or-later
#include "torture-pressure.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mshare-procfs.h"

/* Pages moved per move_pages() round: a window that wanders the file. */
#define MIGRATE_BATCH 256
/* linux/mempolicy.h: move pages mapped by other processes too */
#define MPOL_MF_MOVE_ALL (1 << 2)

int pressure_numa_nodes(void)
{
	char path[64];
	int n = 0;

	do {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", n);
	} while (access(path, F_OK) == 0 && ++n < 64);
	return n ? n : 1;
}

/*
 * Moves a window of the file's pages to the other node.  The pages must
 * be mapped here for move_pages() to find them: read them first (a page
 * reclaim dropped comes back through this mapping).
 */
static void migrate_round(volatile unsigned char *map, size_t npages,
			  size_t *cursor, int node, struct pressure_counts *c)
{
	void *pages[MIGRATE_BATCH];
	int nodes[MIGRATE_BATCH], status[MIGRATE_BATCH];
	size_t n = 0;

	for (; n < MIGRATE_BATCH; n++) {
		size_t page = (*cursor + n) % npages;

		pages[n] = (void *)(map + page * 4096);
		(void)map[page * 4096];
		nodes[n] = node;
	}
	*cursor = (*cursor + n) % npages;
	if (syscall(SYS_move_pages, 0, n, pages, nodes, status,
		    MPOL_MF_MOVE_ALL) < 0)
		return;
	c->migrate_rounds++;
	for (size_t i = 0; i < n; i++)
		if (status[i] == node)
			c->pages_migrated++;
}

void pressure_run(const char *cgroup, int file_fd, size_t size,
		  volatile sig_atomic_t *stop, struct pressure_counts *counts)
{
	volatile unsigned char *map = MAP_FAILED;
	size_t cursor = 0, npages = size / 4096;
	char reclaim[512];
	int nodes = pressure_numa_nodes(), round = 0;

	snprintf(reclaim, sizeof(reclaim), "%s/memory.reclaim", cgroup);
	if (nodes > 1)
		map = mmap(NULL, size, PROT_READ, MAP_SHARED, file_fd, 0);
	while (!*stop) {
		if (cgroup[0] && write_text_file(reclaim, "8M"))
			counts->reclaims++;
		if (write_text_file("/proc/sys/vm/compact_memory", "1"))
			counts->compactions++;
		if (map != MAP_FAILED)
			migrate_round(map, npages, &cursor, round++ % nodes,
				      counts);
		usleep(20000);
	}
}
