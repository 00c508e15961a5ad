"""Core interface: domains, grids, problems, the solver contract and reports."""

from sciml._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "AutogradField": "sciml.core.residual",
        "Box": "sciml.core.grid",
        "dependency_report": "sciml.core.environment",
        "Coordinates": "sciml.core.residual",
        "Dirichlet": "sciml.core.conditions",
        "Grid": "sciml.core.grid",
        "Initial": "sciml.core.conditions",
        "Mu": "sciml.core.parameters",
        "optional_dependencies": "sciml.core.environment",
        "Neumann": "sciml.core.conditions",
        "NotFittedError": "sciml.core.solver",
        "OptionalDependency": "sciml.core.environment",
        "OperatorProblem": "sciml.core.problem",
        "ParameterSpace": "sciml.core.parameters",
        "ParametricProblem": "sciml.core.problem",
        "PDEProblem": "sciml.core.problem",
        "Periodic": "sciml.core.conditions",
        "Report": "sciml.core.report",
        "Solver": "sciml.core.solver",
    },
)
