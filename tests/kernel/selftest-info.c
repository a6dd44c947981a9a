/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mshare_info: the alignment file every user reads first (UAPI.md "mshare_info"). */
#include "selftest.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static void info_path(char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", mshare_mount(), MSHAREFS_INFO_NAME);
}

START_TEST(info_content_is_alignment)
{
	char path[ST_PATH_MAX], text[64];
	uint64_t align;
	ssize_t n;
	int fd;

	info_path(path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	n = read(fd, text, sizeof(text) - 1);
	ck_assert_msg(n > 0, "read %s: %zd (%s)", path, n, strerror(errno));
	text[n] = '\0';
	ck_assert_msg(mshare_parse_alignment(text, (size_t)n, &align) == 0,
		      "mshare_info is not decimal digits plus newline: \"%s\"",
		      text);
	ck_assert_msg(align >= (2u << 20) && (align & (align - 1)) == 0,
		      "alignment %llu is not a power of two >= 2 MiB",
		      (unsigned long long)align);
#if defined(__x86_64__)
	/* P4D_SIZE with 4- and 5-level paging alike. */
	ck_assert_str_eq(text, "549755813888\n");
#endif
	/* A second read continues at EOF. */
	ck_assert_int_eq(read(fd, text, sizeof(text)), 0);
	close(fd);
}
END_TEST

START_TEST(info_mode_0444_root)
{
	st_check_fixed_file_mode(MSHAREFS_INFO_NAME);
}
END_TEST

START_TEST(info_cannot_unlink_or_rename)
{
	st_check_fixed_file_stays(MSHAREFS_INFO_NAME);
}
END_TEST

START_TEST(info_cannot_be_written)
{
	char path[ST_PATH_MAX];
	uint64_t before = st_align(), after = 0;
	int fd;

	info_path(path, sizeof(path));
	/* Root passes the 0444 mode check, so the write itself must fail. */
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = write(fd, "4096\n", 5);

		close(fd);
		ck_assert_msg(n == -1, "write to mshare_info returned %zd", n);
	}
	ST_ASSERT_RC(mshare_read_alignment(mshare_mount(), &after), 0);
	ck_assert_uint_eq(after, before);
}
END_TEST

void register_info_tests(void)
{
	static const struct selftest_group group = { "mshare_info", 60 };

	selftest_add(&group, info_content_is_alignment);
	selftest_add(&group, info_mode_0444_root);
	selftest_add(&group, info_cannot_unlink_or_rename);
	selftest_add(&group, info_cannot_be_written);
}
