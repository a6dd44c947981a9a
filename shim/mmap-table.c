/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mmap-table.h"

static struct shim_mapping table[SHIM_MMAP_MAX];
static unsigned used;

bool mmap_table_add(const struct shim_mapping *entry)
{
	for (int i = 0; i < SHIM_MMAP_MAX; i++) {
		if (table[i].addr == 0) {
			table[i] = *entry;
			__atomic_add_fetch(&used, 1, __ATOMIC_RELEASE);
			return true;
		}
	}
	return false;
}

int mmap_table_find_overlap(int start, uintptr_t addr, size_t len)
{
	for (int i = start + 1; i < SHIM_MMAP_MAX; i++) {
		uintptr_t a = table[i].addr;

		if (a && a < addr + len && addr < a + table[i].region_size)
			return i;
	}
	return -1;
}

struct shim_mapping *mmap_table_at(int index)
{
	return &table[index];
}

void mmap_table_remove(int index)
{
	table[index].addr = 0;
	__atomic_sub_fetch(&used, 1, __ATOMIC_RELEASE);
}

bool mmap_table_in_use(void)
{
	return __atomic_load_n(&used, __ATOMIC_ACQUIRE) != 0;
}
