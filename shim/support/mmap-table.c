/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "support/mmap-table.h"

static struct shim_mapping table[SHIM_MMAP_MAX];
static unsigned used;
/* Entries at and above this index are all empty: readers stop there. */
static unsigned top;
/* Odd while a writer changes the table; see mmap-table.h. */
static unsigned seq;
/* This thread is between write_begin() and write_end(). */
static __thread bool writing __attribute__((tls_model("initial-exec")));

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void write_begin(void)
{
	writing = true;
	__atomic_store_n(&seq, seq + 1, __ATOMIC_RELAXED);
	/* The odd count is visible before any entry changes. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void write_end(void)
{
	__atomic_store_n(&seq, seq + 1, __ATOMIC_RELEASE);
	writing = false;
}

bool mmap_table_add(const struct shim_mapping *entry)
{
	for (unsigned i = 0; i < SHIM_MMAP_MAX; i++) {
		if (table[i].addr != 0)
			continue;
		write_begin();
		table[i] = *entry;
		if (i >= top)
			__atomic_store_n(&top, i + 1, __ATOMIC_RELAXED);
		write_end();
		__atomic_add_fetch(&used, 1, __ATOMIC_RELEASE);
		return true;
	}
	return false;
}

int mmap_table_find_overlap(int start, uintptr_t addr, size_t len)
{
	for (int i = start + 1; i < (int)top; i++) {
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
	write_begin();
	table[index].addr = 0;
	write_end();
	__atomic_sub_fetch(&used, 1, __ATOMIC_RELEASE);
}

void mmap_table_forget_fd(int fd)
{
	for (unsigned i = 0; i < top; i++) {
		if (!table[i].addr)
			continue;
		if (table[i].region_fd == fd)
			table[i].region_fd = -1;
		if (table[i].file_fd == fd)
			table[i].file_fd = -1;
	}
}

unsigned mmap_table_count(void)
{
	return __atomic_load_n(&used, __ATOMIC_ACQUIRE);
}

bool mmap_table_in_use(void)
{
	return __atomic_load_n(&used, __ATOMIC_ACQUIRE) != 0;
}

static bool scan(uintptr_t addr, size_t len)
{
	unsigned n = __atomic_load_n(&top, __ATOMIC_RELAXED);

	for (unsigned i = 0; i < n; i++) {
		uintptr_t a = __atomic_load_n(&table[i].addr, __ATOMIC_RELAXED);
		size_t size = __atomic_load_n(&table[i].region_size,
					      __ATOMIC_RELAXED);

		if (a && a < addr + len && addr < a + size)
			return true;
	}
	return false;
}

bool mmap_table_may_overlap(uintptr_t addr, size_t len)
{
	/* A signal handler on the writing thread: the table holds still. */
	if (writing)
		return scan(addr, len);
	for (;;) {
		unsigned before = __atomic_load_n(&seq, __ATOMIC_ACQUIRE);

		if (before & 1) {
			/* Another thread is storing one entry: a moment. */
			cpu_relax();
			continue;
		}
		bool hit = scan(addr, len);

		/* The entries are read before the count is read again. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&seq, __ATOMIC_RELAXED) == before)
			return hit;
	}
}
