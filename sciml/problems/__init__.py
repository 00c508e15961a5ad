"""PDE families: equations, exact solutions and data generators."""

from sciml.problems.darcy import darcy_coefficient as darcy_coefficient
from sciml.problems.darcy import darcy_grid as darcy_grid
from sciml.problems.darcy import generate_darcy as generate_darcy
