"""Training ResNet50V2 on MNIST with TensorFlow/Keras (`python -m train --help`)."""
