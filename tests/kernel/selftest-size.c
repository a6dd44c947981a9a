/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Setting a region's size: once, aligned, bounded (UAPI.md "Region files"). */
#include "selftest.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static off_t size_of(int fd)
{
	struct stat st;

	ck_assert_int_eq(fstat(fd, &st), 0);
	return st.st_size;
}

START_TEST(size_unaligned_einval)
{
	char path[ST_PATH_MAX];
	off_t align = (off_t)st_align();
	int fd = st_region_new(path, "unaligned");

	ST_ASSERT_ERRNO(ftruncate(fd, 4096), EINVAL);
	ST_ASSERT_ERRNO(ftruncate(fd, align / 2), EINVAL);
	ST_ASSERT_ERRNO(ftruncate(fd, align + 4096), EINVAL);
	ST_ASSERT_ERRNO(ftruncate(fd, align - 1), EINVAL);
	ck_assert_int_eq(size_of(fd), 0);	/* failures left it unsized */
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}
END_TEST

START_TEST(size_zero_on_unsized_is_noop)
{
	char path[ST_PATH_MAX];
	int fd = st_region_new(path, "zero"), fd2;

	ck_assert_msg(ftruncate(fd, 0) == 0, "ftruncate 0: %s", strerror(errno));
	/* O_TRUNC on an unsized region is the same no-op. */
	fd2 = open(path, O_RDWR | O_TRUNC | O_CLOEXEC);
	ck_assert_msg(fd2 >= 0, "open O_TRUNC: %s", strerror(errno));
	ck_assert_int_eq(size_of(fd), 0);
	/* ...and the region can still be sized afterwards. */
	ck_assert_int_eq(ftruncate(fd2, (off_t)st_align()), 0);
	ck_assert_int_eq(size_of(fd), (off_t)st_align());
	ck_assert_int_eq(unlink(path), 0);
	close(fd2);
	close(fd);
}
END_TEST

START_TEST(size_set_once)
{
	char path[ST_PATH_MAX];
	off_t align = (off_t)st_align();
	int fd = st_region_new(path, "once"), fd2;

	ck_assert_msg(ftruncate(fd, align) == 0, "ftruncate: %s",
		      strerror(errno));
	ck_assert_int_eq(size_of(fd), align);

	/* Attachers learn the size from fstat on their own descriptor. */
	fd2 = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd2, 0);
	ck_assert_int_eq(size_of(fd2), align);

	ST_ASSERT_ERRNO(ftruncate(fd, 2 * align), EINVAL);
	ST_ASSERT_ERRNO(ftruncate(fd, 0), EINVAL);	/* 0 is a different size too */
	ck_assert_msg(ftruncate(fd, align) == 0, "same size again: %s",
		      strerror(errno));
	ck_assert_int_eq(size_of(fd), align);
	ck_assert_int_eq(unlink(path), 0);
	close(fd2);
	close(fd);
}
END_TEST

START_TEST(size_fallocate)
{
	char path[ST_PATH_MAX];
	off_t align = (off_t)st_align();
	int fd = st_region_new(path, "fallocate");

	ST_ASSERT_ERRNO(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, align),
			EOPNOTSUPP);
	ST_ASSERT_ERRNO(fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,
				  0, align), EOPNOTSUPP);
	ST_ASSERT_ERRNO(fallocate(fd, 0, align, align), EINVAL);
	ck_assert_int_eq(size_of(fd), 0);

	ck_assert_msg(fallocate(fd, 0, 0, align) == 0, "fallocate: %s",
		      strerror(errno));
	ck_assert_int_eq(size_of(fd), align);
	ck_assert_int_eq(fallocate(fd, 0, 0, align), 0);	/* same size */
	ST_ASSERT_ERRNO(fallocate(fd, 0, 0, 2 * align), EINVAL);
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}
END_TEST

START_TEST(size_too_big_efbig)
{
	char path[ST_PATH_MAX];
	uint64_t align = st_align();
	/*
	 * 2^20 alignment units (512 PiB on x86_64) exceed any user address
	 * space (57-bit paging gives 128 PiB) but stay below OFF_T_MAX.
	 */
	uint64_t huge = align << 20;
	int fd = st_region_new(path, "efbig");

	if (huge / align != (1u << 20) || huge > (uint64_t)INT64_MAX)
		huge = (uint64_t)INT64_MAX / align * align;
	signal(SIGXFSZ, SIG_IGN);	/* RLIMIT_FSIZE would add a signal */
	ST_ASSERT_ERRNO(ftruncate(fd, (off_t)huge), EFBIG);
	ST_ASSERT_ERRNO(fallocate(fd, 0, 0, (off_t)huge), EFBIG);
	ck_assert_int_eq(size_of(fd), 0);
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}
END_TEST

START_TEST(size_readonly_fd_einval)
{
	char path[ST_PATH_MAX];
	int fd = st_region_new(path, "rdonly"), ro;

	ro = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(ro, 0);
	ST_ASSERT_ERRNO(ftruncate(ro, (off_t)st_align()), EINVAL);
	ck_assert_int_eq(size_of(fd), 0);
	ck_assert_int_eq(unlink(path), 0);
	close(ro);
	close(fd);
}
END_TEST

void register_size_tests(void)
{
	static const struct selftest_group group = { "sizing", 60 };

	selftest_add(&group, size_unaligned_einval);
	selftest_add(&group, size_zero_on_unsized_is_noop);
	selftest_add(&group, size_set_once);
	selftest_add(&group, size_fallocate);
	selftest_add(&group, size_too_big_efbig);
	selftest_add(&group, size_readonly_fd_einval);
}
