#!/usr/bin/env python3
# tests/tools/png_check.py - a PNG is a real picture: its size, and not blank.
# Copyright (C) 2026 the metapool authors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: png_check.py FILE.png [MIN_WIDTH MIN_HEIGHT]
# Decodes the PNG with the standard library only (zlib; 8-bit grey, RGB,
# grey+alpha and RGBA, non-interlaced: what librsvg and cairo write) and
# checks: the signature, the size (at least MIN_WIDTH x MIN_HEIGHT, default
# 100 x 50), that at least 0.5 % of the pixels are ink (not white and not
# transparent) and that there is white or transparent background too.
# Prints "WIDTHxHEIGHT ink=PERCENT%"; exit status 1 with a reason otherwise.
import struct
import sys
import zlib


def fail(msg):
    sys.exit("png_check: %s: %s" % (sys.argv[1], msg))


def main():
    path = sys.argv[1]
    minw = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    minh = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("not a PNG (signature)")
    pos, idat, hdr = 8, [], None
    while pos + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + n
    if not hdr:
        fail("no IHDR")
    w, h, depth, ctype, _, _, interlace = hdr
    chans = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
    if depth != 8 or chans is None or interlace:
        fail("unsupported PNG form (depth %d, colour type %d, interlace %d)" % (depth, ctype, interlace))
    if w < minw or h < minh:
        fail("%dx%d is smaller than %dx%d" % (w, h, minw, minh))
    raw = zlib.decompress(b"".join(idat))
    stride = w * chans
    if len(raw) != h * (stride + 1):
        fail("pixel data of the wrong length")
    prev = bytearray(stride)
    ink = 0
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):  # undo the filter (PNG spec, section 9)
            a = line[i - chans] if i >= chans else 0
            b = prev[i]
            c = prev[i - chans] if i >= chans else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
            elif f != 0:
                fail("bad filter type %d" % f)
        for x in range(0, stride, chans):
            px = line[x:x + chans]
            alpha = px[-1] if chans in (2, 4) else 255
            col = px[:3] if chans >= 3 else px[:1]
            if alpha > 32 and min(col) < 200:
                ink += 1
        prev = line
    frac = ink / float(w * h)
    print("%dx%d ink=%.2f%%" % (w, h, 100 * frac))
    if frac < 0.005:
        fail("blank picture (%.3f%% ink)" % (100 * frac))
    if frac > 0.95:
        fail("no background (%.1f%% ink)" % (100 * frac))


main()
