"""TensorFlow-free inference: preprocessing, the ONNX classifier and the Gradio app."""
