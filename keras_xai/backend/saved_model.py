"""SavedModel export whose serving endpoints check their input.

Imports TensorFlow, so it lives under `keras_xai/backend/` and is imported
only by `keras_xai.export` on the TensorFlow and JAX backends (Keras exports
JAX models through TensorFlow too).
"""

import keras
import tensorflow as tf


def export_checked_saved_model(model, path, verbose=False):
    """Writes `model` as a SavedModel with input-checking `serve` endpoints.

    Keras's own export gives `serve` a fixed input signature but
    `serving_default` (the signature TF Serving and `saved_model_cli` call)
    accepts any shape: a wrong channel count was answered with numbers and
    a batch of the wrong rank aborted the serving process inside a kernel.
    Here both `serve` and `serving_default` are one `tf.function` that
    takes a float tensor of any shape, checks its rank and its per-image
    shape against the model's input, and only then calls the model, so a
    wrong input ends in an `InvalidArgumentError` (a wrong dtype in a
    `TypeError` or `InvalidArgumentError`), never in an answer or a crash.

    Args:
        model: a built single-input `keras.Model`.
        path: str. Output directory.
        verbose: bool. Print Keras's export summary.

    Returns:
        `path`.
    """
    spec = model.inputs[0]
    shape = tuple(spec.shape)
    dtype = tf.as_dtype(spec.dtype)
    archive = keras.export.ExportArchive()
    model_fn = archive.track_and_add_endpoint(
        "model_fn", model, input_signature=[tf.TensorSpec(shape, dtype)]
    )
    image_shape = [int(d) for d in shape[1:]]
    expected = f"(batch, {', '.join(str(d) for d in image_shape)})"

    @tf.function(input_signature=[tf.TensorSpec(shape=None, dtype=dtype)])
    def serve(images):
        tf.debugging.assert_rank(
            images, len(shape), message=f"images must have shape {expected}"
        )
        tf.debugging.assert_equal(
            tf.shape(images)[1:],
            tf.constant(image_shape, dtype=tf.int32),
            message=f"images must have shape {expected}",
        )
        return model_fn(tf.ensure_shape(images, shape))

    archive.add_endpoint("serve", serve)
    archive.add_endpoint("serving_default", serve)
    archive.write_out(path, verbose=verbose)
    return path
