"""A small geohash encoder/decoder and bbox cover, used to index and filter places by area.

A geohash interleaves longitude and latitude bits and writes them in base 32; every
prefix of a hash names the cell that contains it, so "all places in this cell" is a
prefix lookup over the index's geohash terms.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from geopy.distance import geodesic, great_circle

_BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
_DECODE = {c: i for i, c in enumerate(_BASE32)}

#: Precision used for the terms stored in the index (about 2 m x 5 m cells).
PRECISION = 9


def encode(lat: float, lon: float, precision: int = PRECISION) -> str:
    """Return the geohash of (lat, lon) with ``precision`` characters."""
    # Bits alternate between longitude (even bits) and latitude, each halving its interval.
    ranges = [[-180.0, 180.0, lon], [-90.0, 90.0, lat]]
    chars = []
    bits = 0
    for n in range(precision * 5):
        interval = ranges[n % 2]
        lo, hi, value = interval
        mid = (lo + hi) / 2
        upper = value >= mid
        bits = bits * 2 + upper
        interval[0 if upper else 1] = mid
        if n % 5 == 4:
            chars.append(_BASE32[bits])
            bits = 0
    return "".join(chars)


def cell(geohash: str) -> tuple[float, float, float, float]:
    """Return the cell of a geohash as (south, west, north, east)."""
    lat_lo, lat_hi = -90.0, 90.0
    lon_lo, lon_hi = -180.0, 180.0
    even = True
    for ch in geohash:
        value = _DECODE[ch]
        for shift in range(4, -1, -1):
            bit = (value >> shift) & 1
            if even:
                mid = (lon_lo + lon_hi) / 2
                if bit:
                    lon_lo = mid
                else:
                    lon_hi = mid
            else:
                mid = (lat_lo + lat_hi) / 2
                if bit:
                    lat_lo = mid
                else:
                    lat_hi = mid
            even = not even
    return lat_lo, lon_lo, lat_hi, lon_hi


def decode(geohash: str) -> tuple[float, float]:
    """Return the centre (lat, lon) of a geohash cell."""
    s, w, n, e = cell(geohash)
    return (s + n) / 2, (w + e) / 2


def _cell_size(precision: int) -> tuple[float, float]:
    """Height and width in degrees of cells with ``precision`` characters."""
    bits = precision * 5
    lon_bits = (bits + 1) // 2
    lat_bits = bits // 2
    return 180.0 / (2**lat_bits), 360.0 / (2**lon_bits)


def cover(south: float, west: float, north: float, east: float, max_cells: int = 64) -> list[str]:
    """Return geohash prefixes whose cells together cover the box (west <= east; no antimeridian).

    Picks the finest precision that needs at most ``max_cells`` cells, so the cover stays
    cheap to look up and not much larger than the box.
    """
    south, north = max(-90.0, south), min(90.0, north)
    west, east = max(-180.0, west), min(180.0, east)
    best: list[str] = [""]
    for precision in range(1, PRECISION + 1):
        height, width = _cell_size(precision)
        # Rows and columns are counted from the cells of the corners, which encode() finds with
        # exact comparisons. Stepping from the south edge by one cell height instead skipped a
        # row when the edge sat a rounding error below a cell boundary (south = -1e-300).
        s0, w0, _, _ = cell(encode(min(south, 89.999999), min(west, 179.999999), precision))
        s1, w1, _, _ = cell(encode(min(north, 89.999999), min(east, 179.999999), precision))
        r0, r1 = round((s0 + 90.0) / height), round((s1 + 90.0) / height)
        c0, c1 = round((w0 + 180.0) / width), round((w1 + 180.0) / width)
        if (r1 - r0 + 1) * (c1 - c0 + 1) > max_cells:
            break
        best = sorted({encode(-90.0 + (r + 0.5) * height, -180.0 + (c + 0.5) * width, precision)
                       for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)})
    return best


Box = tuple[float, float, float, float]  # south, west, north, east


def bbox_area(bbox: tuple[float, float, float, float]) -> tuple[list[Box], Callable[[float, float], bool]]:
    """Boxes to cover (split at the antimeridian) and an exact inside test for a W,S,E,N bbox."""
    west, south, east, north = bbox
    if west <= east:
        boxes = [(south, west, north, east)]
    else:
        boxes = [(south, west, north, 180.0), (south, -180.0, north, east)]

    def inside(lat: float, lon: float) -> bool:
        in_lon = west <= lon <= east if west <= east else (lon >= west or lon <= east)
        return south <= lat <= north and in_lon

    return boxes, inside


def radius_area(near: tuple[float, float], radius_km: float) -> tuple[list[Box], Callable[[float, float], bool]]:
    """Boxes covering a circle and an exact inside test (geodesic distance near the edge)."""
    lat0, lon0 = near
    dlat = radius_km / 110.5 + 0.01
    coslat = math.cos(math.radians(lat0))
    dlon = 180.0 if abs(lat0) + dlat >= 89 or coslat < 1e-6 else radius_km / (111.0 * coslat) + 0.01
    south, north = max(-90.0, lat0 - dlat), min(90.0, lat0 + dlat)
    if dlon >= 180:
        boxes = [(south, -180.0, north, 180.0)]
    else:
        boxes = [(south, max(-180.0, lon0 - dlon), north, min(180.0, lon0 + dlon))]
        if lon0 - dlon < -180:
            boxes.append((south, lon0 - dlon + 360, north, 180.0))
        if lon0 + dlon > 180:
            boxes.append((south, -180.0, north, lon0 + dlon - 360))

    def inside(lat: float, lon: float) -> bool:
        rough = great_circle((lat0, lon0), (lat, lon)).km
        if abs(rough - radius_km) > 0.01 * radius_km + 1:  # far from the edge: the sphere is enough
            return rough < radius_km
        return geodesic((lat0, lon0), (lat, lon)).km <= radius_km

    return boxes, inside
