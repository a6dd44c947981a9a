/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/size.h"

#include <string.h>

#include "core/number.h"
#include "core/textfmt.h"

static int suffix_shift(char c)
{
	switch (c) {
	case 'k': case 'K': return 10;
	case 'm': case 'M': return 20;
	case 'g': case 'G': return 30;
	case 't': case 'T': return 40;
	default: return -1;
	}
}

bool shim_size_parse(const char *text, uint64_t *bytes,
		     char *why, size_t why_size)
{
	size_t len = strlen(text);
	uint64_t value;
	size_t used;
	char num_why[96];

	if (len == 0) {
		shim_format(why, why_size, "empty size");
		return false;
	}
	if (!shim_parse_u64_prefix(text, len, false, &value, &used,
				   num_why, sizeof(num_why))) {
		shim_format(why, why_size, "'%s': %s", text, num_why);
		return false;
	}
	const char *rest = text + used;

	if (*rest == '\0') {
		*bytes = value;
		return true;
	}
	int shift = suffix_shift(*rest);

	if (shift < 0 || (rest[1] != '\0' && strcmp(rest + 1, "iB") != 0 &&
			  strcmp(rest + 1, "ib") != 0)) {
		shim_format(why, why_size,
			    "'%s': bad suffix '%s' (use K, M, G or T, optionally followed by iB; units are binary)",
			    text, rest);
		return false;
	}
	if (value > (UINT64_MAX >> shift)) {
		shim_format(why, why_size, "'%s': size too large", text);
		return false;
	}
	*bytes = value << shift;
	return true;
}

bool shim_size_round_up(uint64_t value, uint64_t align, uint64_t *rounded)
{
	if (align == 0)
		return false;
	uint64_t rem = value % align;

	if (rem == 0) {
		*rounded = value;
		return true;
	}
	if (value > UINT64_MAX - (align - rem))
		return false;
	*rounded = value + (align - rem);
	return true;
}
