/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Thin wrappers around the msharefs user API; see mshare-region.h. */
#include "mshare-region.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

const char *mshare_mount(void)
{
	const char *env = getenv("MSHARE_MOUNT");

	return env && *env ? env : MSHAREFS_DEFAULT_MOUNT;
}

int mshare_check_mount(const char *mnt, char *why, size_t whylen)
{
	struct statfs sfs;

	if (statfs(mnt, &sfs) != 0) {
		snprintf(why, whylen, "no msharefs at %s (statfs: %s)", mnt,
			 strerror(errno));
		return -1;
	}
	if ((unsigned long)sfs.f_type != MSHARE_MAGIC) {
		snprintf(why, whylen,
			 "no msharefs at %s (f_type 0x%lx, want 0x%x)", mnt,
			 (unsigned long)sfs.f_type, MSHARE_MAGIC);
		return -1;
	}
	return 0;
}

int mshare_parse_alignment(const char *text, size_t len, uint64_t *out)
{
	uint64_t value = 0;
	size_t i;

	/* At least one digit, then exactly one trailing newline. */
	if (len < 2 || text[len - 1] != '\n')
		return -1;
	for (i = 0; i < len - 1; i++) {
		unsigned digit;

		if (text[i] < '0' || text[i] > '9')
			return -1;
		digit = (unsigned)(text[i] - '0');
		if (value > (UINT64_MAX - digit) / 10)
			return -1;
		value = value * 10 + digit;
	}
	*out = value;
	return 0;
}

int mshare_read_alignment(const char *mnt, uint64_t *align)
{
	char path[4096], text[64];
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", mnt, MSHAREFS_INFO_NAME);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	n = read(fd, text, sizeof(text));
	if (n < 0)
		err = errno;
	else if (mshare_parse_alignment(text, (size_t)n, align) != 0)
		err = EPROTO;
	close(fd);
	return err;
}

int mshare_create(const char *path, mode_t mode)
{
	return open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
}

int mshare_map_raw(int region_fd, const struct mshare_create *req)
{
	return ioctl(region_fd, MSHAREFS_CREATE_MAPPING, req) == 0 ? 0 : errno;
}

int mshare_map_anon(int region_fd, uint64_t region_offset, uint64_t size,
		    int prot)
{
	struct mshare_create req = {
		.region_offset = region_offset,
		.size = size,
		.offset = 0,
		.prot = (__u32)prot,
		.flags = MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS,
		.fd = (__u32)-1,
	};

	return mshare_map_raw(region_fd, &req);
}

int mshare_map_file(int region_fd, uint64_t region_offset, uint64_t size,
		    int prot, int file_fd, uint64_t file_offset)
{
	struct mshare_create req = {
		.region_offset = region_offset,
		.size = size,
		.offset = file_offset,
		.prot = (__u32)prot,
		.flags = MAP_SHARED | MAP_FIXED,
		.fd = (__u32)file_fd,
	};

	return mshare_map_raw(region_fd, &req);
}

int mshare_unmap(int region_fd, uint64_t region_offset, uint64_t size)
{
	struct mshare_unmap req = {
		.region_offset = region_offset,
		.size = size,
	};

	return ioctl(region_fd, MSHAREFS_UNMAP, &req) == 0 ? 0 : errno;
}

void *mshare_attach(int region_fd, uint64_t size, int prot)
{
	return mmap(NULL, (size_t)size, prot, MAP_SHARED, region_fd, 0);
}
