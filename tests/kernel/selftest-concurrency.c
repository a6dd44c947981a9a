/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Many processes attach, write, read and detach one region at the same
 * time.  Exercises the attach/fault/detach paths under contention and
 * atomics across attachments.
 */
#include "selftest.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 64
#define ROUNDS 20

/*
 * One page per worker.  The owner publishes (index + 1) << 32 | round with a
 * single atomic store, so a reader never sees half an update and any other
 * value is corruption.
 */
struct slot {
	_Atomic uint64_t word;
	unsigned char pad[ST_PAGE - sizeof(uint64_t)];
};

static uint64_t slot_word(int index, int round)
{
	return ((uint64_t)index + 1) << 32 | (uint64_t)round;
}

struct shared_area {
	_Atomic uint64_t finished;	/* workers done with every round */
	unsigned char pad[ST_PAGE - sizeof(uint64_t)];
	struct slot slots[WORKERS];
};

#define AREA_BYTES ((uint64_t)sizeof(struct shared_area))

struct worker {
	const char *path;
	int index;
	int start_fd;	/* EOF on it is the start signal for everyone */
	int start_write_fd;	/* inherited; closed so that EOF can come */
};

/* Slot INDEX holds 0 (never written) or its owner's word of some round. */
static int slot_ok(struct slot *s, int index)
{
	uint64_t word = atomic_load(&s->word);

	return word == 0 || (word >> 32 == (uint64_t)index + 1 &&
			     (word & 0xffffffffu) <= ROUNDS);
}

static uint64_t slot_round(struct slot *s)
{
	return atomic_load(&s->word) & 0xffffffffu;
}

static int worker_main(void *arg)
{
	const struct worker *w = arg;
	struct shared_area *area;
	struct timespec deadline;
	int round, k, fd;
	char c;

	close(w->start_write_fd);
	if (read(w->start_fd, &c, 1) != 0)
		return 10;
	for (round = 1; round <= ROUNDS; round++) {
		struct slot *mine;

		fd = open(w->path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return 11;
		area = mshare_attach(fd, st_align(), PROT_READ | PROT_WRITE);
		close(fd);	/* the attachment alone keeps it usable */
		if (area == MAP_FAILED)
			return 12;
		mine = &area->slots[w->index];
		if (!slot_ok(mine, w->index) ||
		    slot_round(mine) != (uint64_t)round - 1)
			return 13;	/* lost our own previous write */
		atomic_store(&mine->word, slot_word(w->index, round));
		for (k = 0; k < WORKERS; k++)
			if (!slot_ok(&area->slots[k], k))
				return 14;
		if (munmap(area, st_align()) != 0)
			return 15;
	}

	/* Last round: wait until everyone is done, then all must be final. */
	fd = open(w->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 16;
	area = mshare_attach(fd, st_align(), PROT_READ | PROT_WRITE);
	close(fd);
	if (area == MAP_FAILED)
		return 17;
	atomic_fetch_add(&area->finished, 1);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 60;
	while (atomic_load(&area->finished) < WORKERS) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > deadline.tv_sec)
			return 18;
		usleep(1000);	/* spinning would starve the rest under TCG */
	}
	for (k = 0; k < WORKERS; k++)
		if (atomic_load(&area->slots[k].word) != slot_word(k, ROUNDS))
			return 19;
	return munmap(area, st_align()) == 0 ? 0 : 20;
}

START_TEST(concurrency_64_attachers)
{
	char path[ST_PATH_MAX], buf[64];
	struct worker workers[WORKERS];
	pid_t pids[WORKERS];
	int start[2], fd, i, failures = 0;
	struct shared_area *area;

	fd = st_region_anon(path, "concurrency", AREA_BYTES);
	ck_assert_int_eq(pipe(start), 0);
	for (i = 0; i < WORKERS; i++) {
		workers[i] = (struct worker){
			.path = path, .index = i, .start_fd = start[0],
			.start_write_fd = start[1],
		};
		pids[i] = spawn_child(worker_main, &workers[i]);
		ck_assert_int_gt(pids[i], 0);
	}
	close(start[1]);	/* go */
	for (i = 0; i < WORKERS; i++) {
		int status = wait_child_within(pids[i], 240);

		if (!exited_ok(status)) {
			fprintf(stderr, "# worker %d: %s\n", i,
				describe_status(status, buf, sizeof(buf)));
			failures++;
		}
	}
	ck_assert_msg(failures == 0, "%d of %d workers failed", failures,
		      WORKERS);

	area = st_attach(fd, PROT_READ);
	ck_assert_uint_eq(atomic_load(&area->finished), WORKERS);
	for (i = 0; i < WORKERS; i++) {
		ck_assert_msg(atomic_load(&area->slots[i].word) ==
			      slot_word(i, ROUNDS), "slot %d holds 0x%llx", i,
			      (unsigned long long)atomic_load(&area->slots[i].word));
	}
	ck_assert_int_eq(munmap(area, st_align()), 0);
	close(start[0]);
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}
END_TEST

void register_concurrency_tests(void)
{
	static const struct selftest_group group = { "concurrency", 300 };

	selftest_add(&group, concurrency_64_attachers);
}
