/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Strict unsigned number parsing shared by the key and size parsers: no sign,
 * no octal, no whitespace, no silent overflow, and a reason when it fails.
 */
#ifndef SHIM_NUMBER_H
#define SHIM_NUMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parses the leading digits of text[0..len): decimal, or hexadecimal after
 * "0x"/"0X" when allow_hex.  Stores the value and the number of characters
 * consumed; the caller decides what may follow.  On failure writes why.
 */
bool shim_parse_u64_prefix(const char *text, size_t len, bool allow_hex,
			   uint64_t *value, size_t *consumed,
			   char *why, size_t why_size);

#endif
