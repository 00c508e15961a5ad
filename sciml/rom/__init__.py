"""Reduced-order models: POD, empirical interpolation, certified reduced bases, surrogates."""

from sciml.core.parameters import Mu as Mu
from sciml.core.parameters import ParameterSpace as ParameterSpace
from sciml.rom.coercivity import CoercivityWarning as CoercivityWarning
from sciml.rom.coercivity import MinThetaBound as MinThetaBound
from sciml.rom.coercivity import SuccessiveConstraintBound as SuccessiveConstraintBound
from sciml.rom.coercivity import coercivity_constant as coercivity_constant
from sciml.rom.eim import EmpiricalInterpolant as EmpiricalInterpolant
from sciml.rom.eim import InterpolationCoefficients as InterpolationCoefficients
from sciml.rom.eim import MatrixEIM as MatrixEIM
from sciml.rom.eim import deim as deim
from sciml.rom.eim import eim as eim
from sciml.rom.eim import qdeim as qdeim
from sciml.rom.estimators import GramResidualNorm as GramResidualNorm
from sciml.rom.estimators import OrthonormalResidualNorm as OrthonormalResidualNorm
from sciml.rom.models import AffineModel as AffineModel
from sciml.rom.models import LinearModel as LinearModel
from sciml.rom.pod import OrthonormalBasis as OrthonormalBasis
from sciml.rom.pod import PODResult as PODResult
from sciml.rom.pod import gram_schmidt as gram_schmidt
from sciml.rom.pod import pod as pod
from sciml.rom.reduced_basis import GreedyResult as GreedyResult
from sciml.rom.reduced_basis import NonintrusiveReducedBasisSolver as NonintrusiveReducedBasisSolver
from sciml.rom.reduced_basis import ReducedBasisSolver as ReducedBasisSolver
from sciml.rom.reduced_basis import ReducedModel as ReducedModel
from sciml.rom.reduced_basis import weak_greedy as weak_greedy
from sciml.rom.regression import PODGPSurrogate as PODGPSurrogate
