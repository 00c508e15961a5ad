"""PDE families: equations, exact solutions and data generators."""

from sciml.problems.advection import advection_problem as advection_problem
from sciml.problems.darcy import darcy_coefficient as darcy_coefficient
from sciml.problems.darcy import darcy_grid as darcy_grid
from sciml.problems.darcy import generate_darcy as generate_darcy
from sciml.problems.nonaffine_diffusion import nonaffine_diffusion_1d as nonaffine_diffusion_1d
from sciml.problems.nonaffine_diffusion import nonaffine_diffusion_2d as nonaffine_diffusion_2d
from sciml.problems.poisson import poisson_1d as poisson_1d
from sciml.problems.poisson import poisson_2d as poisson_2d
from sciml.problems.thermal_block import thermal_block as thermal_block
