/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Thin wrappers around the msharefs user API (kernel/UAPI.md), shared by the
 * self-test and the page-table demo.  Wrappers that issue a request return 0
 * on success or the positive errno value, so a test can compare the result
 * directly with the errno the contract promises.
 */
#ifndef MSHARE_REGION_H
#define MSHARE_REGION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "msharefs-uapi.h"

/* Where msharefs is mounted: $MSHARE_MOUNT, else /sys/fs/mshare. */
const char *mshare_mount(void);

/*
 * Is MNT an msharefs mount?  Returns 0 if so; otherwise -1 with a one-line
 * human-readable reason in WHY (used verbatim in SKIP messages).
 */
int mshare_check_mount(const char *mnt, char *why, size_t whylen);

/*
 * Parses the text of mshare_info strictly: decimal digits, one newline, no
 * other bytes.  Returns 0 and stores the value, or -1 if malformed.
 */
int mshare_parse_alignment(const char *text, size_t len, uint64_t *out);

/* Reads and parses MNT/mshare_info.  Returns 0 or a positive errno. */
int mshare_read_alignment(const char *mnt, uint64_t *align);

/* open(PATH, O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, MODE); returns fd or -1. */
int mshare_create(const char *path, mode_t mode);

/* MSHAREFS_CREATE_MAPPING with a fully caller-built request. */
int mshare_map_raw(int region_fd, const struct mshare_create *req);

/* Anonymous shared memory at [REGION_OFFSET, +SIZE) of the region. */
int mshare_map_anon(int region_fd, uint64_t region_offset, uint64_t size,
		    int prot);

/* FILE_FD's bytes from FILE_OFFSET at [REGION_OFFSET, +SIZE). */
int mshare_map_file(int region_fd, uint64_t region_offset, uint64_t size,
		    int prot, int file_fd, uint64_t file_offset);

/* MSHAREFS_UNMAP of [REGION_OFFSET, +SIZE). */
int mshare_unmap(int region_fd, uint64_t region_offset, uint64_t size);

/* mmap(NULL, SIZE, PROT, MAP_SHARED, FD, 0): attach the whole region. */
void *mshare_attach(int region_fd, uint64_t size, int prot);

#endif /* MSHARE_REGION_H */
