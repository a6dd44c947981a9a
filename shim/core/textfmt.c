/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/textfmt.h"

#include <stdbool.h>
#include <stdint.h>

struct sink {
	char *buf;
	size_t size;
	size_t len;		/* length of the full text, even past size */
};

static void put_char(struct sink *s, char c)
{
	if (s->size && s->len < s->size - 1)
		s->buf[s->len] = c;
	s->len++;
}

static void put_padded(struct sink *s, const char *digits, size_t n,
		       unsigned width, char pad, bool negative)
{
	size_t used = n + (negative ? 1 : 0);

	if (negative && pad == '0')
		put_char(s, '-');
	for (; used < width; used++)
		put_char(s, pad);
	if (negative && pad != '0')
		put_char(s, '-');
	while (n)
		put_char(s, digits[--n]);	/* digits are stored reversed */
}

static void put_unsigned(struct sink *s, unsigned long long v, unsigned base,
			 bool upper, unsigned width, char pad, bool negative)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char digits[24];
	size_t n = 0;

	do {
		digits[n++] = set[v % base];
		v /= base;
	} while (v);
	put_padded(s, digits, n, width, pad, negative);
}

size_t shim_vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s = { buf, size, 0 };

	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			put_char(&s, *p);
			continue;
		}
		p++;
		char pad = ' ';
		unsigned width = 0;
		int longs = 0;
		bool size_t_arg = false;

		if (*p == '0') {
			pad = '0';
			p++;
		}
		while (*p >= '0' && *p <= '9')
			width = width * 10 + (unsigned)(*p++ - '0');
		while (*p == 'l') {
			longs++;
			p++;
		}
		if (*p == 'z') {
			size_t_arg = true;
			p++;
		}

		switch (*p) {
		case 's': {
			const char *str = va_arg(ap, const char *);
			size_t n = 0;

			if (!str)
				str = "(null)";
			while (str[n])
				n++;
			for (size_t i = n; i < width; i++)
				put_char(&s, ' ');
			for (size_t i = 0; i < n; i++)
				put_char(&s, str[i]);
			break;
		}
		case 'c':
			put_char(&s, (char)va_arg(ap, int));
			break;
		case 'd':
		case 'i': {
			long long v;

			if (size_t_arg)
				v = va_arg(ap, long);	/* ssize_t */
			else if (longs >= 2)
				v = va_arg(ap, long long);
			else if (longs == 1)
				v = va_arg(ap, long);
			else
				v = va_arg(ap, int);
			unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v
						       : (unsigned long long)v;
			put_unsigned(&s, mag, 10, false, width, pad, v < 0);
			break;
		}
		case 'u':
		case 'o':
		case 'x':
		case 'X': {
			unsigned long long v;

			if (size_t_arg)
				v = va_arg(ap, size_t);
			else if (longs >= 2)
				v = va_arg(ap, unsigned long long);
			else if (longs == 1)
				v = va_arg(ap, unsigned long);
			else
				v = va_arg(ap, unsigned int);
			put_unsigned(&s, v, *p == 'u' ? 10 : *p == 'o' ? 8 : 16,
				     *p == 'X',
				     width, pad, false);
			break;
		}
		case 'p':
			put_char(&s, '0');
			put_char(&s, 'x');
			put_unsigned(&s, (uintptr_t)va_arg(ap, void *), 16,
				     false, width, pad, false);
			break;
		case '%':
			put_char(&s, '%');
			break;
		case '\0':
			p--;		/* a lone '%' at the end: stop cleanly */
			break;
		default:
			put_char(&s, '%');
			put_char(&s, *p);
			break;
		}
	}
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return s.len;
}

size_t shim_format(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	size_t n = shim_vformat(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
