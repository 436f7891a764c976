/* utf8.h - decoding one UTF-8 sequence (RFC 3629). */
#ifndef OPENBOOK_CORE_UTF8_H
#define OPENBOOK_CORE_UTF8_H

#include <stddef.h>

/* The UTF-8 sequence at s[0..n) (n > 0): its length (1..4), with its code
 * point in *cp; 0 when it is not valid UTF-8 (overlong, a surrogate, past
 * U+10FFFF, or cut short). */
size_t ob_utf8_decode(const char *s, size_t n, unsigned *cp);

#endif
