"""Compression methods on PaddleSlim: quantization, pruning, distillation, NAS."""
