"""The networks for the 32x32x1 contract: ResNet50V2 (grey repeated to 3 channels, ResNetV2 scaling, a
small head), which ships, and a tiny CNN that stands in for it where only the run mechanics matter."""

import keras

from demo.contract import INPUT_NAME, INPUT_SHAPE, NUM_CLASSES, OUTPUT_NAME
from demo.fileio import atomic_path
from train.config import ARCHS, SHIPPED_ARCH, TINY_ARCH

try:  # the one Keras entry point that can leave the optimizer out of a weights file
    from keras.src.saving import saving_lib
except ImportError:
    saving_lib = None


class WeightsError(Exception):
    """ImageNet weights could not be fetched; the message says what to do."""


def build_model(arch: str = SHIPPED_ARCH, weights: str = "none", head_units: int = 256, dropout: float = 0.5):
    """Functional (tf2onnx needs it). Input is the contract's [0, 1] image, so the
    ResNetV2 scaling to [-1, 1] lives inside the graph for both weight choices."""
    if arch == TINY_ARCH:
        return build_tiny(dropout)
    if arch != SHIPPED_ARCH:
        raise ValueError(f"Unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}.")
    inputs = keras.Input(shape=INPUT_SHAPE, name=INPUT_NAME)
    x = keras.layers.Rescaling(2.0, offset=-1.0, name="resnet_v2_scaling")(inputs)
    x = keras.layers.Concatenate(name="grey_to_rgb")([x, x, x])
    try:
        backbone = keras.applications.ResNet50V2(
            include_top=False,
            weights=None if weights == "none" else weights,
            input_shape=(INPUT_SHAPE[0], INPUT_SHAPE[1], 3),
        )
    except Exception as e:  # urllib errors surface as several exception types
        raise WeightsError(
            f"Could not download the ImageNet weights for ResNet50V2 ({e}); "
            "connect to the internet once (Keras caches them in ~/.keras/models) or use --weights none."
        ) from None
    x = backbone(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = keras.layers.BatchNormalization(name="head_bn")(x)
    x = keras.layers.Dense(head_units, activation="relu", name="head_dense")(x)
    x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32", name=OUTPUT_NAME)(x)
    return keras.Model(inputs, outputs, name="mnist_resnet50v2")


def build_tiny(dropout: float = 0.5) -> keras.Model:
    """Two convolutions with BatchNorm, a dropout and the contract's softmax: every kind of layer the
    training, averaging and export code handles, traced in a second, so tests of pause, resume, restarts,
    budgets and strategies do not spend half a minute tracing ResNet50V2. Not a model to ship."""
    inputs = keras.Input(shape=INPUT_SHAPE, name=INPUT_NAME)
    x = inputs
    for i, filters in enumerate((8, 16)):
        x = keras.layers.Conv2D(filters, 3, strides=2, padding="same", use_bias=False, name=f"conv{i + 1}")(x)
        x = keras.layers.BatchNormalization(name=f"bn{i + 1}")(x)
        x = keras.layers.ReLU(name=f"relu{i + 1}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32", name=OUTPUT_NAME)(x)
    return keras.Model(inputs, outputs, name="mnist_tiny")


def zero_residual_branches(model: keras.Model, spare_strided: bool = True) -> int:
    """Zero the last convolution of every residual block but the three stride-2 ones, so a fresh
    network starts as (nearly) the identity through its shortcuts and learns what each block adds
    (Goyal et al. 2017, torchvision's zero_init_residual): the first hundreds of steps then train a
    shallow network that deepens as it learns. Only for a network trained from scratch. Returns how
    many blocks were zeroed.

    The stride-2 blocks keep their branches: their shortcut (a 1x1 max pool) keeps only the top-left
    position of each 2x2, so with those zeroed too (spare_strided=False, torchvision's way) the network
    reads only the input's top-left 6x6 pixels, blank on MNIST, and answers every digit alike (README,
    "Time to accuracy")."""
    if "resnet50v2" not in [layer.name for layer in model.layers]:
        return 0  # the tiny stand-in has no residual blocks
    backbone = model.get_layer("resnet50v2")
    zeroed = 0
    for layer in backbone.layers:
        if layer.name.endswith("_3_conv"):  # convN_blockM_3_conv: the 1x1 that ends the block's branch
            strided = tuple(backbone.get_layer(layer.name[: -len("3_conv")] + "2_conv").strides) != (1, 1)
            if strided and spare_strided:
                continue  # the block's 3x3 strides: its branch is how the digit gets past the shortcut
            for w in layer.weights:
                w.assign(keras.ops.zeros_like(w))
            zeroed += 1
    return zeroed


def _without_optimizer(model: keras.Model) -> list | None:
    return [model.optimizer] if getattr(model, "optimizer", None) is not None else None


def save_weights(model: keras.Model, path) -> None:
    """The network's weights alone, to a `.weights.h5` path, whole or not at all (a temp file, then a
    rename). Keras 3's `save_weights` also writes a compiled model's optimizer state (for AdamW twice the
    weights again), which nothing that reads a run's best.weights.h5 uses: `--resume` reads last.keras."""
    with atomic_path(path, suffix=".weights.h5") as tmp:
        if saving_lib is None:
            model.save_weights(tmp)
        else:
            saving_lib.save_weights_only(model, tmp, objects_to_skip=_without_optimizer(model))


def load_weights(model: keras.Model, path) -> None:
    """`save_weights`' counterpart: into a compiled model too, leaving its optimizer as it is."""
    if saving_lib is None:
        return model.load_weights(path)
    saving_lib.load_weights_only(model, path, objects_to_skip=_without_optimizer(model))
