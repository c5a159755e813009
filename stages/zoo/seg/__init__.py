"""Semantic segmentation on PaddleSeg models: data, models, training, scoring, measurement."""
