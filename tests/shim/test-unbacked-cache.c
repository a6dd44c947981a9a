/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the cache of segments known to have no region
 * (shim/core/unbacked-cache.c): what is recorded, what validates, eviction,
 * collisions, threads and fork.  No LD_PRELOAD, no msharefs: the tests
 * play the generation count themselves.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check-runner.h"
#include "core/unbacked-cache.h"

static struct shim_unbacked_cache cache;

static void reset(void)
{
	memset(&cache, 0, sizeof(cache));
}

START_TEST(empty_cache_knows_nothing)
{
	reset();
	/* Zeroed memory is empty, also for id 0. */
	for (int id = 0; id < 1000; id++)
		ck_assert(!shim_unbacked_valid(&cache, id, 0));
	ck_assert(!shim_unbacked_valid(&cache, -1, 0));
}
END_TEST

START_TEST(valid_only_at_the_recorded_generation)
{
	reset();
	shim_unbacked_insert(&cache, 7, 42);
	ck_assert(shim_unbacked_valid(&cache, 7, 42));
	/* Any name change since (the count moved) makes it worthless. */
	ck_assert(!shim_unbacked_valid(&cache, 7, 43));
	ck_assert(!shim_unbacked_valid(&cache, 7, 44));
	ck_assert(!shim_unbacked_valid(&cache, 7, 40));
	/* Another id is not known. */
	ck_assert(!shim_unbacked_valid(&cache, 8, 42));
	/* A newer lookup records the newer generation. */
	shim_unbacked_insert(&cache, 7, 44);
	ck_assert(shim_unbacked_valid(&cache, 7, 44));
	ck_assert(!shim_unbacked_valid(&cache, 7, 42));
}
END_TEST

START_TEST(odd_generation_records_and_validates_nothing)
{
	reset();
	/* Read while a name was changing: the lookup may have missed it. */
	shim_unbacked_insert(&cache, 7, 41);
	ck_assert(!shim_unbacked_valid(&cache, 7, 41));
	shim_unbacked_insert(&cache, 7, 40);
	/* No mshare_generation: the shim passes 1, which never validates. */
	ck_assert(!shim_unbacked_valid(&cache, 7, 1));
	ck_assert(shim_unbacked_valid(&cache, 7, 40));
	/* Negative ids are errors from shmget, never recorded. */
	shim_unbacked_insert(&cache, -1, 40);
	ck_assert(!shim_unbacked_valid(&cache, -1, 40));
}
END_TEST

START_TEST(evict_forgets_only_that_id)
{
	reset();
	shim_unbacked_insert(&cache, 3, 10);
	shim_unbacked_insert(&cache, 5, 10);
	shim_unbacked_evict(&cache, 3);
	ck_assert(!shim_unbacked_valid(&cache, 3, 10));
	ck_assert(shim_unbacked_valid(&cache, 5, 10));
	/* Evicting an id that is not there leaves the slot's owner alone. */
	shim_unbacked_evict(&cache, 3);
	shim_unbacked_evict(&cache, 12345);
	ck_assert(shim_unbacked_valid(&cache, 5, 10));
}
END_TEST

START_TEST(linux_ids_spread_over_slots)
{
	/*
	 * Linux ids of segments made and removed one after another differ by
	 * multiples of 32768; each must survive its neighbours.
	 */
	reset();
	for (int i = 0; i < 8; i++)
		shim_unbacked_insert(&cache, i * 32768, 2);
	int known = 0;

	for (int i = 0; i < 8; i++)
		known += shim_unbacked_valid(&cache, i * 32768, 2);
	ck_assert_int_eq(known, 8);
}
END_TEST

/* Each id at a generation of its own, so a confused slot would show. */
static uint64_t own_generation(int id)
{
	return (uint64_t)id * 2 + 2;
}

START_TEST(collision_replaces_never_confuses)
{
	reset();
	/* Far more ids than slots: each is known right after its insert. */
	for (int id = 0; id < 10 * SHIM_UNBACKED_SLOTS; id++) {
		shim_unbacked_insert(&cache, id, own_generation(id));
		ck_assert(shim_unbacked_valid(&cache, id, own_generation(id)));
	}
	/*
	 * At the end each slot holds the last id that hashed to it: as many
	 * known ids as slots (the hash reaches every slot), none at another
	 * id's generation.
	 */
	int known = 0;

	for (int id = 0; id < 10 * SHIM_UNBACKED_SLOTS; id++) {
		known += shim_unbacked_valid(&cache, id, own_generation(id));
		ck_assert(!shim_unbacked_valid(&cache, id, own_generation(id + 1)));
	}
	ck_assert_int_eq(known, SHIM_UNBACKED_SLOTS);
	for (int id = 10 * SHIM_UNBACKED_SLOTS; id < 20 * SHIM_UNBACKED_SLOTS; id++)
		for (int g = 0; g < 10 * SHIM_UNBACKED_SLOTS; g++)
			ck_assert(!shim_unbacked_valid(&cache, id, own_generation(g)));
}
END_TEST

/*
 * Threads insert, evict and validate ids that map to the same slots, each
 * id always at a generation that encodes the id.  A torn slot would pair an
 * id with another id's generation and validate it: never allowed.
 */
#define STRESS_THREADS 4
#define STRESS_ROUNDS 200000

static uint64_t generation_of(int id)
{
	return (uint64_t)id * 2 + 2;
}

static void *stress(void *arg)
{
	int base = (int)(intptr_t)arg;
	long wrong = 0;

	for (int round = 0; round < STRESS_ROUNDS; round++) {
		int id = base + (round % 7) * 32768;
		int other = base + ((round + 3) % 7) * 32768;

		shim_unbacked_insert(&cache, id, generation_of(id));
		if (shim_unbacked_valid(&cache, other, generation_of(id)) &&
		    other != id)
			wrong++;
		if (round % 5 == 0)
			shim_unbacked_evict(&cache, other);
	}
	return (void *)wrong;
}

START_TEST(threads_never_see_torn_entries)
{
	pthread_t t[STRESS_THREADS];

	reset();
	for (int i = 0; i < STRESS_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, stress,
						(void *)(intptr_t)(i % 2)), 0);
	for (int i = 0; i < STRESS_THREADS; i++) {
		void *wrong;

		ck_assert_int_eq(pthread_join(t[i], &wrong), 0);
		ck_assert_int_eq((long)(intptr_t)wrong, 0);
	}
	/* No slot is left busy: each can be recorded into again. */
	for (int i = 0; i < SHIM_UNBACKED_SLOTS; i++)
		ck_assert_int_eq(cache.slot[i].seq & 1, 0);
	shim_unbacked_insert(&cache, 32768, 1000);
	ck_assert(shim_unbacked_valid(&cache, 32768, 1000));
}
END_TEST

START_TEST(fork_child_keeps_entries_and_frees_busy_slots)
{
	reset();
	shim_unbacked_insert(&cache, 11, 8);
	/* As if another thread of the parent was filling this slot at fork. */
	struct shim_unbacked_slot *busy = NULL;

	for (int i = 0; i < SHIM_UNBACKED_SLOTS; i++)
		if (cache.slot[i].id_plus_one == 0) {
			busy = &cache.slot[i];
			break;
		}
	ck_assert_ptr_nonnull(busy);
	busy->seq |= 1;
	busy->id_plus_one = 99;	/* half written */

	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int ok = 1;

		shim_unbacked_after_fork_child(&cache);
		ok &= shim_unbacked_valid(&cache, 11, 8);
		ok &= !shim_unbacked_valid(&cache, 98, 8);
		ok &= (busy->seq & 1) == 0 && busy->id_plus_one == 0;
		_exit(ok ? 0 : 1);
	}

	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("unbacked-cache");
	TCase *tc = tcase_create("cache");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, empty_cache_knows_nothing);
	tcase_add_test(tc, valid_only_at_the_recorded_generation);
	tcase_add_test(tc, odd_generation_records_and_validates_nothing);
	tcase_add_test(tc, evict_forgets_only_that_id);
	tcase_add_test(tc, linux_ids_spread_over_slots);
	tcase_add_test(tc, collision_replaces_never_confuses);
	tcase_add_test(tc, threads_never_see_torn_entries);
	tcase_add_test(tc, fork_child_keeps_entries_and_frees_busy_slots);
	suite_add_tcase(s, tc);

	return check_run_tap(s, "test-unbacked-cache");
}
