import numpy as np
import pytest
import scipy.sparse as sp

from sciml.rom.pod import OrthonormalBasis, gram_schmidt, pod


def _weighted_problem(n=40, m=12, seed=0):
    rng = np.random.default_rng(seed)
    # Snapshots of rapidly decaying rank and an SPD tridiagonal product.
    s = rng.standard_normal((n, m)) @ np.diag(10.0 ** -np.arange(m)) @ rng.standard_normal((m, m))
    x = sp.diags([-np.ones(n - 1), 3 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1]).tocsr()
    return s, x


@pytest.mark.parametrize("method", ["svd", "snapshots"])
def test_pod_matches_dense_weighted_svd(method):
    s, x = _weighted_problem()
    # Oracle: singular values of X^{1/2} S with a dense matrix square root.
    w, v = np.linalg.eigh(x.toarray())
    half = v @ np.diag(np.sqrt(w)) @ v.T
    sigma = np.linalg.svd(half @ s, compute_uv=False)
    res = pod(s, product=x, n_modes=5, method=method)
    np.testing.assert_allclose(res.singular_values[:5], sigma[:5], rtol=1e-8)
    gram = res.modes.T @ (x @ res.modes)
    np.testing.assert_allclose(gram, np.eye(5), atol=1e-10)
    # The projection error equals the discarded energy.
    proj = res.modes @ (res.modes.T @ (x @ s))
    err = s - proj
    np.testing.assert_allclose(np.trace(err.T @ (x @ err)), np.sum(sigma[5:] ** 2), rtol=1e-6)


def test_svd_method_resolves_tiny_singular_values():
    s, _ = _weighted_problem(m=12)
    exact = np.linalg.svd(s, compute_uv=False)
    res = pod(s, n_modes=12, method="svd")
    # Down to ~1e-11 relative: far below the sqrt(eps) floor of the correlation method.
    np.testing.assert_allclose(res.singular_values[:10], exact[:10], rtol=1e-4)


def test_energy_truncation():
    s, _ = _weighted_problem()
    res = pod(s, energy=1 - 1e-6)
    sigma = res.singular_values
    captured = np.cumsum(sigma**2) / np.sum(sigma**2)
    r = res.n_modes
    assert captured[r - 1] >= 1 - 1e-6 - 1e-15 and (r == 1 or captured[r - 2] < 1 - 1e-6)
    with pytest.raises(ValueError, match="method"):
        pod(s, method="qr")
    with pytest.raises(ValueError, match="energy"):
        pod(s, energy=0.0)


def test_gram_schmidt_orthonormal_and_reconstructs():
    rng = np.random.default_rng(1)
    _, x = _weighted_problem()
    a = rng.standard_normal((40, 6))
    q, r = gram_schmidt(a, x)
    np.testing.assert_allclose(q.T @ (x @ q), np.eye(6), atol=1e-12)
    np.testing.assert_allclose(q @ r, a, atol=1e-12)
    basis = OrthonormalBasis(40, x)
    basis.extend(a[:, :3])
    r2 = basis.extend(np.column_stack([a[:, 3:], a[:, 0] + a[:, 1]]))
    assert basis.size == 6  # the dependent column was dropped
    np.testing.assert_allclose(basis.vectors @ r2[:, 3], a[:, 0] + a[:, 1], atol=1e-12)
