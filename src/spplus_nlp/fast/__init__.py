"""The fast model: small, CPU, TF-IDF + calibrated linear heads."""

from .model import FastModel

__all__ = ["FastModel"]
