#!/usr/bin/env python3
"""Draws Postbag's app icons as PNGs with only the standard library (zlib + struct).

The mark is a white envelope with a blue flap and an amber "new mail" dot on the theme blue.
Run from anywhere: `python3 frontend/pwa/make_icons.py`; it rewrites the PNGs in icons/.
The PNGs are committed, so a build never needs Python; this script is how to change them.
"""
import math
import os
import struct
import zlib

BLUE = (31, 95, 168)  # #1f5fa8, the manifest's theme_color
WHITE = (255, 255, 255)
AMBER = (245, 158, 11)
SAMPLES = 3  # supersampling per axis, for anti-aliased edges


def rounded_rect(x, y, x0, y0, x1, y1, r):
    """True when (x, y) lies inside the rectangle with corners rounded by r."""
    if x < x0 or x > x1 or y < y0 or y > y1:
        return False
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def near_segment(x, y, ax, ay, bx, by, half_width):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
    px, py = ax + t * dx, ay + t * dy
    return (x - px) ** 2 + (y - py) ** 2 <= half_width * half_width


def colour_at(x, y, maskable):
    """The colour of the mark at unit coordinates, or None for transparent."""
    # A maskable icon is cropped to a circle of radius 0.4 at worst: shrink the mark into it.
    s = 0.82 if maskable else 1.0
    u, v = 0.5 + (x - 0.5) / s, 0.5 + (y - 0.5) / s
    dot = (u - 0.76) ** 2 + (v - 0.31) ** 2
    if dot <= 0.085 ** 2:
        return AMBER
    if dot <= 0.115 ** 2:
        return BLUE  # a ring that separates the dot from the envelope
    if rounded_rect(u, v, 0.2, 0.29, 0.8, 0.71, 0.045):
        flap = near_segment(u, v, 0.23, 0.33, 0.5, 0.53, 0.028) or near_segment(
            u, v, 0.5, 0.53, 0.77, 0.33, 0.028
        )
        return BLUE if flap else WHITE
    if maskable or rounded_rect(x, y, 0.0, 0.0, 1.0, 1.0, 0.22):
        return BLUE
    return None


def render(size, maskable):
    rows = []
    n = SAMPLES * SAMPLES
    for py in range(size):
        row = bytearray([0])  # PNG filter type "None"
        for px in range(size):
            r = g = b = a = 0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    c = colour_at(
                        (px + (sx + 0.5) / SAMPLES) / size,
                        (py + (sy + 0.5) / SAMPLES) / size,
                        maskable,
                    )
                    if c is not None:
                        r += c[0]
                        g += c[1]
                        b += c[2]
                        a += 255
            if a:
                # Average colour over the covered samples, alpha over all of them.
                k = a // 255
                row += bytes((r // k, g // k, b // k, a // n))
            else:
                row += bytes(4)
        rows.append(bytes(row))
    return png(size, size, b"".join(rows))


def png(width, height, raw):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def main():
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "icons")
    for name, size, maskable in [
        ("icon-192.png", 192, False),
        ("icon-512.png", 512, False),
        ("maskable-512.png", 512, True),
        ("apple-touch-icon-180.png", 180, True),  # iOS draws its own rounded corners
        ("favicon-32.png", 32, False),
    ]:
        with open(os.path.join(here, name), "wb") as f:
            f.write(render(size, maskable))
        print("wrote", name)


if __name__ == "__main__":
    main()
