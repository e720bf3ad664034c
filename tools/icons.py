#!/usr/bin/env python3
"""Draws Lapor's app icons (PNG) with nothing but the standard library.

The mark is a white speech bubble with an exclamation mark on the brand red.
Shapes are signed-distance tests, sampled 4x4 per pixel for smooth edges.
"maskable" icons keep the mark inside the central 80% circle that launchers
may crop to, with the red running to the edges.

    python3 tools/icons.py crates/server/assets
"""
import math
import struct
import sys
import zlib

RED = (0xA3, 0x1F, 0x17)
WHITE = (0xFF, 0xFF, 0xFF)


def rounded_rect(x, y, x0, y0, x1, y1, r):
    """Inside test of a rectangle with rounded corners of radius r."""
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r and x0 <= x <= x1 and y0 <= y <= y1


def in_triangle(x, y, a, b, c):
    def side(p, q):
        return (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0])
    s1, s2, s3 = side(a, b), side(b, c), side(c, a)
    return (s1 >= 0 and s2 >= 0 and s3 >= 0) or (s1 <= 0 and s2 <= 0 and s3 <= 0)


def colour_at(u, v, maskable):
    """Colour at (u, v) in the unit square, or None for transparent."""
    if maskable:
        # Scale the mark into the safe zone; background everywhere.
        u, v = (u - 0.5) / 0.72 + 0.5, (v - 0.5) / 0.72 + 0.5
        background = RED
    else:
        background = RED if rounded_rect(u, v, 0.0, 0.0, 1.0, 1.0, 0.18) else None
    if background is None:
        return None
    bubble = rounded_rect(u, v, 0.17, 0.18, 0.83, 0.70, 0.12) or in_triangle(
        u, v, (0.30, 0.66), (0.48, 0.66), (0.27, 0.84))
    if not bubble:
        return background
    bar = rounded_rect(u, v, 0.455, 0.27, 0.545, 0.52, 0.045)
    dot = (u - 0.5) ** 2 + (v - 0.605) ** 2 <= 0.05 ** 2
    return RED if bar or dot else WHITE


def render(size, maskable):
    n = 4
    rows = []
    for py in range(size):
        row = bytearray([0])  # filter type: none
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(n):
                for sx in range(n):
                    c = colour_at((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size, maskable)
                    if c is not None:
                        acc[0] += c[0]
                        acc[1] += c[1]
                        acc[2] += c[2]
                        acc[3] += 255
            cover = acc[3] / 255
            if cover:
                row += bytes([round(acc[0] / cover), round(acc[1] / cover), round(acc[2] / cover), round(acc[3] / (n * n))])
            else:
                row += bytes(4)
        rows.append(bytes(row))
    return png(size, b"".join(rows))


def png(size, raw):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    for name, size, maskable in [("ikon-192.png", 192, False), ("ikon-512.png", 512, False),
                                 ("ikon-maskable-512.png", 512, True)]:
        with open(f"{out}/{name}", "wb") as f:
            f.write(render(size, maskable))
        print(name)


if __name__ == "__main__":
    main()
