"""Package data: the ganflow MNIST classifier / feature network (ONNX) and its provenance."""
