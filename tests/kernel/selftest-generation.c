/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mshare_generation: the count of name changes that user space maps
 * read-only (UAPI.md "mshare_generation").  It moves by two around every
 * create, rename and unlink, is even when nothing is changing, and never
 * moves for lookups, reads or failed changes.  The VM runs the selftest
 * alone, so the deltas below are exact.
 */
#include "selftest.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void generation_path(char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", mshare_mount(), MSHAREFS_GENERATION_NAME);
}

static const uint64_t *map_generation(void)
{
	char path[ST_PATH_MAX];
	void *p;
	int fd;

	generation_path(path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	p = mmap(NULL, ST_PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ck_assert_msg(p != MAP_FAILED, "mmap %s: %s", path, strerror(errno));
	close(fd);
	return p;
}

static uint64_t load(const uint64_t *gen)
{
	return __atomic_load_n(gen, __ATOMIC_ACQUIRE);
}

/* read() of the file, parsed strictly: decimal digits and a newline. */
static uint64_t read_generation(void)
{
	char path[ST_PATH_MAX], text[32], *end;
	unsigned long long value;
	ssize_t n;
	int fd;

	generation_path(path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	n = read(fd, text, sizeof(text) - 1);
	ck_assert_msg(n > 1, "read %s: %zd (%s)", path, n, strerror(errno));
	text[n] = '\0';
	ck_assert_msg(text[n - 1] == '\n' && text[0] >= '0' && text[0] <= '9',
		      "mshare_generation reads \"%s\"", text);
	errno = 0;
	value = strtoull(text, &end, 10);
	ck_assert_msg(errno == 0 && *end == '\n', "mshare_generation reads \"%s\"",
		      text);
	/* A second read continues at EOF. */
	ck_assert_int_eq(read(fd, text, sizeof(text)), 0);
	close(fd);
	return value;
}

#define ASSERT_MOVED(gen, before, by, what)				\
	do {								\
		uint64_t now_ = load(gen);				\
		ck_assert_msg(now_ == (before) + (by),			\
			      "%s: generation %llu, want %llu", (what),	\
			      (unsigned long long)now_,			\
			      (unsigned long long)((before) + (by)));	\
	} while (0)

START_TEST(generation_mode_0444_root)
{
	st_check_fixed_file_mode(MSHAREFS_GENERATION_NAME);
}
END_TEST

START_TEST(generation_read_agrees_with_mapping)
{
	const uint64_t *gen = map_generation();
	uint64_t mapped = load(gen);

	ck_assert_msg(mapped % 2 == 0, "generation %llu is odd at rest",
		      (unsigned long long)mapped);
	ck_assert_uint_eq(read_generation(), mapped);

	char path[ST_PATH_MAX];
	int fd = st_region_new(path, "gen-read");

	ck_assert_uint_eq(read_generation(), load(gen));
	ck_assert_uint_eq(load(gen), mapped + 2);
	close(fd);
	ck_assert_int_eq(unlink(path), 0);
	munmap((void *)gen, ST_PAGE);
}
END_TEST

START_TEST(generation_moves_on_name_changes)
{
	const uint64_t *gen = map_generation();
	char path[ST_PATH_MAX], other[ST_PATH_MAX], missing[ST_PATH_MAX];
	char dir[ST_PATH_MAX], dir2[ST_PATH_MAX], inner[ST_PATH_MAX + 8];
	uint64_t g = load(gen);
	struct stat st;
	int fd;

	fd = st_region_new(path, "gen-create");
	ASSERT_MOVED(gen, g, 2, "create");
	g = load(gen);

	st_region_path(other, sizeof(other), "gen-renamed");
	ck_assert_int_eq(rename(path, other), 0);
	ASSERT_MOVED(gen, g, 2, "rename");
	g = load(gen);

	ck_assert_int_eq(unlink(other), 0);
	ASSERT_MOVED(gen, g, 2, "unlink");
	close(fd);
	munmap((void *)gen, ST_PAGE);

	/* The count lives in the mount: a new mapping sees the same value. */
	gen = map_generation();
	ck_assert_uint_eq(load(gen), g + 2);
	g = load(gen);

	/* Lookups, reads and sizing change no name. */
	fd = st_region_new(path, "gen-still");
	g = load(gen);
	st_region_path(missing, sizeof(missing), "gen-missing");
	ST_ASSERT_ERRNO(stat(missing, &st), ENOENT);
	ST_ASSERT_ERRNO(open(missing, O_RDWR), ENOENT);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)st_align()), 0);
	(void)read_generation();
	ck_assert_int_eq(st_align() > 0, 1);
	ASSERT_MOVED(gen, g, 0, "lookups and reads");

	/* Failed changes do not count. */
	ST_ASSERT_ERRNO(mshare_create(path, 0600), EEXIST);
	ST_ASSERT_ERRNO(rename(missing, other), ENOENT);
	ST_ASSERT_ERRNO(unlink(missing), ENOENT);
	ASSERT_MOVED(gen, g, 0, "failed changes");

	/* Nor do an rmdir or a rename onto a directory that is not empty. */
	st_region_path(dir, sizeof(dir), "gen-dir");
	st_region_path(dir2, sizeof(dir2), "gen-dir2");
	snprintf(inner, sizeof(inner), "%s/inner", dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(mkdir(dir2, 0700), 0);
	ck_assert_int_eq(mkdir(inner, 0700), 0);
	g = load(gen);
	ST_ASSERT_ERRNO(rmdir(dir), ENOTEMPTY);
	ST_ASSERT_ERRNO(rename(dir2, dir), ENOTEMPTY);
	ASSERT_MOVED(gen, g, 0, "a failed rmdir and rename (ENOTEMPTY)");
	ck_assert_int_eq(rmdir(inner), 0);
	ck_assert_int_eq(rename(dir2, dir), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	ASSERT_MOVED(gen, g, 4, "rename onto an empty directory, rmdir");
	g = load(gen);

	close(fd);
	ck_assert_int_eq(unlink(path), 0);
	ASSERT_MOVED(gen, g, 2, "unlink");
	munmap((void *)gen, ST_PAGE);
}
END_TEST

START_TEST(generation_shared_with_fork_child)
{
	const uint64_t *gen = map_generation();
	uint64_t g = load(gen);
	char path[ST_PATH_MAX];
	int pipefd[2], status, fd;
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* The child's inherited mapping sees the parent's create. */
		close(pipefd[1]);
		if (read(pipefd[0], &c, 1) != 1)
			_exit(2);
		_exit(load(gen) == g + 2 ? 0 : 1);
	}
	close(pipefd[0]);
	fd = st_region_new(path, "gen-fork");
	ck_assert_int_eq(write(pipefd[1], "x", 1), 1);
	close(pipefd[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child saw a stale generation (status 0x%x)", status);
	close(fd);
	ck_assert_int_eq(unlink(path), 0);
	munmap((void *)gen, ST_PAGE);
}
END_TEST

START_TEST(generation_mapping_is_read_only)
{
	char path[ST_PATH_MAX];
	const uint64_t *gen;
	int fd, status;
	pid_t pid;
	void *p;

	generation_path(path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ST_ASSERT_MMAP_ERRNO(mmap(NULL, ST_PAGE, PROT_READ | PROT_WRITE,
				  MAP_SHARED, fd, 0), ST_PAGE, EACCES);
	ST_ASSERT_MMAP_ERRNO(mmap(NULL, ST_PAGE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE, fd, 0), ST_PAGE, EACCES);
	ST_ASSERT_MMAP_ERRNO(mmap(NULL, ST_PAGE, PROT_READ | PROT_EXEC,
				  MAP_SHARED, fd, 0), ST_PAGE, EACCES);
	/* One page, from offset 0. */
	ST_ASSERT_MMAP_ERRNO(mmap(NULL, 2 * ST_PAGE, PROT_READ, MAP_SHARED,
				  fd, 0), 2 * ST_PAGE, EINVAL);
	ST_ASSERT_MMAP_ERRNO(mmap(NULL, ST_PAGE, PROT_READ, MAP_SHARED, fd,
				  (off_t)ST_PAGE), ST_PAGE, EINVAL);

	/* Not later either, shared or private. */
	p = mmap(NULL, ST_PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	ST_ASSERT_ERRNO(mprotect(p, ST_PAGE, PROT_READ | PROT_WRITE), EACCES);
	ST_ASSERT_ERRNO(mprotect(p, ST_PAGE, PROT_READ | PROT_EXEC), EACCES);
	munmap(p, ST_PAGE);
	p = mmap(NULL, ST_PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	ST_ASSERT_ERRNO(mprotect(p, ST_PAGE, PROT_READ | PROT_WRITE), EACCES);
	munmap(p, ST_PAGE);
	close(fd);

	/* Root passes the 0444 mode check; the mapping must still refuse. */
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		ST_ASSERT_MMAP_ERRNO(mmap(NULL, ST_PAGE, PROT_READ | PROT_WRITE,
					  MAP_SHARED, fd, 0), ST_PAGE, EACCES);
		p = mmap(NULL, ST_PAGE, PROT_READ, MAP_SHARED, fd, 0);
		ck_assert_ptr_ne(p, MAP_FAILED);
		ST_ASSERT_ERRNO(mprotect(p, ST_PAGE, PROT_READ | PROT_WRITE),
				EACCES);
		munmap(p, ST_PAGE);
		ck_assert_int_eq(write(fd, "1\n", 2), -1);
		close(fd);
	} else {
		ck_assert_int_eq(errno, EACCES);
	}

	/* A store through the read-only mapping faults. */
	gen = map_generation();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		*(volatile uint64_t *)gen = 12345;
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
		      "store into the generation page: status 0x%x", status);
	ck_assert_uint_ne(load(gen), 12345);
	munmap((void *)gen, ST_PAGE);
}
END_TEST

START_TEST(generation_survives_dontneed)
{
	const uint64_t *gen = map_generation();
	uint64_t g = load(gen);

	/* The page comes back through the fault handler. */
	ck_assert_int_eq(madvise((void *)gen, ST_PAGE, MADV_DONTNEED), 0);
	ck_assert_uint_eq(load(gen), g);
	ck_assert_uint_eq(read_generation(), g);
	munmap((void *)gen, ST_PAGE);
}
END_TEST

START_TEST(generation_cannot_unlink_or_rename)
{
	st_check_fixed_file_stays(MSHAREFS_GENERATION_NAME);
}
END_TEST

void register_generation_tests(void)
{
	static const struct selftest_group group = { "mshare_generation", 60 };

	selftest_add(&group, generation_mode_0444_root);
	selftest_add(&group, generation_read_agrees_with_mapping);
	selftest_add(&group, generation_moves_on_name_changes);
	selftest_add(&group, generation_shared_with_fork_child);
	selftest_add(&group, generation_mapping_is_read_only);
	selftest_add(&group, generation_survives_dontneed);
	selftest_add(&group, generation_cannot_unlink_or_rename);
}
