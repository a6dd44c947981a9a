/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers of the shmat(SHM_SHARE_MMU) selftests (selftest-sysv*.c). */
#ifndef SELFTEST_SYSV_H
#define SELFTEST_SYSV_H

#include <stdbool.h>
#include <stddef.h>

#include "msharefs-uapi.h"	/* SHM_SHARE_MMU, its sysctl */

#define MIB (1024UL * 1024)

/* Skips TEST (true) where the kernel has no SHM_SHARE_MMU. */
bool no_share_mmu(const char *test);
/* A new private segment; the test fails if shmget() does. */
int new_segment(size_t size, int mode);
void remove_segment(int id);
/* shmat(ID, NULL, FLAGS); the test fails if it does. */
unsigned char *attach(int id, int flags);
/* Whether the VMA starting at P shares its page tables (VmFlags st). */
bool is_shared_attachment(const void *p);
unsigned long nattch(int id);
/* A free, 2 MiB-aligned address of LEN bytes, left unmapped. */
void *free_address(size_t len);

#endif
