"""Extreme generalised eigenvalues of large pencils (the sparse path of the SCM bounds)."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from sciml.rom.coercivity import DENSE_LIMIT, _extreme_eigs


def _laplacian(n: int, weights: np.ndarray) -> sp.csr_matrix:
    # 1-D P1 stiffness with per-cell weights: semidefinite, with a null space where weights
    # vanish (like the piece of a thermal block that lives on one subdomain)
    main = np.zeros(n)
    main[:-1] += weights
    main[1:] += weights
    return sp.diags([main, -weights, -weights], [0, 1, -1], format="csr")


def test_sparse_extreme_eigenvalues_match_the_dense_oracle():
    n = DENSE_LIMIT + 200
    rng = np.random.default_rng(0)
    weights = np.where(np.arange(n - 1) < n // 3, 1.0 + rng.random(n - 1), 0.0)
    a = _laplacian(n, weights)
    x = _laplacian(n, np.ones(n - 1)) + sp.identity(n) * 1e-2
    lo, hi = _extreme_eigs(a, x)
    w = sla.eigh(a.toarray(), x.toarray(), eigvals_only=True)
    assert abs(lo - w[0]) <= 1e-8 * max(1.0, abs(w[-1]))
    assert abs(hi - w[-1]) <= 1e-8 * abs(w[-1])


def test_indefinite_pencil_smallest_is_negative():
    n = DENSE_LIMIT + 100
    rng = np.random.default_rng(1)
    d = np.linspace(-3.0, 5.0, n) + 0.01 * rng.standard_normal(n)
    a = sp.diags(d, format="csr")
    x = sp.identity(n, format="csr")
    lo, hi = _extreme_eigs(a, x)
    assert np.isclose(lo, d.min(), rtol=0, atol=1e-8)
    assert np.isclose(hi, d.max(), rtol=0, atol=1e-8)
