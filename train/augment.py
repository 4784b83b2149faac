"""Random affine augmentation in the tf.data pipeline, one vectorised op per batch.

Rotation, independent x/y zoom (width/height change) and translation are composed
into one projective matrix per image, so a batch costs a single
ImageProjectiveTransformV3 call. Never part of the exported graph.
"""
import math
from dataclasses import dataclass

import tensorflow as tf


@dataclass
class Augment:
    rotation_deg: float = 10.0
    zoom: float = 0.10          # scale in [1 - zoom, 1 + zoom], x and y drawn independently
    shift: float = 0.10         # fraction of the 32 px side
    shear_deg: float = 0.0

    def enabled(self):
        return any((self.rotation_deg, self.zoom, self.shift, self.shear_deg))


def affine_batch(images, aug: Augment, seed=None):
    """images float32 [B, H, W, 1] -> same shape, each warped by its own random affine map."""
    shape = tf.shape(images)
    b, h, w = shape[0], tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)

    def uniform(lo, hi):
        return tf.random.uniform([b], lo, hi, seed=seed)

    theta = uniform(-aug.rotation_deg, aug.rotation_deg) * (math.pi / 180.0)
    shear = uniform(-aug.shear_deg, aug.shear_deg) * (math.pi / 180.0)
    sx = uniform(1.0 - aug.zoom, 1.0 + aug.zoom)
    sy = uniform(1.0 - aug.zoom, 1.0 + aug.zoom)
    tx = uniform(-aug.shift, aug.shift) * w
    ty = uniform(-aug.shift, aug.shift) * h
    # The op maps output pixel -> input pixel, so build the inverse of
    # "scale, shear, rotate about the centre, then translate".
    cos, sin = tf.cos(theta), tf.sin(theta)
    a00, a01 = cos / sx, (sin + tf.tan(shear) * cos) / sx
    a10, a11 = -sin / sy, (cos - tf.tan(shear) * sin) / sy
    cx, cy = (w - 1.0) / 2.0, (h - 1.0) / 2.0
    ox, oy = cx + tx, cy + ty
    b0 = cx - a00 * ox - a01 * oy
    b1 = cy - a10 * ox - a11 * oy
    zeros = tf.zeros([b])
    transforms = tf.stack([a00, a01, b0, a10, a11, b1, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=shape[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
