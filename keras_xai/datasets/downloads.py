"""The papers' datasets, downloaded once into the Keras cache like
`keras.datasets`, verified, extracted safely, then read offline."""

import os
import shutil
import tarfile

from keras_xai.utils.download import fetch_file, keras_home

# name -> archives `(file name, URL, MD5)`, as the datasets' publishers (and
# torchvision, which checks the same hashes) give them. Each archive is
# extracted into `<Keras cache>/datasets/<name>/`, a layout every loader
# accepts as its `path`.
DATASET_ARCHIVES = {
    "cifar10": (
        (
            "cifar-10-python.tar.gz",
            "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            "c58f30108f718f92721af3b95e74349a",
        ),
    ),
    "cifar100": (
        (
            "cifar-100-python.tar.gz",
            "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
            "eb9058c3a382ffc7106e4002c42a8d85",
        ),
    ),
    "stl10": (
        (
            "stl10_binary.tar.gz",
            "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz",
            "91f7769df0f17e558f3565bffb0c7dfb",
        ),
    ),
    "oxford_pet": (
        (
            "images.tar.gz",
            "https://www.robots.ox.ac.uk/~vgg/data/pets/data/images.tar.gz",
            "5c4f3ee8e5d25df40f4fd59a7f44e54c",
        ),
        (
            "annotations.tar.gz",
            "https://www.robots.ox.ac.uk/~vgg/data/pets/data/annotations.tar.gz",
            "95a8c909bbe2e81eed6a22bccdf3f68f",
        ),
    ),
    "voc2012": (
        (
            "VOCtrainval_11-May-2012.tar",
            "http://host.robots.ox.ac.uk/pascal/VOC/voc2012/"
            "VOCtrainval_11-May-2012.tar",
            "6cd6e144f989b92b3379bac3b3de84fd",
        ),
    ),
    # The images, labels, parts and attributes; the segmentation masks are a
    # separate archive without a published hash (see `load_cub`).
    "cub": (
        (
            "CUB_200_2011.tgz",
            "https://data.caltech.edu/records/65de6-vp158/files/CUB_200_2011.tgz",
            "97eceeb196236b17998738112f37df78",
        ),
    ),
}

_MARKER = ".keras_xai_extracted"


def dataset_directory(name):
    """Where `fetch_dataset(name)` extracts the dataset."""
    _check_name(name)
    return os.path.join(keras_home(), "datasets", name)


def fetch_dataset(name):
    """The extracted dataset `name`, downloaded and extracted if needed.

    Each archive is downloaded once into the Keras cache (`datasets/`),
    checked against its published MD5 (a mismatch is refused and leaves no
    file), and extracted with `tarfile`'s `"data"` filter (no absolute
    paths, no `..`, no links out of the directory, no devices) into a
    staging directory that becomes the dataset directory only once every
    archive is in. A marker naming the archives' hashes says the directory
    is complete; a directory without it is extracted again. With
    `KERAS_XAI_OFFLINE=1` nothing is downloaded.

    Args:
        name: str. A key of `DATASET_ARCHIVES` (`"cifar10"`, `"cifar100"`,
            `"stl10"`, `"oxford_pet"`, `"voc2012"`, `"cub"`).

    Returns:
        The dataset directory, to pass as the loader's `path`.

    Raises:
        ValueError: unknown name, damaged download or unsafe archive member.
        FileNotFoundError: an archive is missing and downloads are off.
        ConnectionError: a download failed.

    Example:

    ```python
    data = load_cifar10(fetch_dataset("cifar10"))  # same as load_cifar10()
    ```
    """
    directory = dataset_directory(name)
    archives = DATASET_ARCHIVES[name]
    fingerprint = "\n".join(f"{fname} {md5}" for fname, _, md5 in archives)
    marker = os.path.join(directory, _MARKER)
    if os.path.isfile(marker):
        with open(marker) as file:
            if file.read() == fingerprint:
                return directory
    paths = [
        fetch_file(fname, origin, file_hash=md5, cache_subdir="datasets")
        for fname, origin, md5 in archives
    ]
    staging = f"{directory}.{os.getpid()}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        for path in paths:
            print(f"Extracting {os.path.basename(path)} into {directory}")
            extract_archive(path, staging)
        with open(os.path.join(staging, _MARKER), "w") as file:
            file.write(fingerprint)
        shutil.rmtree(directory, ignore_errors=True)
        os.replace(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


def extract_archive(path, directory):
    """Extracts a tar archive (any compression) into `directory`, safely.

    Args:
        path: str. The archive.
        directory: str. Destination (created if needed).

    Raises:
        ValueError: the file is not a tar archive, or a member would land
            outside `directory`, is a device or links out of it.
    """
    os.makedirs(directory, exist_ok=True)
    try:
        with tarfile.open(path) as archive:
            archive.extractall(directory, filter="data")
    except tarfile.FilterError as error:
        raise ValueError(
            f"Refusing to extract {path}: {error} (an archive member would "
            "escape the dataset directory or is not a regular file)."
        ) from None
    except tarfile.ReadError as error:
        raise ValueError(f"{path} is not a readable tar archive ({error}).") from None


def _check_name(name):
    if not isinstance(name, str) or name not in DATASET_ARCHIVES:
        raise ValueError(
            f"`name` must be one of {sorted(DATASET_ARCHIVES)}. Received: {name!r}"
        )
