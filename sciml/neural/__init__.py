"""Neural operators: spectral layers, FNO and the solver that trains them."""

from sciml.neural.fno import FNO as FNO
from sciml.neural.solver import NeuralOperatorSolver as NeuralOperatorSolver
from sciml.neural.solver import NormalizedOperator as NormalizedOperator
from sciml.neural.spectral import SpectralConv as SpectralConv
