"""Detection: PaddleDetection (ppdet) architectures, data, training, decoding and evaluation."""
