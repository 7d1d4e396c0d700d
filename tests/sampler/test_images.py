"""Tests for ganflow.sampler.images (PNG codec, to_uint8, image_grid, scatter_png)."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from ganflow.sampler.images import (
    PNG_SIGNATURE,
    decode_png,
    encode_png,
    image_grid,
    outside_plot,
    plot_window,
    png_text,
    scatter_png,
    to_uint8,
)


def _chunks(data: bytes) -> list[tuple[bytes, bytes, int]]:
    """Independent chunk walker: (type, body, stored crc) for every chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, out = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        out.append((kind, body, crc))
        pos += 12 + length
    assert pos == len(data)
    return out


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _filter_row(row: np.ndarray, prev: np.ndarray, ftype: int, bpp: int) -> np.ndarray:
    """Forward PNG filter of one scanline (int arithmetic on the raw, unfiltered bytes)."""
    x = row.astype(np.int64)
    b = prev.astype(np.int64)
    a = np.concatenate([np.zeros(bpp, np.int64), x[:-bpp]])
    c = np.concatenate([np.zeros(bpp, np.int64), b[:-bpp]])
    if ftype == 0:
        pred = np.zeros_like(x)
    elif ftype == 1:
        pred = a
    elif ftype == 2:
        pred = b
    elif ftype == 3:
        pred = (a + b) // 2
    else:
        p = a + b - c
        pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
        pred = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
    return ((x - pred) % 256).astype(np.uint8)


def _handmade_png(img: np.ndarray, filters: list[int]) -> bytes:
    """A PNG of `img` whose scanline y uses filter type filters[y % len(filters)]."""
    h, w = img.shape[:2]
    colour_type, bpp = (0, 1) if img.ndim == 2 else (2, 3)
    rows = img.reshape(h, w * bpp)
    prev = np.zeros(w * bpp, np.uint8)
    raw = bytearray()
    for y in range(h):
        ftype = filters[y % len(filters)]
        raw.append(ftype)
        raw += _filter_row(rows[y], prev, ftype, bpp).tobytes()
        prev = rows[y]
    comp = zlib.compress(bytes(raw))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, colour_type, 0, 0, 0)
    # split the image data over two IDAT chunks, as encoders may do
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", comp[:5])
        + _chunk(b"IDAT", comp[5:])
        + _chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (31, 5), (64, 64)])
@pytest.mark.parametrize("rgb", [False, True])
def test_png_round_trip(shape: tuple[int, int], rgb: bool) -> None:
    rng = np.random.default_rng(sum(shape) + rgb)
    full = shape + ((3,) if rgb else ())
    img = rng.integers(0, 256, size=full, dtype=np.uint8)
    back = decode_png(encode_png(img))
    assert back.dtype == np.uint8
    assert back.shape == full
    np.testing.assert_array_equal(back, img)


@pytest.mark.parametrize("rgb", [False, True])
def test_png_signature_header_and_crcs(rgb: bool) -> None:
    img = np.arange(5 * 9 * (3 if rgb else 1), dtype=np.uint8).reshape((5, 9, 3) if rgb else (5, 9))
    data = encode_png(img)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    chunks = _chunks(data)
    assert [k for k, _, _ in chunks][0] == b"IHDR"
    assert chunks[-1][0] == b"IEND"
    assert any(k == b"IDAT" for k, _, _ in chunks)
    for kind, body, crc in chunks:
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, kind
    w, h, depth, ctype, comp, filt, inter = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (w, h, depth, ctype, comp, filt, inter) == (9, 5, 8, 2 if rgb else 0, 0, 0, 0)
    raw = zlib.decompress(b"".join(b for k, b, _ in chunks if k == b"IDAT"))
    stride = 9 * (3 if rgb else 1)
    assert len(raw) == 5 * (stride + 1)
    assert all(raw[y * (stride + 1)] == 0 for y in range(5))  # filter byte 0 on each row


def test_decode_rejects_bad_crc() -> None:
    data = bytearray(encode_png(np.zeros((3, 3), np.uint8)))
    data[-20] ^= 0xFF  # inside the IDAT body
    with pytest.raises(ValueError, match="CRC"):
        decode_png(bytes(data))
    with pytest.raises(ValueError, match="signature"):
        decode_png(b"GIF89a" + bytes(20))


@pytest.mark.parametrize("filters", [[0], [1], [2], [3], [4], [0, 1, 2, 3, 4], [4, 3, 2, 1]])
@pytest.mark.parametrize("rgb", [False, True])
def test_decode_each_filter_type(filters: list[int], rgb: bool) -> None:
    rng = np.random.default_rng(len(filters) * 10 + filters[0] + rgb)
    shape = (11, 7, 3) if rgb else (11, 7)
    # mix of noise and smooth ramps so the predictors see large and small differences
    img = rng.integers(0, 256, size=shape, dtype=np.uint8)
    img[:4] = (np.arange(7)[None, :, None] * 37 if rgb else np.arange(7)[None, :] * 37) % 256
    data = _handmade_png(img, filters)
    np.testing.assert_array_equal(decode_png(data), img)


def test_decode_rejects_unknown_filter() -> None:
    raw = b"\x05\x00\x00"
    data = (
        PNG_SIGNATURE
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 1, 8, 0, 0, 0, 0))
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )
    with pytest.raises(ValueError, match="filter"):
        decode_png(data)


def test_encode_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        encode_png(np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError):
        encode_png(np.zeros((4, 4, 4), np.uint8))


def test_to_uint8_endpoints_and_clipping() -> None:
    x = np.array([[-5.0, -1.0, 0.0], [1.0, 7.0, np.nan]])
    out = to_uint8(x, -1.0, 1.0)
    assert out.dtype == np.uint8
    assert out.shape == x.shape
    np.testing.assert_array_equal(out, [[0, 0, 128], [255, 255, 0]])
    assert to_uint8(np.array([0.25]), 0.0, 1.0)[0] == 64  # 63.75 rounds to 64
    with pytest.raises(ValueError):
        to_uint8(x, 1.0, 1.0)


def test_image_grid_grey_shape_and_placement() -> None:
    n, h, w, pad = 5, 4, 6, 2
    x = np.stack([np.full((1, h, w), 10 * (k + 1), np.uint8) for k in range(n)])
    x[:, :, 0, 0] = 200  # mark each image's top-left pixel
    grid = image_grid(x, pad=pad)  # nrow = ceil(sqrt(5)) = 3 -> 2 grid rows
    assert grid.shape == (2 * (h + pad) + pad, 3 * (w + pad) + pad)
    for k in range(n):
        top, left = pad + (k // 3) * (h + pad), pad + (k % 3) * (w + pad)
        np.testing.assert_array_equal(grid[top : top + h, left : left + w], x[k, 0])
    mask = np.ones(grid.shape, bool)
    for k in range(n):
        top, left = pad + (k // 3) * (h + pad), pad + (k % 3) * (w + pad)
        mask[top : top + h, left : left + w] = False
    assert (grid[mask] == 0).all()  # padding and the empty sixth cell


def test_image_grid_rgb_and_nrow() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(4, 3, 5, 3), dtype=np.uint8)
    grid = image_grid(x, nrow=4, pad=1)
    assert grid.shape == (5 + 2, 4 * (3 + 1) + 1, 3)
    for k in range(4):
        left = 1 + k * 4
        np.testing.assert_array_equal(grid[1:6, left : left + 3], x[k].transpose(1, 2, 0))
    single = image_grid(x[:1], pad=0)
    np.testing.assert_array_equal(single, x[0].transpose(1, 2, 0))


def test_scatter_marks_points_axes_and_reference() -> None:
    size = 101
    img = scatter_png(np.array([[0.5, 0.5]]), size=size, extent=1.0)
    assert img.shape == (size, size, 3) and img.dtype == np.uint8
    # x = 0.5 -> column 75; y = 0.5 -> row 25 (y points up)
    assert img[25, 75].max() < 160 and img[25, 75, 2] > img[25, 75, 0]  # dark blue
    assert img[24, 74].max() < 160 and img[26, 76].max() < 160  # 3x3 dot
    assert (img[5, 5] == 255).all()  # white background
    assert img[50, 5].min() < 255 and img[50, 5].min() > 150  # light grey x axis (y = 0)
    assert img[5, 50].min() < 255 and img[5, 50].min() > 150  # light grey y axis (x = 0)
    ref = scatter_png(np.zeros((0, 2)), size=size, extent=1.0, reference=np.array([[-0.5, 0.0]]))
    r, g, b = (int(v) for v in ref[50, 25])
    assert r > 150 and g < 100 and b < 100  # red cross centred at (-0.5, 0)
    assert tuple(ref[48, 23]) == (r, g, b)


def test_scatter_robust_extent_nan_and_clipping() -> None:
    rng = np.random.default_rng(1)
    pts = rng.uniform(-1, 1, size=(2000, 2))
    pts[0] = [1e6, 1e6]  # an outlier must not squash the plot
    pts[1] = [np.nan, 0.0]
    img = scatter_png(pts, size=64)
    dark = (img.max(axis=2) < 160).sum()
    assert dark > 0.3 * 64 * 64  # the bulk of the points still fills the canvas
    empty = scatter_png(np.full((3, 2), np.nan), size=16)
    assert (empty[0, 0] == 255).all()
    outside = scatter_png(np.array([[5.0, 5.0]]), size=32, extent=1.0)
    assert (outside.max(axis=2) >= 160).all()  # clipped out, nothing dark drawn


def test_scatter_window_ignores_a_handful_of_outliers_and_counts_them() -> None:
    """0.4% of the points far out (as DGflow with too large a step makes them) do not squash the
    plot; the default window is the 0.5..99.5th percentile per coordinate, padded by 10%."""
    rng = np.random.default_rng(2)
    pts = rng.uniform(2.0, 4.0, size=(5000, 2))  # away from 0: the window follows the data
    pts[:20] = rng.uniform(-60, 60, size=(20, 2))
    center, half = plot_window(pts)
    assert np.allclose(center, 3.0, atol=0.05) and 1.0 < half < 1.3
    assert outside_plot(pts) >= 15 and outside_plot(pts[20:]) == 0
    img = scatter_png(pts, size=64)
    assert (img.max(axis=2) < 160).sum() > 0.5 * 64 * 64  # the bulk fills the canvas
    assert outside_plot(np.full((3, 2), np.nan)) == 3
    # reference points (mode centres) are always in view
    _, half = plot_window(pts[20:], np.array([[-10.0, 0.0]]))
    assert half > 7


def test_png_text_round_trip() -> None:
    img = np.zeros((4, 5, 3), np.uint8)
    data = encode_png(img, {"Comment": "12 of 5000 points lie outside the plotted range"})
    assert png_text(data) == {"Comment": "12 of 5000 points lie outside the plotted range"}
    np.testing.assert_array_equal(decode_png(data), img)
    assert png_text(encode_png(img)) == {}


def test_sample_says_how_many_points_the_scatter_leaves_out(tmp_path) -> None:
    from ganflow.sampler.writers import GridWriter

    w = GridWriter(tmp_path / "s.png", 1000, (2,), 2, None)
    x = np.random.default_rng(0).standard_normal((1000, 2)).astype(np.float32)
    x[:3] = 1e3
    w.write(0, x, x)
    w.commit()
    note = png_text((tmp_path / "s.png").read_bytes())["Comment"]
    assert note.endswith(" of 1000 points lie outside the plotted range") and int(note.split()[0]) >= 3
