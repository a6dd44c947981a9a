/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Lists of SysV keys, as written in MSHARE_SHIM_SHM:
 *   "0x5432001,100-199,private"  or  "all"
 * Keys are the 32-bit values ipcs prints (decimal or 0x hex; no octal).
 * Key 0 is IPC_PRIVATE: it is matched only by `private` (or `all`), never by
 * a number or range, so "0-100" does not quietly include private segments.
 */
#ifndef SHIM_KEYMATCH_H
#define SHIM_KEYMATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SHIM_KEYLIST_MAX 32

struct shim_key_range {
	uint32_t first;
	uint32_t last;		/* inclusive */
};

struct shim_keylist {
	bool all;
	bool private_keys;
	unsigned count;
	struct shim_key_range ranges[SHIM_KEYLIST_MAX];
};

/* Empty text gives an empty list (matches nothing). */
bool shim_keylist_parse(const char *text, struct shim_keylist *list,
			char *why, size_t why_size);
bool shim_keylist_matches(const struct shim_keylist *list, key_t key);
bool shim_keylist_is_empty(const struct shim_keylist *list);

#endif
