"""Classical numerical solvers that make data and serve as baselines."""

from sciml.reference.fem import StiffnessAssembler as StiffnessAssembler
from sciml.reference.fem import interval_mesh as interval_mesh
from sciml.reference.fem import unit_square_mesh as unit_square_mesh
from sciml.reference.finite_difference import assemble_darcy as assemble_darcy
from sciml.reference.finite_difference import solve_darcy as solve_darcy
from sciml.reference.finite_difference import solve_darcy_batch as solve_darcy_batch
from sciml.reference.grf import gaussian_random_field as gaussian_random_field
