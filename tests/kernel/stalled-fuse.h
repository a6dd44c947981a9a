/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A FUSE file system whose reads can be held: the page the kernel reads
 * stays locked in the page cache until the test lets the answer go, as
 * with a stalled network file server or a dying disk.
 */
#ifndef STALLED_FUSE_H
#define STALLED_FUSE_H

#include <stdbool.h>
#include <sys/types.h>

struct stalled_fuse;

/* The name of the one regular file in the mount's root. */
#define STALLED_FUSE_FILE "file"

/* The byte at OFFSET of that file. */
unsigned char stalled_fuse_byte(off_t offset);

/*
 * Mounts the file system at DIR (an empty directory; needs
 * CAP_SYS_ADMIN) with a file of SIZE bytes and serves it from a thread.
 * NULL with errno set when this kernel or user has no FUSE.
 */
struct stalled_fuse *stalled_fuse_mount(const char *dir, off_t size);

/* From now on, READ requests wait until stalled_fuse_release(). */
void stalled_fuse_hold_reads(struct stalled_fuse *fs);

/* How many READ requests wait now. */
unsigned int stalled_fuse_held(struct stalled_fuse *fs);

/* Answers the waiting READ requests and stops holding new ones. */
void stalled_fuse_release(struct stalled_fuse *fs);

/* Answers what waits, detaches the mount and stops the server. */
void stalled_fuse_unmount(struct stalled_fuse *fs);

#endif
