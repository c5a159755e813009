"""The model-zoo site's data: registry, metrics and ``dvc.lock`` as the templates see them."""
