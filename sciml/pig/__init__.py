"""Physics-informed Gaussians (PIG) and the PINN baseline, behind the Solver contract."""

from sciml.pig.embedding import GaussianEmbedding as GaussianEmbedding
from sciml.pig.monitors import HELD_OUT_KEY as HELD_OUT_KEY
from sciml.pig.monitors import held_out_error as held_out_error
from sciml.pig.networks import MLP as MLP
from sciml.pig.networks import FourierFeatures as FourierFeatures
from sciml.pig.networks import PIGNetwork as PIGNetwork
from sciml.pig.networks import PINNNetwork as PINNNetwork
from sciml.pig.pinn import PINNSolver as PINNSolver
from sciml.pig.solver import PIGSolver as PIGSolver
from sciml.pig.training import HardDirichlet as HardDirichlet
from sciml.pig.training import PhysicsInformedSolver as PhysicsInformedSolver
from sciml.pig.training import Training as Training
