#!/usr/bin/env python3
# tests/reference/fmt/gen_repr.py - make repr.txt, the oracle for the shortest
# double formatter (tests/test_fmt.c).
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: python3 tests/reference/fmt/gen_repr.py > tests/reference/fmt/repr.txt
#
# Each line: the 64 bits of a double in hex, a space, Python's repr() of it.
# CPython's repr is the shortest string that reads back as the same double,
# and of those the closest (David Gay's dtoa.c, mode 0), an implementation
# independent of ours.  The values: fixed-seed random bit patterns, random
# short decimals, every power of ten in range and every third power of two,
# the ends of the subnormal and normal ranges, neighbours of powers of two
# and ten, integers around 2^53, and values whose scaled decimal ends in .5.
import math
import random
import struct
import sys


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def main():
    rng = random.Random(20261202)
    vals = []
    for _ in range(1500):  # any finite bit pattern
        while True:
            b = rng.getrandbits(64)
            x = struct.unpack("<d", struct.pack("<Q", b))[0]
            if math.isfinite(x):
                break
        vals.append(x)
    for _ in range(800):  # short decimals, 1..17 digits, as in data files
        nd = rng.randint(1, 17)
        m = rng.randrange(10 ** (nd - 1), 10 ** nd)
        e = rng.randint(-30, 30)
        vals.append(float("%de%d" % (m, e)))
    for _ in range(300):  # numbers of a batch output row: p-values, I2, ...
        vals.append(rng.random() * 10 ** rng.randint(-12, 3))
    for e in range(-323, 309):
        vals.append(float("1e%d" % e))
    for e in range(-1074, 1024, 3):
        vals.append(math.ldexp(1.0, e))
    for x in [5e-324, 1e-323, 1.5e-323, 2.225073858507201e-308, 2.2250738585072014e-308,
              1.7976931348623157e308, 0.1, 0.2, 0.3, 1 / 3, 2 / 3, 2.0 ** 53, 2.0 ** 53 + 2,
              2.0 ** 54, 2.0 ** 63, 2.0 ** 64, 123456789012345678.0, 1e16, 1e17, 9.999999999999999e16]:
        vals.append(x)
    for e in range(-1070, 1020, 37):  # neighbours of powers of two
        p = math.ldexp(1.0, e)
        vals += [math.nextafter(p, 0.0), math.nextafter(p, math.inf)]
    for e in range(-300, 300, 7):  # neighbours of powers of ten
        p = float("1e%d" % e)
        vals += [math.nextafter(p, 0.0), math.nextafter(p, math.inf)]
    for i in range(200):  # integers around 2^53 and larger
        vals.append(float(2 ** 53 - 100 + i * 3))
        vals.append(float(rng.randrange(2 ** 53, 2 ** 64)))
    for _ in range(300):  # c 2^-4 with c = 2 * odd: x * 100 ends in .5
        c = 2 ** 52 + 2 * (2 * rng.randrange(2 ** 49) + 1)
        vals.append(math.ldexp(float(c), -4))
    seen = set()
    out = sys.stdout
    for x in vals:
        for y in (x, -x) if rng.random() < 0.2 else (x,):
            b = bits(y)
            if b in seen:
                continue
            seen.add(b)
            out.write("%016x %r\n" % (b, y))


if __name__ == "__main__":
    main()
