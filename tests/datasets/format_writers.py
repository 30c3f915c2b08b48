"""Writers of tiny dataset files in the original on-disk formats.

Each writer is written from the format's description, independently of the
readers in `keras_xai.datasets`, so a reader bug cannot cancel out.
"""

import pathlib
import struct

import numpy as np
from PIL import Image

# --- Python 2 cPickle, protocol 2: how the CIFAR python batches were written.

_PROTO2 = b"\x80\x02"


def _py2_str(data):
    # A Python 2 `str` (bytes): SHORT_BINSTRING below 256 bytes, else BINSTRING.
    if len(data) < 256:
        return b"U" + bytes([len(data)]) + data
    return b"T" + struct.pack("<i", len(data)) + data


def _py2_int(value):
    if 0 <= value < 256:
        return b"K" + bytes([value])
    if 0 <= value < 65536:
        return b"M" + struct.pack("<H", value)
    return b"J" + struct.pack("<i", value)


def _py2_array(array):
    # numpy.ndarray.__reduce__ as numpy 1.x under Python 2 wrote it:
    # _reconstruct(ndarray, (0,), 'b') then BUILD with
    # (1, shape, dtype, is_fortran, raw bytes); the dtype is
    # dtype(code, 0, 1) then BUILD with (3, byte order, None, None, None,
    # -1, -1, 0).
    code = f"{array.dtype.kind}{array.dtype.itemsize}".encode()
    order = b"|" if array.dtype.itemsize == 1 else b"<"
    out = b"cnumpy.core.multiarray\n_reconstruct\n"
    out += b"cnumpy\nndarray\n" + _py2_int(0) + b"\x85" + _py2_str(b"b") + b"\x87R"
    out += b"(" + _py2_int(1)
    out += b"(" + b"".join(_py2_int(n) for n in array.shape) + b"t"
    out += b"cnumpy\ndtype\n" + _py2_str(code) + _py2_int(0) + _py2_int(1) + b"\x87R"
    out += b"(" + _py2_int(3) + _py2_str(order) + b"NNN"
    out += b"J" + struct.pack("<i", -1) + b"J" + struct.pack("<i", -1) + _py2_int(0)
    out += b"tb"  # dtype state tuple, BUILD
    out += b"\x89"  # is_fortran = False
    little = array.astype(array.dtype.newbyteorder("<"))
    out += _py2_str(np.ascontiguousarray(little).tobytes())
    out += b"tb"  # array state tuple, BUILD
    return out


def _py2_value(value):
    if isinstance(value, dict):
        items = b"".join(_py2_value(k) + _py2_value(v) for k, v in value.items())
        return b"}(" + items + b"u"
    if isinstance(value, list):
        return b"](" + b"".join(_py2_value(item) for item in value) + b"e"
    if isinstance(value, bytes):
        return _py2_str(value)
    if isinstance(value, (int, np.integer)):
        return _py2_int(int(value))
    if isinstance(value, np.ndarray):
        return _py2_array(value)
    raise TypeError(f"py2_pickle cannot write {type(value).__name__}")


def py2_pickle(value):
    """Pickles dicts, lists, bytes, ints and numpy arrays like Python 2 cPickle."""
    return _PROTO2 + _py2_value(value) + b"."


def global_call(module, name, args):
    """A protocol-2 pickle calling `module.name(*args)` (for abuse tests)."""
    import pickle

    encoded_args = pickle.dumps(tuple(args), protocol=2)[2:-1]
    return _PROTO2 + f"c{module}\n{name}\n".encode() + encoded_args + b"R."


class Payload:
    """Pickles to a call of `function(*args)`; used as malicious content."""

    def __init__(self, function, *args):
        self.function = function
        self.args = args

    def __reduce__(self):
        return self.function, self.args


# --- CIFAR.


def cifar_rows(images):
    """(N, 32, 32, 3) uint8 -> (N, 3072): red plane, green, blue, row-major."""
    rows = []
    for image in images:
        planes = b"".join(
            bytes(int(image[r, c, channel]) for r in range(32) for c in range(32))
            for channel in range(3)
        )
        rows.append(np.frombuffer(planes, dtype=np.uint8))
    return np.stack(rows) if rows else np.zeros((0, 3072), np.uint8)


def cifar_binary_records(images, *label_columns):
    """The binary version's records: label byte(s) then the 3072 pixels."""
    rows = cifar_rows(images)
    out = b""
    for index, row in enumerate(rows):
        out += bytes(int(column[index]) for column in label_columns) + row.tobytes()
    return out


# --- Image files.


def save_image(path, array, fmt="PNG"):
    """Writes a uint8 `(H, W)` or `(H, W, 3)` array; `fmt`, not the name, sets
    the format (the real datasets hold a few PNG files named `.jpg`)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(path, format=fmt)
    return path


def save_palette_png(path, indices):
    """Writes a palette (`P`) PNG, VOC colours, whose pixel values are `indices`."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    indices = np.asarray(indices, dtype=np.uint8)
    height, width = indices.shape
    image = Image.frombytes("P", (width, height), indices.tobytes())
    image.putpalette([value for index in range(256) for value in _voc_colour(index)])
    image.save(path, format="PNG")
    return path


def _voc_colour(index):
    r = g = b = 0
    for shift in range(8):
        r |= ((index >> 0) & 1) << (7 - shift)
        g |= ((index >> 1) & 1) << (7 - shift)
        b |= ((index >> 2) & 1) << (7 - shift)
        index >>= 3
    return r, g, b


def write_lines(path, lines):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines))
    return path
