"""ABN presets: the IMPACTX paper's backbones and datasets (its ABN baseline).

Presets describe configurations (nothing is downloaded): `from_preset(name)`
builds an untrained ABN on a fresh classifier; ABN trains end to end.

Where the attention branch sits: the ABN paper reads the feature map before
the backbone's last stage (ResNet's stage 3 of 4 on ImageNet, 14×14), so the
perception branch keeps that stage. The ImageNet backbones here downsample
by 32, leaving a 1×1 map for 32×32 CIFAR images, which would make the
attention map a constant; their presets therefore cut at the end of the
stride-16 stage (2×2 at 32×32, 6×6 at 96×96), as the paper does. LeNet-5
keeps its default, the last pooling layer (4×4 at 28×28, 5×5 at 32×32,
21×21 at 96×96), and a narrower attention branch.
"""

from keras_xai.applications.paper_presets import paper_presets

# architecture -> (feature layer, attention-branch filters)
_BRANCH = {
    "lenet5": (None, (32,)),
    "mobilenet": ("conv_pw_11_relu", (256,)),
    "efficientnet_b2": ("block5d_add", (256,)),
    "vgg16": ("block4_pool", (256,)),
    "resnet50": ("conv4_block6_out", (256,)),
}


def _config(architecture, dataset):
    feature_layer, filters = _BRANCH[architecture]
    return {"filters": filters, "feature_layer": feature_layer}


backbone_presets = paper_presets("ABN", _config)
