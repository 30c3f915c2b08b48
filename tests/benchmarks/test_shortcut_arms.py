import pytest

from keras_xai.benchmarks.shortcut import (
    ARM_NAMES,
    ross_lambda_to_rrr_weight,
    shortcut_arm,
)


def test_ross_lambda_conversion():
    # λ1 = 1000 on 0-255 pixels: 1000 / 255² on [0, 1] pixels with β = 0.5.
    assert ross_lambda_to_rrr_weight(1000.0) == pytest.approx(1000.0 / 65025.0)
    # β = 0.75: the guidance term gets 1/3 of CE's weight, so λ triples.
    assert ross_lambda_to_rrr_weight(1000.0, beta=0.75) == pytest.approx(
        3000.0 / 65025.0
    )
    with pytest.raises(ValueError, match="ross_lambda"):
        ross_lambda_to_rrr_weight(-1.0)
    with pytest.raises(ValueError, match="`beta` must be in"):
        ross_lambda_to_rrr_weight(1.0, beta=1.0)


def test_arms_by_name():
    assert set(ARM_NAMES) >= {"ceiling", "floor", "rrr_decoy", "so_1view"}
    ceiling = shortcut_arm("ceiling")
    assert ceiling.kind == "ce" and ceiling.clean and ceiling.annotation is None
    rrr = shortcut_arm("rrr_decoy")
    assert rrr.annotation == "decoy" and rrr.options["guidance"] == "rrr"
    assert rrr.options["rrr_weight"] == pytest.approx(1000.0 / 65025.0)
    assert rrr.name == f"rrr_decoy@{1000.0 / 65025.0:g}"
    swept = shortcut_arm("rrr_background@0.5")
    assert swept.options["rrr_weight"] == 0.5 and swept.annotation == "object"
    assert shortcut_arm("so_8views").options["views"] == 8
    assert shortcut_arm("so_1view_strong").options["beta"] == 0.1
    assert shortcut_arm("so_1view_conv2").options["feature_layer"] == "conv2"
    shuffled = shortcut_arm("rrr_decoy_shuffled@0.5")
    assert shuffled.annotation == "decoy_shuffled"
    assert shuffled.options["rrr_weight"] == 0.5


@pytest.mark.parametrize(
    "name, message",
    [
        ("nope", "Unknown shortcut arm 'nope'"),
        ("floor@1", "takes no '@weight'"),
        ("rrr_decoy@abc", "must be a number"),
        ("rrr_decoy@-1", "rrr_weight"),
        (3, "must be a string"),
    ],
)
def test_bad_arm_names(name, message):
    with pytest.raises(ValueError, match=message):
        shortcut_arm(name)
