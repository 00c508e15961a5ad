"""Gaussian-process PDE solvers with Kronecker structure (GP-HM, made fast)."""

from sciml.gp.kernels import KERNELS as KERNELS
from sciml.gp.kernels import Matern52 as Matern52
from sciml.gp.kernels import ProductKernel as ProductKernel
from sciml.gp.kernels import SpectralMixture as SpectralMixture
from sciml.gp.kernels import SquaredExponential as SquaredExponential
from sciml.gp.kernels import StationaryKernel as StationaryKernel
from sciml.gp.kernels import StudentTMixture as StudentTMixture
from sciml.gp.kernels import make_kernel as make_kernel
from sciml.gp.solver import KroneckerGPSolver as KroneckerGPSolver
