"""Classical numerical solvers that make data and serve as baselines."""

from sciml.reference.advection import solve_advection as solve_advection
from sciml.reference.burgers import solve_burgers as solve_burgers
from sciml.reference.diffusion_reaction import solve_diffusion_reaction as solve_diffusion_reaction
from sciml.reference.fem import StiffnessAssembler as StiffnessAssembler
from sciml.reference.fem import interval_mesh as interval_mesh
from sciml.reference.fem import unit_square_mesh as unit_square_mesh
from sciml.reference.finite_difference import assemble_darcy as assemble_darcy
from sciml.reference.finite_difference import solve_darcy as solve_darcy
from sciml.reference.finite_difference import solve_darcy_batch as solve_darcy_batch
from sciml.reference.finite_difference import solve_nonlinear_diffusion as solve_nonlinear_diffusion
from sciml.reference.grf import gaussian_random_field as gaussian_random_field
from sciml.reference.navier_stokes import solve_vorticity as solve_vorticity
