/* din.c - ISBT 128 Donation Identification Numbers in donation codes.
 *
 * A DIN is 13 characters: the facility identification number (one letter
 * or digit, then four digits), the year (two digits) and the sequence
 * number (six digits); printed as "W1234 26 123456". Eye-readable labels
 * add two flag characters and a check character: "W1234 26 123456 00 K".
 * The check character is ISO 7064 MOD 37-2 over the 13 DIN characters
 * only (not the flags): character values 0-9 -> 0..9, A-Z -> 10..35,
 * '*' -> 36; the pure system with radix 2:
 *     p = 0; for each character a: p = ((p + a) * 2) mod 37
 *     check value = (38 - p) mod 37, i.e. (p + check) = 1 (mod 37).
 * A code that has this shape with a check character is checked; a bare
 * 13-character DIN and every other national code stay free-form. */
#include "api.h"

#include <ctype.h>
#include <string.h>

static const char din_alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";

static int din_value(char c)
{
    const char *p = c ? strchr(din_alphabet, c) : NULL;
    return p ? (int)(p - din_alphabet) : -1;
}

char api__din_check_char(const char din[13])
{
    int p = 0;
    for (int i = 0; i < 13; i++) {
        int v = din_value(din[i]);
        if (v < 0)
            return '\0';
        p = ((p + v) * 2) % 37;
    }
    return din_alphabet[(38 - p) % 37];
}

int api__din_check(const char *code, char expected[2])
{
    char s[20];
    size_t n = 0;
    expected[0] = expected[1] = '\0';
    for (const char *c = code; *c; c++) {
        if (*c == ' ')
            continue;
        if (n == sizeof s - 1)
            return 0; /* too long for a DIN: free-form */
        s[n++] = *c;
    }
    s[n] = '\0';
    if (n != 14 && n != 16)
        return 0;
    if (!isalnum((unsigned char)s[0]) || islower((unsigned char)s[0]))
        return 0;
    for (size_t i = 1; i < 13; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    if (n == 16 && (!isdigit((unsigned char)s[13]) || !isdigit((unsigned char)s[14])))
        return 0;
    char k = s[n - 1];
    if (din_value(k) < 0)
        return 0; /* not a check character: free-form */
    expected[0] = api__din_check_char(s);
    expected[1] = k;
    return k == expected[0] ? 1 : -1;
}
