"""Restoring the compile arguments of models that override `compile`."""

import keras


class CompileConfigMixin:
    """`compile_from_config` for Keras models with their own `compile`.

    When a model overrides `compile`, Keras does not restore the compile
    arguments saved in a `.keras` file (it cannot know the override accepts
    them) and warns. The models of `keras_xai.applications` save exactly the
    arguments their `compile` takes, so this mixin restores them and, when
    the model is built, builds the optimizer so its saved state can load.

    Attributes:
        build_optimizer_on_load: bool. Build the optimizer after compiling.
            `False` for models whose own optimizer never steps (no state is
            saved for it). Defaults to `True`.
    """

    build_optimizer_on_load = True

    def compile_from_config(self, config):
        """Compiles the model with the arguments saved in a `.keras` file.

        Args:
            config: dict. The serialised compile arguments.
        """
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.build_optimizer_on_load and self.built:
            self.optimizer.build(self.trainable_variables)
