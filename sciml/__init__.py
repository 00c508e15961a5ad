"""sciml: scientific machine learning for partial differential equations."""

__version__ = "0.1.0"

from sciml import data as data
from sciml import plot as plot
from sciml import rom as rom
from sciml.core.conditions import Dirichlet as Dirichlet
from sciml.core.conditions import Initial as Initial
from sciml.core.conditions import Neumann as Neumann
from sciml.core.conditions import Periodic as Periodic
from sciml.core.grid import Box as Box
from sciml.core.grid import Grid as Grid
from sciml.core.parameters import Mu as Mu
from sciml.core.parameters import ParameterSpace as ParameterSpace
from sciml.core.problem import OperatorProblem as OperatorProblem
from sciml.core.problem import ParametricProblem as ParametricProblem
from sciml.core.problem import PDEProblem as PDEProblem
from sciml.core.report import Report as Report
from sciml.core.solver import NotFittedError as NotFittedError
from sciml.core.solver import Solver as Solver
