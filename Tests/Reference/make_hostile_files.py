"""Writes Tests/Fixtures/hostile/: small crafted files that once crashed, hung or ballooned a reader
(issue 'Reliability'), so that each stays a regression test. Every file is built here from its format's
layout; nothing is hand-edited.

- pth-*.pth: torch.save zip archives whose pickle gives a tensor an overflowing shape, stride or offset,
  or a 2^40-element broadcast view of a 1-element storage (4 TB as float32).
- pickle-deep.pth: a value nested 100 000 tuples deep (a recursive release overflowed the stack).
- pickle-negative-float.pth: a pickle of -1.0 (BINFLOAT with its sign bit set trapped; fuzzing found it).
- pickle-laughs.pth: nine levels of dictionaries that reference the level below ten times through the memo
  ("billion laughs": 10^9 objects from 1.5 KB).
- npz-overlap.npz: 64 directory entries that share one deflated block (a non-recursive zip bomb).
- npz-lying-size.npz: an entry that declares 1 000 bytes and inflates to 64 MB.
- npz-impossible-ratio.npz: an entry that declares 4 GiB from about 120 compressed bytes.
- npz-symlink-size.npz: a symbolic-link entry whose local header claims 4 GB (fuzzing found it).
- wav-huge-frame-count.wav: a WAV announcing 2^32 − 1 bytes at 8 kHz (fuzzing found it).
- h5-dimension-overflow.h5: a Keras weights file whose dataset is 2^40 × 2^40 × 2^40 (chunked, unwritten).
- h5-variable-length-names.h5: layer names as variable-length strings (libhdf5's crash path, fuzzing).
- h5-huge-float-element.h5: a float dataset whose elements claim 4 GB each (libhdf5 held 4.3 GB, fuzzing).
- h5-one-dataset-many-names.h5: one deflated 8 MB dataset named 300 times in a layer's weight_names (2.4 GB read
  from 18 KB, as a fuzzed file once made the reader hold).
- tflite-shape-overflow.tflite: a TFLite model whose one tensor has shape [2^30, 2^30, 2^30, 2^30].
- bmp-top-down.bmp: a valid 3×2 24-bit BMP stored top-down (negative height), and its pixels bottom-up as
  bmp-bottom-up.bmp.

Needs h5py and flatbuffers (e.g. `python3 -m venv /tmp/v && /tmp/v/bin/pip install h5py flatbuffers`);
the rest is the standard library. Usage: python Tests/Reference/make_hostile_files.py
"""
import io
import os
import struct
import zipfile
import zlib

OUT = os.path.join(os.path.dirname(__file__), "..", "Fixtures", "hostile")
os.makedirs(OUT, exist_ok=True)


def save(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    print(f"{name}: {len(data)} bytes")


# --- pickles (protocol 2 opcodes, as torch.save writes them) ---------------------------------------------
def unicode(text):
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def integer(value):
    return b"\x8a\x08" + value.to_bytes(8, "little", signed=True)  # LONG1 with 8 bytes


def tuple_of(items):
    return b"(" + b"".join(items) + b"t"


def tensor_pickle(shape, stride, offset=0, numel=4):
    storage = tuple_of([unicode("storage"), b"ctorch\nFloatStorage\n", unicode("0"), unicode("cpu"), integer(numel)]) + b"Q"
    arguments = tuple_of([storage, integer(offset), tuple_of([integer(s) for s in shape]),
                          tuple_of([integer(s) for s in stride]), b"\x89", b"ccollections\nOrderedDict\n)R"])
    return b"\x80\x02}" + unicode("weight") + b"ctorch._utils\n_rebuild_tensor_v2\n" + arguments + b"Rs."


def pth(pickle_bytes, storage=b"\0" * 16):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in (("archive/data.pkl", pickle_bytes), ("archive/data/0", storage), ("archive/version", b"3\n")):
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)  # reproducible bytes
    return buffer.getvalue()


save("pth-shape-overflow.pth", pth(tensor_pickle([1 << 62, 8], [8, 1])))
save("pth-stride-overflow.pth", pth(tensor_pickle([2, 2], [1 << 62, 1])))
save("pth-offset-overflow.pth", pth(tensor_pickle([2], [1], offset=1 << 62)))
save("pth-broadcast-4tb.pth", pth(tensor_pickle([1 << 40], [0], numel=1), storage=b"\0" * 4))
save("pickle-deep.pth", pth(b"\x80\x02N" + b"\x85" * 100_000 + b"."))
save("pickle-negative-float.pth", pth(b"\x80\x02G\xbf\xf0\x00\x00\x00\x00\x00\x00."))  # BINFLOAT -1.0: its sign bit trapped

laughs = b"\x80\x02]q\x00"  # level 0: an empty list, memo 0
for level in range(1, 10):
    laughs += b"}(" + b"".join(unicode(chr(97 + i)) + b"h" + bytes([level - 1]) for i in range(10)) + b"uq" + bytes([level])
save("pickle-laughs.pth", pth(laughs + b"."))


# --- zip archives ---------------------------------------------------------------------------------------
def npy_bytes(count):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % count
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\0" * (4 * count)


def deflate(data):
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def zip_archive(entries):
    """entries: (name, compressed bytes or an index of an earlier entry's data, declared size, crc).
    An index makes the entry point at that earlier entry's local header and data."""
    body, central, offsets = b"", b"", []
    for name, data, declared, crc in entries:
        raw = name.encode()
        if isinstance(data, int):
            offset, length = offsets[data]
        else:
            offset, length = len(body), len(data)
            body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, length, declared, len(raw), 0) + raw + data
        offsets.append((offset, length))
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, length, declared, len(raw),
                               0, 0, 0, 0, 0, offset) + raw
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(body), 0)
    return body + central + end


zeros = npy_bytes(16 << 20)  # 64 MB of float32 zeros
packed = deflate(zeros)
crc = zlib.crc32(zeros)
save("npz-overlap.npz", zip_archive([("a0.npy", packed, len(zeros), crc)] +
                                    [(f"a{i}.npy", 0, len(zeros), crc) for i in range(1, 64)]))
save("npz-lying-size.npz", zip_archive([("a.npy", packed, 1000, crc)]))
small = deflate(b"\0" * 100_000)
save("npz-impossible-ratio.npz", zip_archive([("a.npy", small, 0xFFFF_FFFE, 0)]))

# A symbolic-link entry whose local header claims 4 GB: ZIPFoundation allocated that much at once (fuzzing).
symlink = bytearray(zip_archive([("a.npy", b"target", 6, zlib.crc32(b"target"))]))
symlink[6:10] = struct.pack("<HH", 0, 0)  # local header: no flags, stored
symlink[18:22] = struct.pack("<I", 0xFFFF_FFF0)  # local compressed size
central = symlink.index(struct.pack("<I", 0x02014B50))
symlink[central + 5] = 3  # made by Unix, so that the mode below counts
symlink[central + 10:central + 12] = struct.pack("<H", 0)  # stored
symlink[central + 38:central + 42] = struct.pack("<I", 0o120777 << 16)  # external attributes: a symlink
save("npz-symlink-size.npz", bytes(symlink))

# A WAV that announces 2^32 − 1 bytes of 8-bit audio at 8 kHz (the streaming size, so not "truncated"): the
# reader reserved frames × 16000 samples for the resampled signal and crashed (fuzzing).
body = bytes([128, 200, 50, 128])
save("wav-huge-frame-count.wav", b"RIFF" + struct.pack("<I", 0xFFFF_FFFF) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8)
     + b"data" + struct.pack("<I", 0xFFFF_FFFF) + body)

# --- HDF5 -----------------------------------------------------------------------------------------------
import h5py  # noqa: E402
import numpy as np  # noqa: E402

path = os.path.join(OUT, "h5-dimension-overflow.h5")
with h5py.File(path, "w") as f:
    f.attrs["layer_names"] = np.array([b"dense"])  # fixed-length, as Keras writes them
    group = f.create_group("dense")
    group.attrs["weight_names"] = np.array([b"dense/kernel:0"])
    group.create_dataset("dense/kernel:0", shape=(1 << 40, 1 << 40, 1 << 40), chunks=(1, 1, 1), dtype="f4")
print(f"h5-dimension-overflow.h5: {os.path.getsize(path)} bytes")

# Layer names as variable-length strings (h5py's default for str): they live in the global heap, whose reader
# in libhdf5 1.10 crashed on a fuzzed file; AudioNet refuses them (Keras writes fixed-length names).
path = os.path.join(OUT, "h5-variable-length-names.h5")
with h5py.File(path, "w") as f:
    f.attrs["layer_names"] = ["dense"]
    f.create_group("dense").attrs["weight_names"] = ["dense/kernel:0"]
print(f"h5-variable-length-names.h5: {os.path.getsize(path)} bytes")

# One deflated dataset of 2^21 zeros, named 300 times: each name read whole would keep 8 MB more.
path = os.path.join(OUT, "h5-one-dataset-many-names.h5")
with h5py.File(path, "w") as f:
    f.attrs["layer_names"] = np.array([b"dense"])
    group = f.create_group("dense")
    group.attrs["weight_names"] = np.array([b"dense/kernel:0"] * 300)
    group.create_dataset("dense/kernel:0", data=np.zeros(1 << 21, dtype="f4"), chunks=(1 << 18,), compression="gzip")
print(f"h5-one-dataset-many-names.h5: {os.path.getsize(path)} bytes")

# A float dataset whose datatype message claims 4,294,967,044-byte elements (the size field patched to 0xFFFFFF04, as
# fuzzing found): libhdf5 1.10 converts through buffers of that element size and held 4.3 GB for an 8.7 KB file.
path = os.path.join(OUT, "h5-huge-float-element.h5")
with h5py.File(path, "w") as f:
    f.attrs["layer_names"] = np.array([b"dense"])
    group = f.create_group("dense")
    group.attrs["weight_names"] = np.array([b"dense/kernel:0"])
    group.create_dataset("dense/kernel:0", data=np.ones((4, 4), dtype="<f4"))
with open(path, "rb") as f:
    data = f.read()
# Datatype message of an IEEE little-endian float32: version 1 class 1, bit field 0x1f20, size 4, offset 0, precision 32.
float32 = bytes([0x11, 0x20, 0x1F, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00])
assert data.count(float32) == 1, data.count(float32)
save("h5-huge-float-element.h5", data.replace(float32, float32[:4] + struct.pack("<I", 0xFFFF_FF04) + float32[8:]))

# --- TFLite (FlatBuffer fields by slot: Model 2 subgraphs, 4 buffers; SubGraph 0 tensors; Tensor 0 shape,
# 1 type, 2 buffer, 3 name; Buffer 0 data) ---------------------------------------------------------------
import flatbuffers  # noqa: E402

builder = flatbuffers.Builder(256)
data = builder.CreateByteVector(b"\0" * 16)
builder.StartObject(1)
builder.PrependUOffsetTRelativeSlot(0, data, 0)
buffer_table = builder.EndObject()
builder.StartVector(4, 1, 4)
builder.PrependUOffsetTRelative(buffer_table)
buffers = builder.EndVector()
name = builder.CreateString("huge")
builder.StartVector(4, 4, 4)
for _ in range(4):
    builder.PrependInt32(1 << 30)
shape = builder.EndVector()
builder.StartObject(5)
builder.PrependUOffsetTRelativeSlot(0, shape, 0)
builder.PrependUint8Slot(1, 0, 255)  # FLOAT32 (0), written even though it is the default
builder.PrependUint32Slot(2, 0, 1)
builder.PrependUOffsetTRelativeSlot(3, name, 0)
tensor = builder.EndObject()
builder.StartVector(4, 1, 4)
builder.PrependUOffsetTRelative(tensor)
tensors = builder.EndVector()
builder.StartObject(5)
builder.PrependUOffsetTRelativeSlot(0, tensors, 0)
subgraph = builder.EndObject()
builder.StartVector(4, 1, 4)
builder.PrependUOffsetTRelative(subgraph)
subgraphs = builder.EndVector()
builder.StartObject(5)
builder.PrependUint32Slot(0, 3, 0)
builder.PrependUOffsetTRelativeSlot(2, subgraphs, 0)
builder.PrependUOffsetTRelativeSlot(4, buffers, 0)
model = builder.EndObject()
builder.Finish(model, file_identifier=b"TFL3")
save("tflite-shape-overflow.tflite", bytes(builder.Output()))


# --- images ---------------------------------------------------------------------------------------------
def bmp(rows, top_down):
    """rows: top to bottom, each a list of (r, g, b); 24-bit, rows padded to 4 bytes."""
    height, width = len(rows), len(rows[0])
    stored = rows if top_down else rows[::-1]
    pixels = b"".join(b"".join(bytes((b, g, r)) for r, g, b in row) + b"\0" * ((4 - 3 * width % 4) % 4) for row in stored)
    info = struct.pack("<IiiHHIIiiII", 40, width, -height if top_down else height, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + len(pixels), 0, 0, 54) + info + pixels


picture = [[(255, 0, 0), (0, 255, 0), (0, 0, 255)], [(10, 20, 30), (40, 50, 60), (70, 80, 90)]]
save("bmp-top-down.bmp", bmp(picture, top_down=True))
save("bmp-bottom-up.bmp", bmp(picture, top_down=False))
