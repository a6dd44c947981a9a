/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/number.h"

#include "core/textfmt.h"

static int digit_value(char c, unsigned base)
{
	int v;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	else
		return -1;
	return v < (int)base ? v : -1;
}

bool shim_parse_u64_prefix(const char *text, size_t len, bool allow_hex,
			   uint64_t *value, size_t *consumed,
			   char *why, size_t why_size)
{
	unsigned base = 10;
	size_t i = 0;

	if (allow_hex && len >= 2 && text[0] == '0' &&
	    (text[1] == 'x' || text[1] == 'X')) {
		base = 16;
		i = 2;
	}
	size_t first_digit = i;
	uint64_t v = 0;

	for (; i < len; i++) {
		int d = digit_value(text[i], base);

		if (d < 0)
			break;
		if (v > (UINT64_MAX - (uint64_t)d) / base) {
			shim_format(why, why_size, "number too large");
			return false;
		}
		v = v * base + (uint64_t)d;
	}
	if (i == first_digit) {
		shim_format(why, why_size, base == 16 ?
			    "no hex digits after 0x" : "not a number");
		return false;
	}
	/* "010" would mean 8 to C and 10 to a human: refuse to guess. */
	if (base == 10 && text[0] == '0' && i > 1) {
		shim_format(why, why_size,
			    "leading zero (octal is not supported; write decimal or 0x hex)");
		return false;
	}
	*value = v;
	*consumed = i;
	return true;
}
