/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "support/attach-table.h"

#include <pthread.h>

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shim_attachment table[SHIM_ATTACH_MAX];
static unsigned used;		/* entries in use; read unlocked as a hint */

bool attach_table_add(const struct shim_attachment *entry)
{
	bool added = false;

	pthread_mutex_lock(&table_lock);
	for (unsigned i = 0; i < SHIM_ATTACH_MAX; i++) {
		if (!table[i].region_addr) {
			table[i] = *entry;
			__atomic_add_fetch(&used, 1, __ATOMIC_RELEASE);
			added = true;
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	return added;
}

static void take_locked(unsigned i, struct shim_attachment *entry)
{
	*entry = table[i];
	table[i].region_addr = NULL;
	__atomic_sub_fetch(&used, 1, __ATOMIC_RELEASE);
}

bool attach_table_take(void *region_addr, struct shim_attachment *entry)
{
	bool found = false;

	pthread_mutex_lock(&table_lock);
	for (unsigned i = 0; i < SHIM_ATTACH_MAX; i++) {
		if (table[i].region_addr && table[i].region_addr == region_addr) {
			take_locked(i, entry);
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	return found;
}

bool attach_table_take_overlapping(uintptr_t addr, size_t size,
				   struct shim_attachment *entry)
{
	bool found = false;

	pthread_mutex_lock(&table_lock);
	for (unsigned i = 0; i < SHIM_ATTACH_MAX; i++) {
		uintptr_t start = (uintptr_t)table[i].region_addr;

		if (start && start < addr + size &&
		    addr < start + table[i].region_size) {
			take_locked(i, entry);
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	return found;
}

bool attach_table_covers(uintptr_t addr, size_t size)
{
	bool found = false;

	pthread_mutex_lock(&table_lock);
	for (unsigned i = 0; i < SHIM_ATTACH_MAX && !found; i++) {
		uintptr_t start = (uintptr_t)table[i].region_addr;

		found = start && start <= addr &&
			addr + size <= start + table[i].region_size;
	}
	pthread_mutex_unlock(&table_lock);
	return found;
}

bool attach_table_is_empty(void)
{
	return __atomic_load_n(&used, __ATOMIC_ACQUIRE) == 0;
}

void attach_table_lock_for_fork(void)
{
	pthread_mutex_lock(&table_lock);
}

void attach_table_unlock_after_fork(void)
{
	pthread_mutex_unlock(&table_lock);
}

unsigned attach_table_count(void)
{
	return __atomic_load_n(&used, __ATOMIC_ACQUIRE);
}
