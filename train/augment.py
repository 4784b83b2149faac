"""Random augmentation in the tf.data pipeline, vectorised per batch.

Rotation, independent x/y zoom (width/height change) and translation are composed
into one projective matrix per image, so a batch costs a single
ImageProjectiveTransformV3 call. Optionally the pen changes too: each image moves part
of the way towards its 3x3 dilation or erosion, as people draw with other pens than
MNIST's writers. Never part of the exported graph.
"""

import math
from dataclasses import dataclass

import tensorflow as tf


@dataclass
class Augment:
    rotation_deg: float = 10.0
    zoom: float = 0.10  # scale in [1 - zoom, 1 + zoom], x and y drawn independently
    shift: float = 0.10  # fraction of the 32 px side
    shear_deg: float = 0.0
    stroke: float = 0.0  # pen change in [-stroke, stroke]: 1 = a full 3x3 dilation, -1 a full erosion

    def enabled(self):
        return any((self.rotation_deg, self.zoom, self.shift, self.shear_deg, self.stroke))


def augment_batch(images, aug: Augment, seed=None):
    """The whole augmentation of one batch: pen first, then geometry."""
    if aug.stroke:
        images = stroke_batch(images, aug.stroke, seed)
    return affine_batch(images, aug, seed)


def stroke_batch(images, strength, seed=None):
    """Each image blended towards its 3x3 max (fatter pen) or min (thinner pen) by its own random
    amount: a fractional, anti-aliased change of stroke width. Past -0.5 strokes start to break."""
    p = tf.random.uniform([tf.shape(images)[0], 1, 1, 1], -strength, strength, seed=seed)
    fatter = tf.nn.max_pool2d(images, 3, 1, "SAME")
    thinner = -tf.nn.max_pool2d(-images, 3, 1, "SAME")
    out = images + tf.nn.relu(p) * (fatter - images) + tf.nn.relu(-p) * (thinner - images)
    # the strongest ink back to the digit's own, as the app's preprocessing does after narrowing a stroke
    peak = tf.reduce_max(out, axis=[1, 2, 3], keepdims=True)
    return out * (tf.reduce_max(images, axis=[1, 2, 3], keepdims=True) / tf.maximum(peak, 1e-3))


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
