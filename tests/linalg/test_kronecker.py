"""Every Kronecker operation against the dense matrix on small grids (1, 2, 3 axes, batched)."""

import pytest
import torch

from sciml.linalg import KroneckerOperator, KroneckerSum, conjugate_gradient, mode_product

SHAPES = [(5,), (4, 3), (3, 2, 4)]


def spd(n, batch=(), seed=0):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(*batch, n, n, generator=g, dtype=torch.float64)
    return a @ a.mT + n * torch.eye(n, dtype=torch.float64)


def general(n, batch=(), seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*batch, n, n, generator=g, dtype=torch.float64) + 3 * torch.eye(
        n, dtype=torch.float64
    )


def vec(x, d):
    return x.reshape(*x.shape[: x.ndim - d], -1)


@pytest.fixture(params=[(), (2,)], ids=["unbatched", "batch2"])
def batch(request):
    return request.param


@pytest.mark.parametrize("shape", SHAPES, ids=["1d", "2d", "3d"])
class TestKroneckerOperator:
    def make(self, shape, batch, maker=spd):
        return KroneckerOperator([maker(n, batch, seed=k) for k, n in enumerate(shape)])

    def rhs(self, shape, batch):
        g = torch.Generator().manual_seed(7)
        return torch.randn(*batch, *shape, generator=g, dtype=torch.float64)

    def test_dense_is_kron(self, shape, batch):
        op = self.make(shape, batch, general)
        if not batch:
            dense = op.factors[0]
            for f in op.factors[1:]:
                dense = torch.kron(dense, f)
            torch.testing.assert_close(op.to_dense(), dense)
        assert op.to_dense().shape == (*batch, op.size, op.size)

    def test_matmul_and_transpose(self, shape, batch):
        op = self.make(shape, batch, general)
        x = self.rhs(shape, batch)
        dense = op.to_dense()
        d = len(shape)
        torch.testing.assert_close(vec(op @ x, d), (dense @ vec(x, d)[..., None])[..., 0])
        torch.testing.assert_close(
            vec(op.transpose() @ x, d), (dense.mT @ vec(x, d)[..., None])[..., 0]
        )

    def test_solve_general(self, shape, batch):
        op = self.make(shape, batch, general)
        x = self.rhs(shape, batch)
        d = len(shape)
        expected = torch.linalg.solve(op.to_dense(), vec(x, d)[..., None])[..., 0]
        torch.testing.assert_close(vec(op.solve(x), d), expected)

    def test_solve_with_shift_and_inv_quad(self, shape, batch):
        op = self.make(shape, batch)
        x = self.rhs(shape, batch)
        d = len(shape)
        dense = op.to_dense() + 0.3 * torch.eye(op.size, dtype=torch.float64)
        expected = torch.linalg.solve(dense, vec(x, d)[..., None])[..., 0]
        torch.testing.assert_close(vec(op.solve(x, shift=0.3), d), expected)
        quad = (vec(x, d) * expected).sum(-1)
        torch.testing.assert_close(op.inv_quad(x, shift=0.3), quad)

    def test_logdet(self, shape, batch):
        op = self.make(shape, batch)
        dense = op.to_dense()
        torch.testing.assert_close(op.logdet(), torch.linalg.slogdet(dense)[1])
        shifted = dense + 0.5 * torch.eye(op.size, dtype=torch.float64)
        torch.testing.assert_close(op.logdet(shift=0.5), torch.linalg.slogdet(shifted)[1])

    def test_eigh_reconstructs(self, shape, batch):
        op = self.make(shape, batch)
        _values, vectors = op.eigh()
        q = KroneckerOperator(vectors).to_dense()
        lam = op.eigenvalues().reshape(*batch, -1)
        torch.testing.assert_close(q @ torch.diag_embed(lam) @ q.mT, op.to_dense())
        torch.testing.assert_close(
            torch.sort(lam, dim=-1).values, torch.linalg.eigvalsh(op.to_dense())
        )

    def test_cholesky(self, shape, batch):
        op = self.make(shape, batch)
        chol = op.cholesky().to_dense()
        torch.testing.assert_close(chol, torch.linalg.cholesky(op.to_dense()))

    def test_diagonal(self, shape, batch):
        op = self.make(shape, batch, general)
        d = len(shape)
        torch.testing.assert_close(
            vec(op.diagonal(), d), torch.diagonal(op.to_dense(), dim1=-2, dim2=-1)
        )


@pytest.mark.parametrize("shape", SHAPES, ids=["1d", "2d", "3d"])
def test_kronecker_sum_matmul_and_solve(shape, batch):
    op = KroneckerSum([spd(n, batch, seed=k) for k, n in enumerate(shape)])
    g = torch.Generator().manual_seed(3)
    x = torch.randn(*batch, *shape, generator=g, dtype=torch.float64)
    d = len(shape)
    dense = op.to_dense()
    torch.testing.assert_close(vec(op @ x, d), (dense @ vec(x, d)[..., None])[..., 0])
    shifted = dense + 0.2 * torch.eye(dense.shape[-1], dtype=torch.float64)
    expected = torch.linalg.solve(shifted, vec(x, d)[..., None])[..., 0]
    torch.testing.assert_close(vec(op.solve(x, shift=0.2), d), expected)
    torch.testing.assert_close(
        torch.sort(op.eigenvalues().reshape(*batch, -1), -1).values,
        torch.linalg.eigvalsh(dense),
    )


def test_rectangular_mode_product():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, generator=g, dtype=torch.float64)
    a = torch.randn(5, 3, generator=g, dtype=torch.float64)
    torch.testing.assert_close(mode_product(x, a, 0), a @ x)
    b = torch.randn(2, 4, generator=g, dtype=torch.float64)
    torch.testing.assert_close(mode_product(x, b, 1), x @ b.T)


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="factors"):
        KroneckerOperator([])
    op = KroneckerOperator([torch.eye(2, dtype=torch.float64), torch.eye(3, dtype=torch.float64)])
    with pytest.raises(ValueError, match="x: expected shape"):
        op @ torch.zeros(3, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="square"):
        KroneckerSum([torch.zeros(2, 3)])


def test_conjugate_gradient_matches_dense_solve():
    a = spd(12, seed=4)
    g = torch.Generator().manual_seed(1)
    b = torch.randn(12, generator=g, dtype=torch.float64)
    result = conjugate_gradient(lambda v: a @ v, b, preconditioner=lambda r: r / torch.diag(a),
                                tol=1e-12, maxiter=100)
    assert result.converged
    torch.testing.assert_close(result.x, torch.linalg.solve(a, b))
