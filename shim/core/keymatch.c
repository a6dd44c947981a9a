/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/keymatch.h"

#include <string.h>
#include <sys/ipc.h>

#include "core/number.h"
#include "core/textfmt.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool word_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* Parses one key bound; the whole of s[0..len) must be the number. */
static bool parse_key(const char *s, size_t len, uint32_t *key,
		      char *why, size_t why_size)
{
	uint64_t v;
	size_t used;

	if (len == 0) {
		shim_format(why, why_size, "missing number");
		return false;
	}
	if (!shim_parse_u64_prefix(s, len, true, &v, &used, why, why_size))
		return false;
	if (used != len) {
		char junk[64];
		size_t n = len - used < sizeof(junk) - 1 ? len - used : sizeof(junk) - 1;

		memcpy(junk, s + used, n);
		junk[n] = '\0';
		shim_format(why, why_size, "trailing junk '%s' after the number", junk);
		return false;
	}
	if (v > UINT32_MAX) {
		shim_format(why, why_size, "key out of range (keys are 32-bit: at most 0xffffffff)");
		return false;
	}
	*key = (uint32_t)v;
	return true;
}

static bool parse_element(const char *s, size_t len, struct shim_keylist *list,
			  char *why, size_t why_size)
{
	if (word_is(s, len, "all")) {
		list->all = true;
		return true;
	}
	if (word_is(s, len, "private")) {
		list->private_keys = true;
		return true;
	}
	const char *dash = memchr(s, '-', len);
	struct shim_key_range r;

	if (dash) {
		if (!parse_key(s, (size_t)(dash - s), &r.first, why, why_size))
			return false;
		if (!parse_key(dash + 1, len - (size_t)(dash - s) - 1, &r.last,
			       why, why_size))
			return false;
		if (r.first > r.last) {
			shim_format(why, why_size,
				    "reversed range (first bound is larger than the last)");
			return false;
		}
	} else {
		if (!parse_key(s, len, &r.first, why, why_size))
			return false;
		if (r.first == IPC_PRIVATE) {
			shim_format(why, why_size,
				    "key 0 is IPC_PRIVATE: write 'private'");
			return false;
		}
		r.last = r.first;
	}
	if (list->count == SHIM_KEYLIST_MAX) {
		shim_format(why, why_size, "more than %d keys or ranges",
			    SHIM_KEYLIST_MAX);
		return false;
	}
	list->ranges[list->count++] = r;
	return true;
}

bool shim_keylist_parse(const char *text, struct shim_keylist *list,
			char *why, size_t why_size)
{
	memset(list, 0, sizeof(*list));
	if (text[0] == '\0')
		return true;

	unsigned index = 1;
	const char *p = text;

	for (;;) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		const char *b = p, *e = end;

		while (b < e && is_blank(*b))
			b++;
		while (e > b && is_blank(e[-1]))
			e--;

		char element[64];
		size_t n = (size_t)(e - b) < sizeof(element) - 1 ?
			   (size_t)(e - b) : sizeof(element) - 1;
		char element_why[160];

		memcpy(element, b, n);
		element[n] = '\0';
		if (b == e) {
			shim_format(why, why_size, "element %u is empty", index);
			return false;
		}
		if (!parse_element(b, (size_t)(e - b), list,
				   element_why, sizeof(element_why))) {
			shim_format(why, why_size, "element %u '%s': %s",
				    index, element, element_why);
			return false;
		}
		if (!comma)
			return true;
		p = comma + 1;
		index++;
	}
}

bool shim_keylist_matches(const struct shim_keylist *list, key_t key)
{
	if (list->all)
		return true;
	if (key == IPC_PRIVATE)
		return list->private_keys;

	uint32_t k = (uint32_t)key;

	for (unsigned i = 0; i < list->count; i++)
		if (k >= list->ranges[i].first && k <= list->ranges[i].last)
			return true;
	return false;
}

bool shim_keylist_is_empty(const struct shim_keylist *list)
{
	return !list->all && !list->private_keys && list->count == 0;
}
