"""TensorBoard image summaries when TensorFlow and TensorBoard are installed.

Used on any Keras backend; it is here because it imports TensorFlow.
"""

import importlib.util


def tensorboard_available():
    """Whether TensorBoard summaries can be written (TensorFlow and
    TensorBoard installed)."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("tensorflow", "tensorboard")
    )


def write_image_summary(log_dir, tag, image, step):
    """Writes one RGB image to a TensorBoard event file.

    Args:
        log_dir: str. TensorBoard log directory.
        tag: str. Summary name.
        image: float numpy array `(H, W, 3)` in `[0, 1]`.
        step: int. Global step (the epoch).

    Returns:
        `True` if written, `False` when TensorFlow or TensorBoard is not
        installed.
    """
    if not tensorboard_available():
        return False
    import tensorflow as tf

    writer = tf.summary.create_file_writer(log_dir)
    with writer.as_default():
        tf.summary.image(tag, image[None], step=step)
    writer.flush()
    writer.close()
    return True
