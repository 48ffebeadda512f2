"""Data for the lab: the VITON-HD folder layout (real or synthetic).

* :mod:`training.data.labels` - parsing labels, groups, palette, pose formats
* :mod:`training.data.synth` - synthetic dataset generator (``python -m training synth``)
* :mod:`training.data.vitonhd` - :class:`VitonHDDataset`, the loader
"""
from .vitonhd import VitonHDDataset

__all__ = ["VitonHDDataset"]
