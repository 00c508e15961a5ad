"""PDE families: equations, exact solutions and data generators."""

from sciml.problems.advection import advection_problem as advection_problem
from sciml.problems.allen_cahn import allen_cahn as allen_cahn
from sciml.problems.allen_cahn import allen_cahn_1d as allen_cahn_1d
from sciml.problems.allen_cahn import allen_cahn_2d as allen_cahn_2d
from sciml.problems.darcy import darcy_coefficient as darcy_coefficient
from sciml.problems.darcy import darcy_grid as darcy_grid
from sciml.problems.darcy import generate_darcy as generate_darcy
from sciml.problems.flow_mixing import flow_mixing_3d as flow_mixing_3d
from sciml.problems.helmholtz import helmholtz_2d as helmholtz_2d
from sciml.problems.klein_gordon import klein_gordon_3d as klein_gordon_3d
from sciml.problems.nonaffine_diffusion import nonaffine_diffusion_1d as nonaffine_diffusion_1d
from sciml.problems.nonaffine_diffusion import nonaffine_diffusion_2d as nonaffine_diffusion_2d
from sciml.problems.nonlinear_diffusion import nonlinear_diffusion_3d as nonlinear_diffusion_3d
from sciml.problems.poisson import poisson_1d as poisson_1d
from sciml.problems.poisson import poisson_2d as poisson_2d
from sciml.problems.thermal_block import thermal_block as thermal_block
