/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/pathglob.h"

#include "core/textfmt.h"

/*
 * Matches the bracket expression starting after '[' at p (end at pend)
 * against c.  Returns the position after the closing ']' or NULL when the
 * set is unterminated; *matched says whether c is in the set.
 */
static const char *match_set(const char *p, const char *pend, char c,
			     bool *matched)
{
	bool negate = false, found = false;

	if (p < pend && (*p == '!' || *p == '^')) {
		negate = true;
		p++;
	}
	/* A ']' right after '[' or '[!' is a member, not the end. */
	for (bool first = true; p < pend; first = false) {
		if (*p == ']' && !first) {
			/* '/' is never matched by a set: FNM_PATHNAME. */
			*matched = c != '/' && found != negate;
			return p + 1;
		}
		char lo = *p++;

		if (lo == '\\' && p < pend)
			lo = *p++;
		char hi = lo;

		if (p + 1 < pend && *p == '-' && p[1] != ']') {
			hi = p[1];
			p += 2;
			if (hi == '\\' && p < pend)
				hi = *p++;
		}
		if ((unsigned char)c >= (unsigned char)lo &&
		    (unsigned char)c <= (unsigned char)hi)
			found = true;
	}
	return NULL;
}

/*
 * Iterative matching with one backtrack point (the last '*'): linear in
 * practice and no recursion, so a hostile pattern cannot blow the stack.
 * Going back to the last star is enough: an earlier star could only help
 * by absorbing a '/', which a star never does.
 */
bool shim_glob_match(const char *pattern, size_t pattern_len, const char *path)
{
	const char *p = pattern, *pend = pattern + pattern_len, *s = path;
	const char *star_p = NULL, *star_s = NULL;

	for (;;) {
		if (p < pend && *p == '*') {
			while (p < pend && *p == '*')
				p++;
			star_p = p;
			star_s = s;
			continue;
		}
		if (*s == '\0') {
			if (p == pend)
				return true;
		} else if (p < pend) {
			bool ok;
			const char *next = p + 1;

			if (*p == '?') {
				ok = *s != '/';
			} else if (*p == '[') {
				next = match_set(p + 1, pend, *s, &ok);
				if (!next) {	/* unterminated: a literal '[' */
					ok = *s == '[';
					next = p + 1;
				}
			} else if (*p == '\\' && p + 1 < pend) {
				ok = *s == p[1];
				next = p + 2;
			} else {
				ok = *s == *p;
			}
			if (ok) {
				p = next;
				s++;
				continue;
			}
		}
		/* Mismatch: let the last star take one more character. */
		if (!star_p || *star_s == '\0' || *star_s == '/')
			return false;
		star_s++;
		p = star_p;
		s = star_s;
	}
}

bool shim_glob_list_match(const char *list, const char *path)
{
	for (const char *p = list; *p;) {
		const char *end = p;

		while (*end && *end != ':')
			end++;
		if (shim_glob_match(p, (size_t)(end - p), path))
			return true;
		if (!*end)
			break;
		p = end + 1;
	}
	return false;
}

bool shim_glob_check(const char *pattern, size_t pattern_len,
		     char *why, size_t why_size)
{
	const char *pend = pattern + pattern_len;

	if (pattern_len == 0) {
		shim_format(why, why_size, "is empty");
		return false;
	}
	if (pattern[0] != '/') {
		shim_format(why, why_size,
			    "is not absolute (patterns match canonical paths, like /dev/shm/ora_*)");
		return false;
	}
	for (const char *p = pattern; p < pend; p++) {
		if (*p == '\\') {
			if (p + 1 == pend) {
				shim_format(why, why_size, "ends with a lone '\\'");
				return false;
			}
			p++;
		} else if (*p == '[') {
			bool unused;
			const char *close = match_set(p + 1, pend, 'a', &unused);

			if (!close) {
				shim_format(why, why_size, "has a '[' without ']'");
				return false;
			}
			p = close - 1;
		}
	}
	return true;
}
