/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/unbacked-cache.h"

/*
 * Each slot is a small seqlock.  The writer claims it by moving seq from
 * even to odd with a compare-and-swap (a second writer sees odd or loses the
 * race and gives up: an entry not recorded only costs a lookup later),
 * stores the fields, and releases it with the next even seq.  A reader
 * accepts the fields only if seq was the same even number before and after
 * reading them.
 */

#define SLOT_SHIFT 6
_Static_assert(SHIM_UNBACKED_SLOTS == 1 << SLOT_SHIFT, "slots: a power of two");

/*
 * Linux builds ids as index + sequence << 15, so ids of segments made one
 * after another at the same index differ only in high bits: hash them.
 */
static struct shim_unbacked_slot *slot_of(const struct shim_unbacked_cache *cache,
					  int shmid)
{
	uint32_t hash = (uint32_t)shmid * 0x9e3779b1u;

	return (struct shim_unbacked_slot *)&cache->slot[hash >> (32 - SLOT_SHIFT)];
}

static bool claim(struct shim_unbacked_slot *slot, uint32_t *seq)
{
	*seq = __atomic_load_n(&slot->seq, __ATOMIC_RELAXED);
	if (*seq & 1)
		return false;
	if (!__atomic_compare_exchange_n(&slot->seq, seq, *seq + 1, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return false;
	/* The odd seq is visible before any field changes. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return true;
}

static void fill_and_release(struct shim_unbacked_slot *slot, uint32_t seq,
			     uint32_t id_plus_one, uint64_t generation)
{
	__atomic_store_n(&slot->id_plus_one, id_plus_one, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->generation, generation, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->seq, seq + 2, __ATOMIC_RELEASE);
}

void shim_unbacked_insert(struct shim_unbacked_cache *cache, int shmid,
			  uint64_t generation)
{
	struct shim_unbacked_slot *slot = slot_of(cache, shmid);
	uint32_t seq;

	if (shmid < 0 || (generation & 1) || !claim(slot, &seq))
		return;
	fill_and_release(slot, seq, (uint32_t)shmid + 1, generation);
}

bool shim_unbacked_valid(const struct shim_unbacked_cache *cache, int shmid,
			 uint64_t generation_now)
{
	const struct shim_unbacked_slot *slot = slot_of(cache, shmid);
	uint32_t before, after, id_plus_one;
	uint64_t generation;

	if (shmid < 0 || (generation_now & 1))
		return false;
	before = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);
	if (before & 1)
		return false;
	id_plus_one = __atomic_load_n(&slot->id_plus_one, __ATOMIC_RELAXED);
	generation = __atomic_load_n(&slot->generation, __ATOMIC_RELAXED);
	/* The fields are read before seq is read again. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	after = __atomic_load_n(&slot->seq, __ATOMIC_RELAXED);
	return before == after && id_plus_one == (uint32_t)shmid + 1 &&
	       generation == generation_now;
}

void shim_unbacked_evict(struct shim_unbacked_cache *cache, int shmid)
{
	struct shim_unbacked_slot *slot = slot_of(cache, shmid);
	uint32_t seq;

	/*
	 * Not needed for correctness (a new segment under the same id gets
	 * its region under a new name, which moves the generation), so a busy
	 * slot is simply left alone.
	 */
	if (shmid < 0 ||
	    __atomic_load_n(&slot->id_plus_one, __ATOMIC_RELAXED) != (uint32_t)shmid + 1 ||
	    !claim(slot, &seq))
		return;
	if (__atomic_load_n(&slot->id_plus_one, __ATOMIC_RELAXED) == (uint32_t)shmid + 1)
		fill_and_release(slot, seq, 0, 0);
	else
		__atomic_store_n(&slot->seq, seq + 2, __ATOMIC_RELEASE);
}

void shim_unbacked_after_fork_child(struct shim_unbacked_cache *cache)
{
	for (int i = 0; i < SHIM_UNBACKED_SLOTS; i++) {
		struct shim_unbacked_slot *slot = &cache->slot[i];
		uint32_t seq = __atomic_load_n(&slot->seq, __ATOMIC_RELAXED);

		/* Only this thread is left: no one else can be writing. */
		if (seq & 1)
			fill_and_release(slot, seq - 1, 0, 0);
	}
}
