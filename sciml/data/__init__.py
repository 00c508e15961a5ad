"""Data: HDF5 files read lazily, torch datasets, normalizers and generators.

``sciml.data.open`` shadows the builtin ``open`` inside this namespace only. Names are
imported on first use, so ``sciml.data.open`` reads files without importing torch.
"""

from sciml._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "H5Dataset": "sciml.data.hdf5",
        "LazyArray": "sciml.data.hdf5",
        "OperatorDataset": "sciml.data.dataset",
        "UnitGaussianNormalizer": "sciml.data.normalize",
        "WindowDataset": "sciml.data.dataset",
        "Writer": "sciml.data.hdf5",
        "detect_layout": "sciml.data.hdf5",
        "fit_normalizers": "sciml.data.normalize",
        "generate": "sciml.data.generate",
        "open": "sciml.data.hdf5:open_dataset",
        "open_dataset": "sciml.data.hdf5",
        "resolution_stride": "sciml.data.dataset",
        "split_indices": "sciml.data.dataset",
        "to_tensor_dataset": "sciml.data.dataset",
        "write": "sciml.data.hdf5",
    },
)
