// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A FUSE server on the raw /dev/fuse protocol (no libfuse): a root
 * directory with one read-only regular file.  READ requests are answered
 * at once, or held while the test wants the page under read to stay
 * locked.  Requests it does not know get ENOSYS, which the kernel takes
 * as "not implemented" and, for most, stops sending.
 */
#include "stalled-fuse.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define ROOT_NODE FUSE_ROOT_ID
#define FILE_NODE 2
/* The kernel refuses reads of /dev/fuse into smaller buffers. */
#define REQUEST_BUFFER (FUSE_MIN_READ_BUFFER + 65536)
#define MAX_HELD 64
/* Long validity: the kernel need not ask again during a test. */
#define VALID_SECONDS 3600

struct held_read {
	uint64_t unique;
	uint64_t offset;
	uint32_t size;
};

struct stalled_fuse {
	int dev;
	off_t size;
	char dir[256];
	pthread_t server;
	pthread_mutex_t lock;	/* guards what follows and writes to dev */
	bool holding;
	unsigned int nheld;
	struct held_read held[MAX_HELD];
	unsigned char request[REQUEST_BUFFER];
};

unsigned char stalled_fuse_byte(off_t offset)
{
	return (unsigned char)((offset & 0xff) ^ 0x5a);
}

/* Called with fs->lock held. */
static void reply(struct stalled_fuse *fs, uint64_t unique, int error,
		  const void *payload, size_t len)
{
	struct fuse_out_header out = {
		.len = (uint32_t)(sizeof(out) + len),
		.error = -error,
		.unique = unique,
	};
	struct iovec iov[2] = {
		{ &out, sizeof(out) },
		{ (void *)payload, len },
	};

	/* ENOENT: the requester was interrupted and the kernel forgot it. */
	if (writev(fs->dev, iov, len ? 2 : 1) < 0 && errno != ENOENT)
		fprintf(stderr, "# stalled-fuse: reply to %llu: %s\n",
			(unsigned long long)unique, strerror(errno));
}

static void fill_attr(const struct stalled_fuse *fs, uint64_t node,
		      struct fuse_attr *attr)
{
	memset(attr, 0, sizeof(*attr));
	attr->ino = node;
	attr->nlink = node == ROOT_NODE ? 2 : 1;
	attr->mode = node == ROOT_NODE ? S_IFDIR | 0755 : S_IFREG | 0444;
	attr->size = node == ROOT_NODE ? 0 : (uint64_t)fs->size;
	attr->blocks = (attr->size + 511) / 512;
	attr->blksize = 4096;
}

/* Called with fs->lock held. */
static void answer_read(struct stalled_fuse *fs, const struct held_read *rd)
{
	static unsigned char data[65536];
	uint64_t end = rd->offset + rd->size, i;

	if (end > (uint64_t)fs->size)
		end = (uint64_t)fs->size;
	if (end < rd->offset)
		end = rd->offset;
	if (end - rd->offset > sizeof(data))
		end = rd->offset + sizeof(data);
	for (i = rd->offset; i < end; i++)
		data[i - rd->offset] = stalled_fuse_byte((off_t)i);
	reply(fs, rd->unique, 0, data, end - rd->offset);
}

static void serve(struct stalled_fuse *fs, const struct fuse_in_header *in,
		  const void *arg)
{
	union {
		struct fuse_init_out init;
		struct fuse_entry_out entry;
		struct fuse_attr_out attr;
		struct fuse_open_out open;
	} out;

	memset(&out, 0, sizeof(out));
	pthread_mutex_lock(&fs->lock);
	switch (in->opcode) {
	case FUSE_INIT:
		out.init.major = FUSE_KERNEL_VERSION;
		out.init.minor = FUSE_KERNEL_MINOR_VERSION;
		/* One page per read: the held page is the one asked for. */
		out.init.max_readahead = 4096;
		out.init.max_write = 4096;
		out.init.time_gran = 1;
		reply(fs, in->unique, 0, &out.init, sizeof(out.init));
		break;
	case FUSE_LOOKUP:
		if (in->nodeid != ROOT_NODE ||
		    strcmp(arg, STALLED_FUSE_FILE) != 0) {
			reply(fs, in->unique, ENOENT, NULL, 0);
			break;
		}
		out.entry.nodeid = FILE_NODE;
		out.entry.entry_valid = VALID_SECONDS;
		out.entry.attr_valid = VALID_SECONDS;
		fill_attr(fs, FILE_NODE, &out.entry.attr);
		reply(fs, in->unique, 0, &out.entry, sizeof(out.entry));
		break;
	case FUSE_GETATTR:
		out.attr.attr_valid = VALID_SECONDS;
		fill_attr(fs, in->nodeid, &out.attr.attr);
		reply(fs, in->unique, 0, &out.attr, sizeof(out.attr));
		break;
	case FUSE_OPEN:
	case FUSE_OPENDIR:
		out.open.fh = in->nodeid;
		reply(fs, in->unique, 0, &out.open, sizeof(out.open));
		break;
	case FUSE_READ: {
		const struct fuse_read_in *rd_in = arg;
		struct held_read rd = {
			.unique = in->unique,
			.offset = rd_in->offset,
			.size = rd_in->size,
		};

		if (fs->holding && fs->nheld < MAX_HELD)
			fs->held[fs->nheld++] = rd;
		else
			answer_read(fs, &rd);
		break;
	}
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR:
	case FUSE_FLUSH:
		reply(fs, in->unique, 0, NULL, 0);
		break;
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
	case FUSE_INTERRUPT:
		/* No answer: held reads stay held until released. */
		break;
	default:
		reply(fs, in->unique, ENOSYS, NULL, 0);
		break;
	}
	pthread_mutex_unlock(&fs->lock);
}

static void *server_main(void *arg)
{
	struct stalled_fuse *fs = arg;

	for (;;) {
		ssize_t len = read(fs->dev, fs->request, sizeof(fs->request));
		const struct fuse_in_header *in = (const void *)fs->request;

		if (len < 0 && (errno == EINTR || errno == EAGAIN ||
				errno == ENOENT))
			continue;
		int state;

		if (len < (ssize_t)sizeof(*in))
			break;	/* ENODEV: unmounted or aborted */
		/* Not cancelled with fs->lock held (writev is a cancel point) */
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
		serve(fs, in, in + 1);
		pthread_setcancelstate(state, NULL);
	}
	return NULL;
}

struct stalled_fuse *stalled_fuse_mount(const char *dir, off_t size)
{
	struct stalled_fuse *fs = calloc(1, sizeof(*fs));
	char options[128];
	int err;

	if (!fs)
		return NULL;
	fs->size = size;
	snprintf(fs->dir, sizeof(fs->dir), "%s", dir);
	pthread_mutex_init(&fs->lock, NULL);
	fs->dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fs->dev < 0)
		goto fail;
	snprintf(options, sizeof(options),
		 "fd=%d,rootmode=40000,user_id=%u,group_id=%u,allow_other",
		 fs->dev, (unsigned int)getuid(), (unsigned int)getgid());
	if (mount("stalled-fuse", dir, "fuse", MS_NOSUID | MS_NODEV,
		  options) != 0)
		goto fail_dev;
	err = pthread_create(&fs->server, NULL, server_main, fs);
	if (err) {
		umount2(dir, MNT_DETACH);
		errno = err;
		goto fail_dev;
	}
	return fs;

fail_dev:
	err = errno;
	close(fs->dev);
	errno = err;
fail:
	err = errno;
	free(fs);
	errno = err;
	return NULL;
}

void stalled_fuse_hold_reads(struct stalled_fuse *fs)
{
	pthread_mutex_lock(&fs->lock);
	fs->holding = true;
	pthread_mutex_unlock(&fs->lock);
}

unsigned int stalled_fuse_held(struct stalled_fuse *fs)
{
	unsigned int n;

	pthread_mutex_lock(&fs->lock);
	n = fs->nheld;
	pthread_mutex_unlock(&fs->lock);
	return n;
}

void stalled_fuse_release(struct stalled_fuse *fs)
{
	pthread_mutex_lock(&fs->lock);
	fs->holding = false;
	for (unsigned int i = 0; i < fs->nheld; i++)
		answer_read(fs, &fs->held[i]);
	fs->nheld = 0;
	pthread_mutex_unlock(&fs->lock);
}

void stalled_fuse_unmount(struct stalled_fuse *fs)
{
	stalled_fuse_release(fs);
	if (umount2(fs->dir, MNT_DETACH) != 0)
		fprintf(stderr, "# stalled-fuse: umount %s: %s\n", fs->dir,
			strerror(errno));
	/* A lazy unmount leaves the connection to the last user: stop here */
	pthread_cancel(fs->server);
	pthread_join(fs->server, NULL);
	close(fs->dev);
	pthread_mutex_destroy(&fs->lock);
	free(fs);
}
