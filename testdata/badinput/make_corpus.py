"""Write the bad-input corpus that cli/badinput_test.go runs through the commands.

Run from the repository root:  .venv/bin/python testdata/badinput/make_corpus.py

Every file here is broken or hostile on purpose; the test expects each to give
a one-line error that names it, to leave no output file behind, and to leave
the user's data as it was. The folders:

  images/    person photos and garment images (tryon -person, tryon -garment,
             garments add): empty, truncated, headers claiming 10^10 pixels,
             wrong magic, corrupt compressed data, an EXIF bomb
  videos/    inputs of video / record: empty, truncated, header only, no moov,
             zero frames, audio only, text
  models/    model folders (-model): manifest missing, not JSON, missing
             fields, hostile paths and sizes; graphs empty, garbage, with a
             wrong input shape or type, without a promised output
  catalogs/  user catalog.json files: corrupt, wrong version, path traversal,
             absolute paths, duplicate ids, deep nesting, control characters

Deterministic: running it again rewrites the same bytes (except the videos,
whose encoder may differ between ffmpeg versions).
"""
import json
import os
import shutil
import struct
import subprocess
import tempfile
import zlib

import cv2
import numpy as np
import onnx
from onnx import TensorProto, helper

ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(ROOT))
TINY = os.path.join(REPO, "inference", "testdata", "tiny")


def write(rel, data):
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def images():
    rng = np.random.default_rng(0)
    picture = rng.integers(0, 255, (96, 72, 3), dtype=np.uint8)
    png = cv2.imencode(".png", picture)[1].tobytes()
    jpg = cv2.imencode(".jpg", picture)[1].tobytes()
    webp = cv2.imencode(".webp", picture)[1].tobytes()
    for ext, data in ((".png", png), (".jpg", jpg), (".webp", webp)):
        write("images/empty" + ext, b"")
        write("images/truncated" + ext, data[: len(data) // 3])
        write("images/header_only" + ext, data[:40])
    # headers that claim 100000 x 100000 pixels (a decompression bomb), no data
    write("images/huge_header.png", b"\x89PNG\r\n\x1a\n"
          + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
          + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + png_chunk(b"IEND", b""))
    sof = struct.pack(">BHHB", 8, 65000, 65000, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    write("images/huge_header.jpg", b"\xff\xd8" + b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof + b"\xff\xd9")
    vp8x = b"\x00\x00\x00\x00" + (16383).to_bytes(3, "little") + (16383).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    write("images/huge_header.webp", b"RIFF" + struct.pack("<I", len(body)) + body)
    # wrong magic: a GIF, plain text and an ELF header under image names
    write("images/gif_named.png", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")
    write("images/text_named.jpg", "this is not a photo\n")
    write("images/elf_named.webp", b"\x7fELF\x02\x01\x01" + bytes(57))
    # PNG whose compressed pixels are damaged (the header is fine)
    sig, rest = png[:8], png[8:]
    chunks, i = [], 0
    while i < len(rest):
        n = struct.unpack(">I", rest[i:i + 4])[0]
        kind, data = rest[i + 4:i + 8], rest[i + 8:i + 8 + n]
        if kind == b"IDAT":
            data = data[:8] + bytes(b ^ 0x5A for b in data[8:])
        chunks.append(png_chunk(kind, data))
        i += 12 + n
    write("images/corrupt_pixels.png", sig + b"".join(chunks))
    # EXIF bomb: an APP1 segment whose IFD claims 65535 entries and points at
    # itself (a loop), in a JPEG cut off before its pixels
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 0xFFFF)
    tiff += (struct.pack(">HHII", 0x8769, 4, 1, 8)) * 64  # Exif sub-IFD pointers back to IFD0
    app1 = b"Exif\x00\x00" + tiff
    write("images/exif_bomb.jpg", b"\xff\xd8\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpg[2:200])


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)


def videos():
    with tempfile.TemporaryDirectory() as tmp:
        clip = os.path.join(tmp, "clip.mp4")
        ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-frames:v", "10", "-pix_fmt", "yuv420p",
               "-c:v", "libx264", "-preset", "ultrafast", clip)
        data = open(clip, "rb").read()
        zero = os.path.join(tmp, "zero.mp4")
        ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-frames:v", "0", "-c:v", "libx264", zero)
        audio = os.path.join(tmp, "audio.mp4")
        ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=0.2", "-c:a", "aac", audio)
        write("videos/zero_frames.mp4", open(zero, "rb").read())
        write("videos/audio_only.mp4", open(audio, "rb").read())
    write("videos/empty.mp4", b"")
    write("videos/text.mp4", "not a video\n")
    write("videos/truncated.mp4", data[: len(data) // 3])
    size = struct.unpack(">I", data[:4])[0]
    write("videos/header_only.mp4", data[:size])  # the ftyp box alone
    i = data.find(b"moov") - 4  # the whole moov box (the index) cut out
    n = struct.unpack(">I", data[i:i + 4])[0]
    write("videos/no_moov.mp4", data[:i] + data[i + n:])
    i = data.find(b"stsz")  # sample sizes: claim 2^31 samples
    write("videos/broken_sample_table.mp4", data[:i + 12] + b"\x7f\xff\xff\xff" + data[i + 16:])


def tiny_manifest():
    with open(os.path.join(TINY, "manifest.json")) as f:
        return json.load(f)


def model(name, manifest=None, graphs=None):
    """A model folder: the tiny fixture with manifest and graphs replaced as given."""
    d = os.path.join(ROOT, "models", name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    graphs = graphs or {}
    for g in ("warp.onnx", "gen.onnx"):
        data = graphs.get(g)
        if data is None:
            shutil.copy(os.path.join(TINY, g), os.path.join(d, g))
        else:
            write(os.path.join("models", name, g), data)
    if manifest is not None:
        write(os.path.join("models", name, "manifest.json"),
              manifest if isinstance(manifest, (str, bytes)) else json.dumps(manifest, indent=1))


def identity_graph(inputs, outputs, elem=TensorProto.FLOAT):
    """An ONNX graph that copies its first input to every output (names and shapes given)."""
    ins = [helper.make_tensor_value_info(n, elem, s) for n, s in inputs]
    outs = [helper.make_tensor_value_info(n, elem, s) for n, s in outputs]
    nodes = [helper.make_node("Identity", [inputs[0][0]], [n]) for n, _ in outputs]
    g = helper.make_graph(nodes, "bad", ins, outs)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="make_corpus")
    m.ir_version = 8
    return m.SerializeToString()


def models():
    base = tiny_manifest()
    warp = base["stages"]["warp"]
    ins = [(t["name"], t["shape"]) for t in warp["inputs"]]
    outs = [(t["name"], t["shape"]) for t in warp["outputs"]]

    model("no_manifest")
    model("manifest_not_json", "{ this is not json")
    model("manifest_empty", "")
    model("manifest_missing_fields", {"format": 1})
    model("manifest_wrong_format", dict(base, format=99, extra={"unknown": True}))
    m = json.loads(json.dumps(base))
    m["stages"]["warp"]["file"] = "../../../../../etc/passwd"
    model("manifest_path_traversal", m)
    m = json.loads(json.dumps(base))
    m["stages"]["warp"]["file"] = "/dev/zero"
    model("manifest_absolute_path", m)
    model("manifest_huge_size", dict(base, height=1000000, width=1000000))
    model("manifest_negative_size", dict(base, height=-64, width=0))
    m = json.loads(json.dumps(base))
    m["stages"]["warp"]["inputs"][0]["shape"] = [1, 3, -1, 1 << 40]
    model("manifest_hostile_shape", m)
    m = json.loads(json.dumps(base))
    m["stages"]["warp"]["threads"] = 1 << 30
    model("manifest_hostile_threads", m)
    model("graph_empty", base, {"warp.onnx": b""})
    model("graph_garbage", base, {"warp.onnx": bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8))})
    model("graph_wrong_shape", base, {"warp.onnx": identity_graph(
        [(n, [1, 3, 32, 32]) for n, _ in ins], [(n, [1, 3, 32, 32]) for n, _ in outs])})
    model("graph_wrong_type", base, {"warp.onnx": identity_graph(ins, outs, TensorProto.INT64)})
    model("graph_missing_output", base, {"warp.onnx": identity_graph(ins, outs[:-1])})


def catalog(name, data):
    write(os.path.join("catalogs", name + ".json"), data if isinstance(data, (str, bytes)) else json.dumps(data))


def catalogs():
    ok = {"id": "mine", "name": "Mine", "category": "t-shirt", "tags": [], "image": "mine.png",
          "mask": "mine_mask.png", "added": "2026-01-01T00:00:00Z"}

    def with_entry(**kw):
        return {"version": 1, "garments": [dict(ok, **kw)]}

    catalog("empty", "")
    catalog("not_json", "{ garments: [")
    catalog("truncated", json.dumps({"version": 1, "garments": [ok]})[:60])
    catalog("array", "[]")
    catalog("wrong_version", {"version": 7, "garments": [ok]})
    catalog("trailing_data", json.dumps({"version": 1, "garments": [ok]}) + "{}")
    catalog("traversal_id", with_entry(id="../../etc"))
    catalog("traversal_image", with_entry(image="../../../../etc/passwd"))
    catalog("absolute_mask", with_entry(mask="/etc/shadow"))
    catalog("duplicate_ids", {"version": 1, "garments": [ok, dict(ok, image="b.png", mask="b_mask.png")]})
    catalog("control_chars", with_entry(name="evil\u0000\u001b[31mname"))
    catalog("wrong_types", with_entry(tags="not-a-list"))
    catalog("deep_nesting", "[" * 100000 + "]" * 100000)


if __name__ == "__main__":
    for sub in ("images", "videos", "models", "catalogs"):
        shutil.rmtree(os.path.join(ROOT, sub), ignore_errors=True)
    images()
    videos()
    models()
    catalogs()
    n = sum(len(files) for _, _, files in os.walk(ROOT)) - 1
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(ROOT) for f in files)
    print(f"wrote {n} files, {size // 1024} KiB under {os.path.relpath(ROOT, REPO)}")
