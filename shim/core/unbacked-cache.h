/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Segments this process knows to have no region: "segment id X had no
 * region at msharefs generation g".  The generation is msharefs's count of
 * name changes (mshare_generation, mapped read-only), which is odd while a
 * change is in progress and moves before and after every create, rename and
 * unlink.  Such an entry stays true while the count still reads g: only the
 * segment's creator ever makes its region, always under a new name, and no
 * name has appeared since a lookup that missed.
 *
 * A fixed array of slots, no malloc and no locks: each slot has its own
 * sequence number (odd while a writer fills it).  A reader that meets a
 * slot being written treats it as a miss; a writer that finds a slot busy
 * gives up.  Nothing can be left held by a fork in another thread beyond
 * one busy slot, which the child clears.
 *
 * The functions take the generation as read by the caller, so that they
 * make no system call and can be unit-tested without msharefs.
 */
#ifndef SHIM_UNBACKED_CACHE_H
#define SHIM_UNBACKED_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#define SHIM_UNBACKED_SLOTS 64

struct shim_unbacked_slot {
	uint32_t seq;		/* odd while a writer fills the slot */
	uint32_t id_plus_one;	/* shmid + 1; 0: empty, so zeroed is empty */
	uint64_t generation;
};

/* Zeroed (static storage) is an empty cache. */
struct shim_unbacked_cache {
	struct shim_unbacked_slot slot[SHIM_UNBACKED_SLOTS];
};

/*
 * Loads the generation with acquire semantics: before a lookup whose miss
 * is then recorded, and to validate an entry.
 */
static inline uint64_t shim_generation_load(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_ACQUIRE);
}

/*
 * Records that shmid had no region at generation, which the caller loaded
 * before the lookup (or the shmget()) that established it.  An odd
 * generation was read during a change and records nothing.
 */
void shim_unbacked_insert(struct shim_unbacked_cache *cache, int shmid,
			  uint64_t generation);

/*
 * True if shmid is recorded without a region at exactly the generation the
 * caller has just loaded: then it still has none.
 */
bool shim_unbacked_valid(const struct shim_unbacked_cache *cache, int shmid,
			 uint64_t generation_now);

/* Forgets shmid (after IPC_RMID: the id may come back as another segment). */
void shim_unbacked_evict(struct shim_unbacked_cache *cache, int shmid);

/*
 * In the child after fork(): a slot that another thread of the parent was
 * filling stays half written; empty it.  The other entries stay true.
 */
void shim_unbacked_after_fork_child(struct shim_unbacked_cache *cache);

#endif
