"""IMPACTX presets: architecture, input size, classes, decoder and λ.

Presets describe configurations (nothing is downloaded): `from_preset(name)`
builds an untrained stage-1 classifier and the IMPACTX around it. Decoder
depth follows the paper: 3 blocks from a 4×4 grid at 32×32 (CIFAR), one
more at 96×96 (STL-10), 2 blocks from 7×7 at 28×28 (Fashion-MNIST).
"""

from keras_xai.applications.paper_presets import paper_presets


def _config(architecture, dataset):
    # 28x28 needs only two decoder blocks (7 -> 14 -> 28); narrower ones
    # keep Fashion-MNIST runs short on CPUs.
    filters = (32, 16) if dataset == "fashion_mnist" else (64, 32, 16)
    return {
        "latent_dim": 512,
        "decoder_filters": filters,
        "explanation_weight": 1.0,
    }


backbone_presets = paper_presets("IMPACTX", _config)
