/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The msharefs directory as a file system: magic, what may live in it,
 * creating region files, rename, and read()/write() on a region
 * (UAPI.md "Mounting", "Region files").
 */
#include "selftest.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

/* renameat2() through syscall(): no libc wrapper dependency. */
static long rename_flags(const char *from, const char *to, unsigned flags)
{
	return syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, flags);
}

START_TEST(fs_statfs_magic)
{
	struct statfs sfs;

	ck_assert_int_eq(statfs(mshare_mount(), &sfs), 0);
	ck_assert_uint_eq((unsigned long)sfs.f_type, MSHARE_MAGIC);
}
END_TEST

START_TEST(fs_only_region_files)
{
	char path[ST_PATH_MAX], region[ST_PATH_MAX];
	int fd;

	/* Directories are allowed: see selftest-rights.c. */
	st_region_path(path, sizeof(path), "dir");
	ST_ASSERT_ERRNO(mknod(path, S_IFIFO | 0600, 0), EPERM);
	ST_ASSERT_ERRNO(symlink("/tmp", path), EPERM);

	fd = st_region_new(region, "link-src");
	ST_ASSERT_ERRNO(link(region, path), EPERM);
	ST_ASSERT_ERRNO(access(path, F_OK), ENOENT);
	ck_assert_int_eq(unlink(region), 0);
	close(fd);
}
END_TEST

START_TEST(fs_create_exclusive)
{
	char path[ST_PATH_MAX];
	struct stat st;
	int fd;

	fd = st_region_new(path, "excl");
	ST_ASSERT_ERRNO(mshare_create(path, 0600), EEXIST);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_msg(S_ISREG(st.st_mode), "region is not a regular file: 0%o",
		      st.st_mode);
	ck_assert_int_eq(st.st_size, 0);	/* no size yet */
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}
END_TEST

START_TEST(fs_create_owner_and_umask)
{
	char path[ST_PATH_MAX];
	struct stat st;
	int fd;

	umask(027);
	st_region_path(path, sizeof(path), "umask");
	fd = mshare_create(path, 0666);
	ck_assert_msg(fd >= 0, "create: %s", strerror(errno));
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_msg((st.st_mode & 07777) == 0640,
		      "mode 0%o, want 0640 (0666 & ~027)", st.st_mode & 07777);
	ck_assert_int_eq(st.st_uid, geteuid());
	ck_assert_int_eq(st.st_gid, getegid());
	ck_assert_int_eq(unlink(path), 0);
	close(fd);

	umask(0);
	fd = mshare_create(path, 0604);
	ck_assert_msg(fd >= 0, "create: %s", strerror(errno));
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_msg((st.st_mode & 07777) == 0604, "mode 0%o, want 0604",
		      st.st_mode & 07777);
	/* chmod works as on any file. */
	ck_assert_int_eq(fchmod(fd, 0600), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}
END_TEST

START_TEST(fs_read_write_einval)
{
	char path[ST_PATH_MAX], buf[16] = "x";
	int fd;

	fd = st_region_new(path, "rw");
	ST_ASSERT_ERRNO(read(fd, buf, sizeof(buf)), EINVAL);
	ST_ASSERT_ERRNO(write(fd, buf, 1), EINVAL);
	ck_assert_int_eq(ftruncate(fd, (off_t)st_align()), 0);
	ST_ASSERT_ERRNO(read(fd, buf, sizeof(buf)), EINVAL);
	ST_ASSERT_ERRNO(write(fd, buf, 1), EINVAL);
	ST_ASSERT_ERRNO(pread(fd, buf, 1, 0), EINVAL);
	ST_ASSERT_ERRNO(pwrite(fd, buf, 1, 0), EINVAL);
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}
END_TEST

START_TEST(fs_rename_publishes)
{
	char tmp[ST_PATH_MAX], final[ST_PATH_MAX];
	unsigned char *p;
	struct stat before, after;
	int fd, fd2;

	fd = st_region_anon(tmp, "publish-tmp", ST_PAGE);
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	p[0] = 0x5a;
	ck_assert_int_eq(fstat(fd, &before), 0);

	st_region_path(final, sizeof(final), "publish-final");
	ck_assert_msg(rename(tmp, final) == 0, "rename: %s", strerror(errno));
	ST_ASSERT_ERRNO(access(tmp, F_OK), ENOENT);

	fd2 = open(final, O_RDWR | O_CLOEXEC);
	ck_assert_msg(fd2 >= 0, "open renamed: %s", strerror(errno));
	ck_assert_int_eq(fstat(fd2, &after), 0);
	ck_assert_uint_eq(after.st_ino, before.st_ino);
	ck_assert_int_eq(after.st_size, before.st_size);
	{
		unsigned char *q = st_attach(fd2, PROT_READ);

		ck_assert_uint_eq(q[0], 0x5a);
		ck_assert_int_eq(munmap(q, st_align()), 0);
	}
	ck_assert_int_eq(munmap(p, st_align()), 0);
	ck_assert_int_eq(unlink(final), 0);
	close(fd2);
	close(fd);
}
END_TEST

START_TEST(fs_rename_noreplace)
{
	char a[ST_PATH_MAX], b[ST_PATH_MAX], c[ST_PATH_MAX];
	int fda, fdb;

	fda = st_region_new(a, "noreplace-a");
	fdb = st_region_new(b, "noreplace-b");
	ST_ASSERT_ERRNO(rename_flags(a, b, RENAME_NOREPLACE), EEXIST);
	ck_assert_int_eq(access(a, F_OK), 0);

	st_region_path(c, sizeof(c), "noreplace-c");
	ck_assert_msg(rename_flags(a, c, RENAME_NOREPLACE) == 0,
		      "RENAME_NOREPLACE to a free name: %s", strerror(errno));
	ck_assert_int_eq(unlink(b), 0);
	ck_assert_int_eq(unlink(c), 0);
	close(fda);
	close(fdb);
}
END_TEST

START_TEST(fs_rename_exchange_whiteout_einval)
{
	char a[ST_PATH_MAX], b[ST_PATH_MAX], c[ST_PATH_MAX];
	int fda, fdb;

	fda = st_region_new(a, "exchange-a");
	fdb = st_region_new(b, "exchange-b");
	ST_ASSERT_ERRNO(rename_flags(a, b, RENAME_EXCHANGE), EINVAL);
	/* Unprivileged callers get EPERM from the VFS before msharefs. */
	if (geteuid() == 0) {
		st_region_path(c, sizeof(c), "whiteout-c");
		ST_ASSERT_ERRNO(rename_flags(a, c, RENAME_WHITEOUT), EINVAL);
	}
	ck_assert_int_eq(access(a, F_OK), 0);
	ck_assert_int_eq(access(b, F_OK), 0);
	ck_assert_int_eq(unlink(a), 0);
	ck_assert_int_eq(unlink(b), 0);
	close(fda);
	close(fdb);
}
END_TEST

void register_fs_tests(void)
{
	static const struct selftest_group group = { "filesystem", 60 };

	selftest_add(&group, fs_statfs_magic);
	selftest_add(&group, fs_only_region_files);
	selftest_add(&group, fs_create_exclusive);
	selftest_add(&group, fs_create_owner_and_umask);
	selftest_add(&group, fs_read_write_einval);
	selftest_add(&group, fs_rename_publishes);
	selftest_add(&group, fs_rename_noreplace);
	selftest_add(&group, fs_rename_exchange_whiteout_einval);
}
