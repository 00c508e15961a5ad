"""Data: HDF5 files read lazily, torch datasets, normalizers and generators.

``sciml.data.open`` shadows the builtin ``open`` inside this namespace only.
"""

from sciml.data.dataset import OperatorDataset as OperatorDataset
from sciml.data.dataset import WindowDataset as WindowDataset
from sciml.data.dataset import resolution_stride as resolution_stride
from sciml.data.dataset import split_indices as split_indices
from sciml.data.dataset import to_tensor_dataset as to_tensor_dataset
from sciml.data.generate import generate as generate
from sciml.data.hdf5 import H5Dataset as H5Dataset
from sciml.data.hdf5 import LazyArray as LazyArray
from sciml.data.hdf5 import Writer as Writer
from sciml.data.hdf5 import detect_layout as detect_layout
from sciml.data.hdf5 import open_dataset as open  # noqa: F401  (re-export under the short name)
from sciml.data.hdf5 import open_dataset as open_dataset
from sciml.data.hdf5 import write as write
from sciml.data.normalize import UnitGaussianNormalizer as UnitGaussianNormalizer
from sciml.data.normalize import fit_normalizers as fit_normalizers
