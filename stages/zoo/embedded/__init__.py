"""Embedded datasets: scikit-learn digits drawn into scenes and written in the real dataset formats."""
