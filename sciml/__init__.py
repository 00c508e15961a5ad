"""sciml: scientific machine learning for partial differential equations.

Public names are imported on first use (see :mod:`sciml._lazy`), so ``import sciml`` is fast
and reading data does not import torch.
"""

from sciml._lazy import lazy_exports

__version__ = "0.1.0"

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "Box": "sciml.core.grid",
        "Config": "sciml.config",
        "ConfigError": "sciml.config",
        "Dirichlet": "sciml.core.conditions",
        "Grid": "sciml.core.grid",
        "Initial": "sciml.core.conditions",
        "KroneckerGPSolver": "sciml.gp.solver",
        "Mu": "sciml.core.parameters",
        "Neumann": "sciml.core.conditions",
        "NotFittedError": "sciml.core.solver",
        "OperatorProblem": "sciml.core.problem",
        "ParameterSpace": "sciml.core.parameters",
        "ParametricProblem": "sciml.core.problem",
        "PDEProblem": "sciml.core.problem",
        "PIGSolver": "sciml.pig.solver",
        "PINNSolver": "sciml.pig.pinn",
        "Periodic": "sciml.core.conditions",
        "Report": "sciml.core.report",
        "load_config": "sciml.config",
        "Solver": "sciml.core.solver",
    },
    submodules=("config", "core", "data", "gp", "linalg", "neural", "pig", "plot", "problems",
                "reference", "rom", "train"),
)
