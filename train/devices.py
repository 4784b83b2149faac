"""Where training runs: the precision policy and the tf.distribute strategy for this machine."""

import keras
import tensorflow as tf

from train.precision import choose_precision, cpu_flags


def resolve_precision(name):
    """Set Keras's precision policy; `auto` picks per device (train.precision) and says why."""
    if name == "auto":
        gpus = tf.config.list_physical_devices("GPU")
        capability = None
        if gpus:
            capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability") or (0, 0)
        name, why = choose_precision(capability, cpu_flags())
        print(f"--precision auto: {name} ({why})")
    keras.mixed_precision.set_global_policy(name)
    return name


MULTIWORKER_BROKEN = (
    "Multi-worker training fails in Keras 3 with TensorFlow's MultiWorkerMirroredStrategy (model.fit cannot "
    "take its PerReplica batches; open upstream: keras-team/keras#20585). Train on one machine instead "
    "(--strategy mirrored uses all its GPUs), or see the README for the alternatives."
)


def make_strategy(name, cpu_replicas=0):
    """auto: MirroredStrategy on 2+ GPUs, else the default (one device). `cpu_replicas` splits the
    CPU into logical devices so mirrored training can be tried without GPUs."""
    if name == "multiworker":  # before anything touches the TF context: collectives are set up at start
        return tf.distribute.MultiWorkerMirroredStrategy()
    if cpu_replicas > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * cpu_replicas)
    gpus = tf.config.list_logical_devices("GPU")
    if name == "auto":
        name = "mirrored" if len(gpus) > 1 else "none"
    if name == "mirrored":
        devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
        return tf.distribute.MirroredStrategy(devices)
    return tf.distribute.get_strategy()
