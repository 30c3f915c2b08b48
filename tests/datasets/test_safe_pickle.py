import builtins
import os
import pickle
import subprocess
import warnings

import numpy as np
import pytest

from keras_xai.datasets.safe_pickle import (
    RestrictedUnpickler,
    UnsafePickleError,
    load_file,
    loads,
)
from tests.datasets.format_writers import Payload, global_call, py2_pickle

PROTOCOLS = list(range(pickle.HIGHEST_PROTOCOL + 1))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_plain_containers_round_trip(protocol):
    value = {
        b"bytes key": [b"", b"\x00\xff" * 200, "text", 1, -(2**40), 2**70, 1.5, None],
        "tuple": (True, False, (1, 2), ()),
        "set": {1, 2, 3},
        "frozenset": frozenset([b"a"]),
        "nested": {"a": [[], {}, [b"x"]]},
        "bytearray": bytearray(b"ab") if protocol >= 5 else b"ab",
    }
    assert loads(pickle.dumps(value, protocol=protocol)) == value


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("dtype", ["uint8", "int8", ">i4", "<i8", "float32", "bool"])
def test_numeric_arrays_round_trip(protocol, dtype):
    base = (np.arange(24).reshape(4, 6) % 5).astype(dtype)
    for array in (base, np.asfortranarray(base), base[:, ::2], base[:0]):
        result = loads(pickle.dumps({"a": array, "b": [array]}, protocol=protocol))
        np.testing.assert_array_equal(result["a"], array)
        assert result["a"].dtype == array.dtype.newbyteorder("=")
        assert result["a"].dtype.isnative
        assert result["a"].flags.writeable
        np.testing.assert_array_equal(result["b"][0], array)


def test_python2_cifar_style_pickle_matches_plain_pickle():
    data = np.random.default_rng(0).integers(0, 256, (3, 3072), dtype=np.uint8)
    batch = {
        b"batch_label": b"training batch 1 of 5",
        b"labels": [6, 9, 9],
        b"data": data,
        b"filenames": [b"leptodactylus_pentadactylus_s_000004.png"] * 3,
    }
    stream = py2_pickle(batch)
    # The hand-written Python 2 stream is what plain pickle + numpy read too
    # (numpy.core is deprecated in numpy 2, hence the warnings).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = pickle.loads(stream, encoding="bytes")
    result = loads(stream)
    assert set(result) == set(reference) == set(batch)
    assert result[b"labels"] == [6, 9, 9]
    assert result[b"batch_label"] == b"training batch 1 of 5"
    np.testing.assert_array_equal(result[b"data"], data)
    np.testing.assert_array_equal(reference[b"data"], data)
    assert result[b"data"].dtype == np.uint8


def test_python2_strings_with_latin1_encoding():
    stream = py2_pickle({b"data": np.arange(4, dtype=np.uint8), b"k": b"\xe9"})
    result = loads(stream, encoding="latin1")
    assert result["k"] == "\xe9"
    np.testing.assert_array_equal(result["data"], [0, 1, 2, 3])


def test_self_referencing_and_shared_objects():
    loop = []
    loop.append(loop)
    result = loads(pickle.dumps(loop))
    assert result[0] is result
    array = np.arange(3)
    shared = loads(pickle.dumps([array, array, (array,)]))
    assert shared[0] is shared[1] and shared[2][0] is shared[0]


def _payloads(marker):
    command = f"touch {marker}"
    return {
        "os.system": Payload(os.system, command),
        "builtins.eval": Payload(builtins.eval, f"open({str(marker)!r}, 'w').close()"),
        "builtins.exec": Payload(builtins.exec, f"open({str(marker)!r}, 'w').close()"),
        "subprocess.call": Payload(subprocess.call, ["touch", str(marker)]),
        "subprocess.Popen": Payload(subprocess.Popen, ["touch", str(marker)]),
    }


@pytest.mark.parametrize(
    "name, refused",
    [
        ("os.system", r"posix\.system"),  # os.system pickles as posix.system
        ("builtins.eval", r"(builtins|__builtin__)\.eval"),
        ("builtins.exec", r"(builtins|__builtin__)\.exec"),
        # Below protocol 3, Python 2 names are written: commands.call.
        ("subprocess.call", r"(subprocess|commands)\.call"),
        ("subprocess.Popen", r"(subprocess|commands)\.Popen"),
    ],
)
@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_code_execution_is_refused_and_does_not_run(tmp_path, name, refused, protocol):
    marker = tmp_path / "pwned"
    stream = pickle.dumps({b"data": [1, _payloads(marker)[name]]}, protocol=protocol)
    with pytest.raises(UnsafePickleError, match=refused):
        loads(stream)
    assert not marker.exists()
    # Control: plain pickle does run the payload, so the check above can fail.
    result = pickle.loads(stream)
    if name == "subprocess.Popen":
        result[b"data"][1].wait()
    assert marker.exists()


def test_refused_global_is_both_unpickling_and_value_error():
    stream = pickle.dumps(Payload(os.getcwd))
    with pytest.raises(pickle.UnpicklingError):
        loads(stream)
    with pytest.raises(ValueError, match=r"posix\.getcwd"):
        loads(stream)


@pytest.mark.parametrize(
    "value, message",
    [
        (np.array(["a", "b"]), "dtype code 'U1'"),
        (np.array([1, "x"], dtype=object), "dtype code 'O8'"),
        (np.zeros(2, dtype=[("a", "u1")]), "fields or a sub-array"),
        (np.zeros(2, dtype="complex64"), "dtype code 'c8'"),
        (np.float64(3.0), "scalar"),
        (np.dtype("u1"), "bare numpy dtype"),
        (1 + 2j, "complex"),
    ],
)
@pytest.mark.parametrize("protocol", [2, 5])
def test_non_numeric_numpy_content_is_refused(value, message, protocol):
    with pytest.raises(UnsafePickleError, match=message):
        loads(pickle.dumps(value, protocol=protocol))


@pytest.mark.parametrize(
    "module, name, args, message",
    [
        ("_codecs", "encode", ("abc", "rot13"), "latin1"),
        ("_codecs", "encode", (b"abc", "latin1"), "latin1"),
        ("numpy", "ndarray", ((10**9,),), "calls numpy.ndarray directly"),
        ("__builtin__", "bytes", (10**9,), "without arguments"),
        ("builtins", "set", ("abc",), "list argument"),
        ("numpy.core.multiarray", "_reconstruct", (1, (0,), b"b"), "subtype"),
        ("numpy._core.numeric", "_frombuffer", (b"ab", 1, (2,), "C"), "dtype"),
        ("numpy._core.numeric", "_frombuffer", (b"ab", 1, (2,), "X"), "order"),
        ("copyreg", "_reconstructor", (), r"copyreg\._reconstructor"),
        ("numpy", "load", ("x",), r"numpy\.load"),
    ],
)
def test_admitted_names_cannot_be_abused(module, name, args, message):
    with pytest.raises(UnsafePickleError, match=message):
        loads(global_call(module, name, args))


def test_array_data_must_match_shape():
    stream = py2_pickle(np.arange(6, dtype=np.uint8))
    # Claim shape (7,) for 6 bytes: K\x06 (the shape) -> K\x07.
    forged = stream.replace(b"(K\x01(K\x06t", b"(K\x01(K\x07t")
    assert forged != stream
    with pytest.raises(UnsafePickleError, match=r"needs 7 data bytes. Received 6"):
        loads(forged)


def test_persistent_ids_are_refused():
    stream = b"\x80\x02U\x03pidQ."  # BINPERSID
    with pytest.raises(UnsafePickleError, match="persistent id"):
        loads(stream)


@pytest.mark.parametrize("cut", [1, 10, 100])
def test_truncated_stream_is_an_unpickling_error(cut):
    stream = pickle.dumps({"a": np.arange(50), "b": list(range(20))}, protocol=2)
    with pytest.raises(pickle.UnpicklingError):
        loads(stream[:-cut])


def test_unpickler_class_reads_file_objects(tmp_path):
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps({b"labels": [3]}))
    with open(path, "rb") as file:
        assert RestrictedUnpickler(file).load() == {b"labels": [3]}


def test_load_file_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such_batch"):
        load_file(tmp_path / "no_such_batch")
    broken = tmp_path / "broken_batch"
    broken.write_bytes(pickle.dumps({"a": [1, 2, 3]})[:-4])
    with pytest.raises(ValueError, match="broken_batch is not a valid pickle"):
        load_file(broken)
    evil = tmp_path / "evil_batch"
    evil.write_bytes(pickle.dumps(Payload(os.system, "true")))
    with pytest.raises(UnsafePickleError, match=r"evil_batch.*posix\.system"):
        load_file(evil)
    good = tmp_path / "good_batch"
    good.write_bytes(py2_pickle({b"labels": [1]}))
    assert load_file(str(good)) == {b"labels": [1]}


def _text_key(text):
    data = text.encode()
    return b"X" + len(data).to_bytes(4, "little") + data


@pytest.mark.parametrize(
    "module", ["numpy\ndtype", "_codecs\nencode", "__builtin__\nset"]
)
def test_build_on_an_admitted_global_cannot_rewrite_the_loader(module):
    from keras_xai.datasets import safe_pickle

    defaults = {
        name: getattr(safe_pickle, name).__defaults__
        for name in ("_dtype", "_codecs_encode", "_plain_set")
    }
    # global, then BUILD with state (None, {"__defaults__": (True, True)}):
    # pickle's BUILD would setattr() the slot state onto the object.
    slot_state = (
        b"\x80\x02c" + module.encode() + b"\n"
        + b"N}" + _text_key("__defaults__") + b"\x88\x88\x86s\x86b."
    )  # fmt: skip
    # ... and with a dict state, which pickle would write into __dict__.
    dict_state = (
        b"\x80\x02c" + module.encode() + b"\n}" + _text_key("__doc__") + b"Nsb."
    )
    for payload in (slot_state, dict_state):
        with pytest.raises(UnsafePickleError, match="BUILD"):
            loads(payload)
    assert defaults == {
        name: getattr(safe_pickle, name).__defaults__ for name in defaults
    }


@pytest.mark.parametrize(
    "payload",
    [
        b"\x80\x02cnumpy.core.multiarray\n_reconstruct\n.",
        b"\x80\x02cnumpy\ndtype\n.",
        b"\x80\x02]cnumpy\nndarray\na.",
        b"\x80\x02}c_codecs\nencode\nNs.",  # an admitted global as a dict key
    ],
)
def test_admitted_globals_are_not_returned_as_data(payload):
    with pytest.raises(UnsafePickleError):
        loads(payload)
