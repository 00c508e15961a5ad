"""Neural operators: spectral layers, FNO and the solver that trains them."""

from sciml.neural.factformer import FactFormer as FactFormer
from sciml.neural.factformer import FactorizedAttention as FactorizedAttention
from sciml.neural.factorized import CPSpectralWeight as CPSpectralWeight
from sciml.neural.factorized import DenseSpectralWeight as DenseSpectralWeight
from sciml.neural.factorized import TTSpectralWeight as TTSpectralWeight
from sciml.neural.factorized import TuckerSpectralWeight as TuckerSpectralWeight
from sciml.neural.fno import FNO as FNO
from sciml.neural.fno import TFNO as TFNO
from sciml.neural.incremental import IncrementalModes as IncrementalModes
from sciml.neural.mgno import MgConv as MgConv
from sciml.neural.mgno import MgNO as MgNO
from sciml.neural.patching import MGPatchedOperator as MGPatchedOperator
from sciml.neural.patching import PatchedDataset as PatchedDataset
from sciml.neural.patching import make_patches as make_patches
from sciml.neural.patching import stitch_patches as stitch_patches
from sciml.neural.patching import window_coordinates as window_coordinates
from sciml.neural.solver import NeuralOperatorSolver as NeuralOperatorSolver
from sciml.neural.solver import NormalizedOperator as NormalizedOperator
from sciml.neural.spectral import SpectralConv as SpectralConv
