"""`--method multitask`: a class head and an attribute head on one backbone."""

import keras

from keras_xai.applications import MultitaskAttributeClassifier
from keras_xai.cli.methods._fitting import final_loss, fit
from keras_xai.datasets.class_attributes import (
    FASHION_MNIST_ATTRIBUTES,
    image_attributes,
    load_class_attributes,
)

NAME = "multitask"
HELP = "class + attribute heads; `explain --arrows` draws attribute arrows"


def add_arguments(group):
    group.add_argument(
        "--attributes",
        default="fashion_mnist",
        help="'fashion_mnist' (the built-in class-level table) or a JSON file "
        "{attribute: [class indices]}",
    )


def attribute_table(args):
    if args.attributes == "fashion_mnist":
        return FASHION_MNIST_ATTRIBUTES
    return load_class_attributes(args.attributes)


def train(args, data, classifier):
    num_classes = len(data.class_names)
    names, targets = image_attributes(data.y_train, attribute_table(args), num_classes)
    model = MultitaskAttributeClassifier(
        classifier.architecture,
        classifier.image_shape,
        num_classes,
        attribute_names=names,
    )
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    y = {"class": data.y_train, "attributes": targets}
    return model, final_loss(fit(args, model, data.x_train, y))
