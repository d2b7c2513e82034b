"""Closing loop E7: from scored experiences to the improvements each service should consider."""

from .aggregate import aggregate, to_markdown

__all__ = ["aggregate", "to_markdown"]
