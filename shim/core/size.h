/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Byte sizes as people write them ("64M", "1GiB") and alignment arithmetic. */
#ifndef SHIM_SIZE_H
#define SHIM_SIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Accepts a decimal number of bytes with an optional binary suffix:
 * K, M, G, T (either case), each optionally followed by "iB" ("64MiB").
 * "KB"/"MB" are refused because people mean 1000 or 1024 by them.
 */
bool shim_size_parse(const char *text, uint64_t *bytes,
		     char *why, size_t why_size);

/* Rounds value up to a multiple of align (align > 0); false on overflow. */
bool shim_size_round_up(uint64_t value, uint64_t align, uint64_t *rounded);

#endif
