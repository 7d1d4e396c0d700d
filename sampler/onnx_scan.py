"""Find the external-data files an ONNX graph refers to, by walking its protobuf (no onnx import).

An ONNX tensor may keep its bytes in another file (`data_location = EXTERNAL`, `external_data`
entry `location`). A graph from an untrusted bundle could point that at any file on the machine;
onnxruntime >= 1.2x refuses paths that leave the model's folder, older builds do not. The sampler
therefore lists every location itself and checks it before a session is created.

Field numbers are those of onnx/onnx.proto (IR 10).
"""

from __future__ import annotations

from collections.abc import Iterator

# message -> {field number: message type of that (repeated) sub-message field}
_CHILDREN: dict[str, dict[int, str]] = {
    "model": {7: "graph", 25: "function"},
    "function": {7: "node"},
    "graph": {1: "node", 5: "tensor", 15: "sparse"},
    "node": {5: "attribute"},
    "attribute": {5: "tensor", 6: "graph", 10: "tensor", 11: "graph", 22: "sparse", 23: "sparse"},
    "sparse": {1: "tensor", 2: "tensor"},
    "tensor": {13: "entry"},  # TensorProto.external_data: repeated StringStringEntryProto
    "entry": {},
}
MAX_DEPTH = 64  # nested subgraphs deeper than this are refused, not followed


class ScanError(ValueError):
    """The bytes are not a well-formed ONNX protobuf (truncated, bad varint, too deep)."""


def _varint(buf: memoryview, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise ScanError("truncated or overlong varint")
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7


def _fields(buf: memoryview) -> Iterator[tuple[int, int, memoryview | int]]:
    """(field number, wire type, value): bytes for length-delimited fields, ints otherwise."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
            yield field, wire, value
        elif wire == 1:
            i += 8
        elif wire == 2:
            n, i = _varint(buf, i)
            if i + n > len(buf):
                raise ScanError("length-delimited field runs past the end")
            yield field, wire, buf[i : i + n]
            i += n
        elif wire == 5:
            i += 4
        else:
            raise ScanError(f"unsupported wire type {wire}")
    if i != len(buf):
        raise ScanError("truncated message")


def _walk(buf: memoryview, kind: str, depth: int) -> Iterator[str]:
    if depth > MAX_DEPTH:
        raise ScanError("graph nesting is too deep")
    children = _CHILDREN[kind]
    entries: dict[str, str] = {}
    for field, wire, value in _fields(buf):
        if kind == "entry" and wire == 2 and field in (1, 2):
            entries["key" if field == 1 else "value"] = bytes(value).decode("utf-8", "replace")
        elif wire == 2 and field in children:
            yield from _walk(value, children[field], depth + 1)
    if kind == "entry" and entries.get("key") == "location":
        yield entries.get("value", "")


def external_locations(data: bytes) -> list[str]:
    """Every external-data `location` in a serialized ModelProto (functions and subgraphs too)."""
    return list(_walk(memoryview(data), "model", 0))
