"""Classification on PaddleClas models: model builder, in-memory image sets, training loop."""
