"""`CrashOnceGradCAM`: an explainer that kills its process once (fault tests)."""

import os

from keras_xai.explainers.cam import GradCAM


class CrashOnceGradCAM(GradCAM):
    """GradCAM whose first call ends the process it runs in.

    For tests of distributed target computation: the first call anywhere
    creates `marker` and exits the process at once (as a worker killed
    mid-task would); every later call, in any process, is plain GradCAM.

    Args:
        model: `keras.Model`. A functional classifier.
        marker: str. A file path; its existence means the crash happened.
        **kwargs: `GradCAM` options.
    """

    def __init__(self, model, marker, **kwargs):
        super().__init__(model, **kwargs)
        self.marker = os.fspath(marker)

    def __call__(self, images, targets=None):
        """GradCAM maps, after ending the process on the first call."""
        if not os.path.exists(self.marker):
            with open(self.marker, "w"):
                pass
            os._exit(1)
        return super().__call__(images, targets=targets)
