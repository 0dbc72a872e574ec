/* format.c: the runtime's snprintf and number parsing.
 *
 * The runtime's messages, file names and reports need a handful of
 * conversions; musl's printf would bring printf_core, fmt_fp (floating
 * point) and their helpers, about 11 KiB of code per ISA, into every
 * migratable program, and strtoull its integer scanner, whether or not the
 * program itself formats anything. Supported here: %% %c %s %.*s %.Ns,
 * %d %i %u %x with the l, ll and z length modifiers, a width, and the 0
 * flag for numbers. Anything else is copied as written.
 */
#include <stdarg.h>

#include "rt.h"

struct out {
	char *buf;
	size_t cap, len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->cap)
		o->buf[o->len] = c;
	o->len++;
}

static void put_number(struct out *o, unsigned long long v, int negative, unsigned base,
		       int width, char pad)
{
	char digits[24];
	int n = 0;
	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	int len = n + negative;
	if (negative && pad == '0')
		put(o, '-');
	for (; width > len; width--)
		put(o, pad);
	if (negative && pad != '0')
		put(o, '-');
	while (n)
		put(o, digits[--n]);
}

int landmark_vformat(char *buf, size_t cap, const char *fmt, va_list ap)
{
	struct out o = {buf, cap, 0};
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			put(&o, *p);
			continue;
		}
		const char *start = p++;
		char pad = ' ';
		int width = 0, precision = -1, size = 0; /* 1: l, 2: ll, 3: z */
		if (*p == '0') {
			pad = '0';
			p++;
		}
		while (*p >= '0' && *p <= '9')
			width = width * 10 + (*p++ - '0');
		if (*p == '.') {
			p++;
			if (*p == '*') {
				precision = va_arg(ap, int);
				p++;
			} else {
				for (precision = 0; *p >= '0' && *p <= '9'; p++)
					precision = precision * 10 + (*p - '0');
			}
		}
		if (*p == 'l') {
			size = 1;
			if (*++p == 'l') {
				size = 2;
				p++;
			}
		} else if (*p == 'z') {
			size = 3;
			p++;
		}
		switch (*p) {
		case 'd':
		case 'i': {
			long long v = size == 2   ? va_arg(ap, long long)
				      : size == 1 ? va_arg(ap, long)
				      : size == 3 ? (long long)va_arg(ap, size_t)
						  : va_arg(ap, int);
			unsigned long long m = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
			put_number(&o, m, v < 0, 10, width, pad);
			break;
		}
		case 'u':
		case 'x': {
			unsigned long long v = size == 2   ? va_arg(ap, unsigned long long)
					       : size == 1 ? va_arg(ap, unsigned long)
					       : size == 3 ? va_arg(ap, size_t)
							   : va_arg(ap, unsigned);
			put_number(&o, v, 0, *p == 'x' ? 16 : 10, width, pad);
			break;
		}
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			int n = 0;
			while (s[n] && (precision < 0 || n < precision))
				n++;
			for (; width > n; width--)
				put(&o, ' ');
			for (int i = 0; i < n; i++)
				put(&o, s[i]);
			break;
		}
		case '%':
			put(&o, '%');
			break;
		default: /* not supported: as written */
			for (const char *q = start; q <= p && *q; q++)
				put(&o, *q);
			if (!*p)
				p--;
			break;
		}
	}
	if (cap)
		buf[o.len < cap ? o.len : cap - 1] = 0;
	return (int)o.len;
}

int landmark_format(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = landmark_vformat(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}

unsigned long long landmark_parse_u64(const char *s)
{
	unsigned long long v = 0;
	while (s && *s >= '0' && *s <= '9')
		v = v * 10 + (unsigned long long)(*s++ - '0');
	return v;
}
