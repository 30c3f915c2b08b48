import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from keras_xai.datasets._image_files import read_rgb


def test_decompression_bomb_names_the_file(tmp_path):
    # A valid 1x1 PNG whose header then claims 20000x20000 pixels.
    path = tmp_path / "bomb.png"
    Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(path)
    data = bytearray(path.read_bytes())
    start = data.index(b"IHDR")
    header = bytearray(data[start : start + 17])
    header[4:12] = struct.pack(">II", 20000, 20000)
    data[start : start + 17] = header
    data[start + 17 : start + 21] = struct.pack(">I", zlib.crc32(bytes(header)))
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="bomb.png declares too many pixels"):
        read_rgb(str(path))
