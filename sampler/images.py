"""Torch-free image helpers: PNG codec, [0, 255] mapping, image grids and 2-D scatter plots."""

from __future__ import annotations

import math
import struct
import zlib

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# 8-bit colour types decode_png understands -> channels per pixel.
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}

_BACKGROUND = (255, 255, 255)
_AXIS = (210, 210, 210)
_DOT = (20, 40, 140)
_REFERENCE = (220, 30, 30)


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_png(img: np.ndarray, text: dict[str, str] | None = None) -> bytes:
    """Encode a uint8 image, [H, W] (grey) or [H, W, 3] (RGB), as 8-bit PNG bytes (filter 0);
    `text`: tEXt chunks (Latin-1 key and value, e.g. {"Comment": ...}; png_text reads them)."""
    img = np.asarray(img)
    if img.dtype != np.uint8:
        raise ValueError(f"encode_png needs a uint8 image, got dtype {img.dtype}")
    if img.ndim == 2:
        colour_type = 0
    elif img.ndim == 3 and img.shape[2] == 3:
        colour_type = 2
    else:
        raise ValueError(f"encode_png needs shape [H, W] or [H, W, 3], got {list(img.shape)}")
    height, width = img.shape[:2]
    if height < 1 or width < 1:
        raise ValueError(f"encode_png needs a non-empty image, got {list(img.shape)}")
    rows = np.ascontiguousarray(img).reshape(height, -1)
    raw = np.empty((height, rows.shape[1] + 1), dtype=np.uint8)
    raw[:, 0] = 0  # filter type 0 (None) on every scanline
    raw[:, 1:] = rows
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    notes = [
        _chunk(b"tEXt", k.encode("latin-1") + b"\0" + v.encode("latin-1")) for k, v in (text or {}).items()
    ]
    return b"".join(
        [
            PNG_SIGNATURE,
            _chunk(b"IHDR", ihdr),
            *notes,
            _chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)),
            _chunk(b"IEND", b""),
        ]
    )


def png_text(data: bytes) -> dict[str, str]:
    """The tEXt chunks of PNG bytes, {key: value} (CRCs are not checked here; decode_png does)."""
    out, pos = {}, len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"tEXt" and b"\0" in body:
            key, _, value = body.partition(b"\0")
            out[key.decode("latin-1")] = value.decode("latin-1")
        if kind == b"IEND":
            break
        pos += 12 + length
    return out


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(raw: bytes, height: int, stride: int, bpp: int) -> np.ndarray:
    """Undo the per-scanline PNG filters; returns uint8 [height, stride]."""
    if len(raw) != height * (stride + 1):
        raise ValueError(f"PNG image data has {len(raw)} bytes, expected {height * (stride + 1)}")
    data = np.frombuffer(raw, dtype=np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        ftype = int(data[y, 0])
        line = data[y, 1:]
        if ftype == 0:  # None
            cur = line.copy()
        elif ftype == 1:  # Sub: running sum along pixels, per channel, modulo 256
            cur = np.cumsum(line.reshape(-1, bpp), axis=0, dtype=np.uint8).reshape(-1)
        elif ftype == 2:  # Up
            cur = line + prev
        elif ftype in (3, 4):  # Average / Paeth: sequential, done byte by byte
            filt = line.tolist()
            up = prev.tolist()
            rec = [0] * stride
            for i in range(stride):
                a = rec[i - bpp] if i >= bpp else 0
                b = up[i]
                if ftype == 3:
                    pred = (a + b) >> 1
                else:
                    pred = _paeth(a, b, up[i - bpp] if i >= bpp else 0)
                rec[i] = (filt[i] + pred) & 0xFF
            cur = np.array(rec, dtype=np.uint8)
        else:
            raise ValueError(f"PNG scanline {y} has unknown filter type {ftype}")
        out[y] = cur
        prev = cur
    return out


def decode_png(data: bytes) -> np.ndarray:
    """Decode an 8-bit, non-interlaced grey ([H, W]) or RGB ([H, W, 3]) PNG; all 5 filters.

    Grey+alpha and RGBA (8-bit) are decoded too, as [H, W, 2] and [H, W, 4]. Chunk CRCs are
    checked; palette, 16-bit and interlaced images raise ValueError.
    """
    data = bytes(data)
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG: bad signature")
    pos = len(PNG_SIGNATURE)
    header: tuple[int, ...] | None = None
    idat: list[bytes] = []
    while True:
        if pos + 8 > len(data):
            raise ValueError("truncated PNG: no IEND chunk")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        crc_bytes = data[pos + 8 + length : pos + 12 + length]
        if len(body) != length or len(crc_bytes) != 4:
            raise ValueError(f"truncated PNG chunk {kind!r}")
        if zlib.crc32(kind + body) & 0xFFFFFFFF != struct.unpack(">I", crc_bytes)[0]:
            raise ValueError(f"PNG chunk {kind!r} has a bad CRC")
        pos += 12 + length
        if kind == b"IHDR":
            if length != 13:
                raise ValueError("PNG IHDR chunk has the wrong length")
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("PNG has no IHDR chunk")
    width, height, depth, colour_type, compression, filter_method, interlace = header
    if depth != 8 or colour_type not in _CHANNELS:
        raise ValueError(
            f"unsupported PNG: bit depth {depth}, colour type {colour_type} "
            "(only 8-bit grey, grey+alpha, RGB, RGBA)"
        )
    if compression != 0 or filter_method != 0 or interlace != 0:
        raise ValueError("unsupported PNG: interlaced or unknown compression/filter method")
    if not idat:
        raise ValueError("PNG has no IDAT chunk")
    channels = _CHANNELS[colour_type]
    pixels = _unfilter(zlib.decompress(b"".join(idat)), height, width * channels, channels)
    if channels == 1:
        return pixels.reshape(height, width)
    return pixels.reshape(height, width, channels)


def to_uint8(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Clip to [lo, hi], map linearly onto 0..255 and round; any shape. NaN maps to 0."""
    if not hi > lo:
        raise ValueError(f"to_uint8 needs hi > lo, got lo={lo}, hi={hi}")
    x = np.asarray(x, dtype=np.float64)
    scaled = (np.clip(x, lo, hi) - lo) * (255.0 / (hi - lo))
    scaled = np.nan_to_num(scaled, nan=0.0)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def image_grid(x: np.ndarray, nrow: int | None = None, pad: int = 2) -> np.ndarray:
    """Tile uint8 [N, C, H, W] images (C 1 or 3) into one [H', W'] or [H', W', 3] image.

    `nrow` is the number of images per grid row (default ceil(sqrt(N))), as in torchvision's
    make_grid; every image is surrounded by `pad` pixels of value 0.
    """
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise ValueError(f"image_grid needs uint8 images, got dtype {x.dtype}")
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"image_grid needs shape [N, C, H, W] with C 1 or 3, got {list(x.shape)}")
    n, c, h, w = x.shape
    if n < 1:
        raise ValueError("image_grid needs at least one image")
    if pad < 0:
        raise ValueError(f"image_grid needs pad >= 0, got {pad}")
    if nrow is None:
        nrow = math.ceil(math.sqrt(n))
    if nrow < 1:
        raise ValueError(f"image_grid needs nrow >= 1, got {nrow}")
    ncols = min(nrow, n)
    nrows = math.ceil(n / ncols)
    grid = np.zeros((nrows * (h + pad) + pad, ncols * (w + pad) + pad, c), dtype=np.uint8)
    for k in range(n):
        top = pad + (k // ncols) * (h + pad)
        left = pad + (k % ncols) * (w + pad)
        grid[top : top + h, left : left + w] = x[k].transpose(1, 2, 0)
    return grid[..., 0] if c == 1 else grid


def _to_pixels(
    xy: np.ndarray, extent: float, size: int, center: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, columns and an inside mask for points in the square of half-width `extent` around
    `center` (default 0; y axis pointing up)."""
    xy = xy - (np.zeros(2) if center is None else center)
    scale = (size - 1) / (2.0 * extent)
    cols = np.rint((xy[:, 0] + extent) * scale)
    rows = np.rint((extent - xy[:, 1]) * scale)
    inside = np.isfinite(xy).all(axis=1) & (np.abs(xy[:, 0]) <= extent) & (np.abs(xy[:, 1]) <= extent)
    return rows[inside].astype(np.int64), cols[inside].astype(np.int64), inside


# the square a scatter plot shows by default: each coordinate's PLOT_PERCENTILES over the points
# (a few outliers do not squash the plot), with every reference point, padded by PLOT_PAD per side
PLOT_PERCENTILES = (0.5, 99.5)
PLOT_PAD = 0.1


def plot_window(points: np.ndarray, reference: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """(center [2], half-width) of the square scatter_png shows for points [N, 2] by default."""
    parts = []
    finite = points[np.isfinite(points).all(axis=1)]
    if len(finite):
        parts.append(np.percentile(finite, PLOT_PERCENTILES, axis=0))  # [2, 2]: low, high per axis
    if reference is not None:
        ref = reference[np.isfinite(reference).all(axis=1)]
        if len(ref):
            parts.append(np.stack([ref.min(axis=0), ref.max(axis=0)]))
    if not parts:
        return np.zeros(2), 1.0
    lo, hi = np.min([p[0] for p in parts], axis=0), np.max([p[1] for p in parts], axis=0)
    half = float((hi - lo).max()) / 2 * (1 + 2 * PLOT_PAD)
    return (lo + hi) / 2, half if math.isfinite(half) and half > 0 else max(1.0, float(np.abs(lo).max()))


def outside_plot(points: np.ndarray, reference: np.ndarray | None = None) -> int:
    """How many of points [N, 2] (1-D: [N, 1]) the default scatter plot leaves out (NaN/inf too)."""
    pts = _as_points(points)
    center, half = plot_window(pts, None if reference is None else _as_points(reference))
    return int(len(pts) - _to_pixels(pts, half, 2, center)[2].sum())


def _as_points(points: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim == 2 and pts.shape[1] == 1:  # 1-D data: on the x axis
        pts = np.concatenate([pts, np.zeros_like(pts)], axis=1)
    return pts.reshape(-1, 2)


def _stamp(
    img: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    offsets: list[tuple[int, int]],
    colour: tuple[int, int, int],
) -> None:
    size = img.shape[0]
    for dr, dc in offsets:
        r, c = rows + dr, cols + dc
        ok = (r >= 0) & (r < size) & (c >= 0) & (c < size)
        img[r[ok], c[ok]] = colour


def scatter_png(
    points: np.ndarray,
    size: int = 512,
    extent: float | None = None,
    reference: np.ndarray | None = None,
) -> np.ndarray:
    """Render 2-D points [N, 2] (1-D ones [N, 1] on the x axis) as an RGB uint8 [size, size, 3]
    scatter plot (encode with encode_png).

    White background, light grey axes through 0 (where 0 is in view), each point a dark-blue 3x3
    dot, optional reference points (e.g. mode centres) as red 5x5 diagonal crosses. The plot shows
    [-extent, extent]^2 if `extent` is given, else plot_window's square: each coordinate's 0.5th to
    99.5th percentile over the points, and all reference points, padded by 10% per side, so a few
    outliers do not squash the plot. Points outside are left out (outside_plot counts them);
    NaN/inf points are skipped.
    """
    pts = _as_points(points)
    ref = None if reference is None else _as_points(reference)
    if size < 2:
        raise ValueError(f"scatter_png needs size >= 2, got {size}")
    center = np.zeros(2)
    if extent is None:
        center, extent = plot_window(pts, ref)
    if not (math.isfinite(extent) and extent > 0):
        extent = 1.0
    img = np.empty((size, size, 3), dtype=np.uint8)
    img[:] = _BACKGROUND
    origin_r, origin_c, inside = _to_pixels(np.zeros((1, 2)), extent, size, center)
    if inside[0]:
        img[origin_r[0], :] = _AXIS
        img[:, origin_c[0]] = _AXIS
    rows, cols, _ = _to_pixels(pts, extent, size, center)
    _stamp(img, rows, cols, [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)], _DOT)
    if ref is not None:
        rows, cols, _ = _to_pixels(ref, extent, size, center)
        cross = [(d, d) for d in range(-2, 3)] + [(d, -d) for d in range(-2, 3) if d != 0]
        _stamp(img, rows, cols, cross, _REFERENCE)
    return img


def sample_png(
    x: np.ndarray,
    data_range: tuple[float, float] | None = None,
    reference: np.ndarray | None = None,
    max_images: int = 64,
) -> bytes:
    """PNG bytes of samples: a grid of the first `max_images` images for [N, C, H, W] (values in
    `data_range`, default [-1, 1]), a scatter plot for 2-D points [N, 2] with optional
    `reference` points (e.g. mode centres)."""
    if x.ndim == 4:
        lo, hi = data_range or (-1.0, 1.0)
        return encode_png(image_grid(to_uint8(x[:max_images], lo, hi)))
    return encode_png(scatter_png(x.reshape(len(x), -1)[:, :2], reference=reference))


# distinct colours for groups of points (plot_groups_png), in order
PALETTE = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
)  # fmt: skip
PALETTE_NAMES = ("blue", "orange", "green", "red", "purple", "brown", "pink", "grey", "olive", "cyan")


def plot_groups_png(groups: list[np.ndarray], size: int = 400, margin: int = 20) -> np.ndarray:
    """Points (x, y) in [0, 1]^2, one group [k, 2] per colour of PALETTE (in order, cycling), as an
    RGB uint8 [size, size, 3] plot: a frame around the unit square, grid lines every 0.1, each
    point a 7x7 square (e.g. precision vs recall, one group per method)."""
    img = np.empty((size, size, 3), dtype=np.uint8)
    img[:] = _BACKGROUND
    inner = size - 2 * margin - 1
    at = lambda v: margin + np.rint(np.clip(v, 0.0, 1.0) * inner).astype(np.int64)  # noqa: E731
    for t in np.linspace(0.0, 1.0, 11):
        img[margin : size - margin, at(t)] = _AXIS
        img[size - 1 - at(t), margin : size - margin] = _AXIS
    square = [(dr, dc) for dr in range(-3, 4) for dc in range(-3, 4)]
    for k, pts in enumerate(groups):
        pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
        pts = pts[np.isfinite(pts).all(axis=1)]
        _stamp(img, size - 1 - at(pts[:, 1]), at(pts[:, 0]), square, PALETTE[k % len(PALETTE)])
    return img
