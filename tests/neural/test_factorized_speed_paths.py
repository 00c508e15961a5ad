"""The single-GEMM axis product of the truncated-DFT path, checked against plain matmul."""

from __future__ import annotations

import pytest
import torch

from sciml.neural.spectral import SpectralConv, _matmul_axis


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_matmul_axis_matches_broadcast_matmul_and_its_gradients(dtype):
    gen = torch.Generator().manual_seed(0)
    mat = torch.randn(5, 7, dtype=dtype, generator=gen)
    # a transposed view: the helper must not assume a contiguous input
    z = torch.randn(6, 3, 7, dtype=dtype, generator=gen).transpose(1, 2)
    z1 = z.detach().clone().requires_grad_(True)
    z2 = z.detach().clone().requires_grad_(True)
    out, ref = _matmul_axis(mat, z1), torch.matmul(mat, z2)
    assert out.shape == (6, 5, 3)
    tol = 1e-5 if dtype == torch.complex64 else 1e-12
    torch.testing.assert_close(out, ref, rtol=tol, atol=tol)
    g = torch.randn(6, 5, 3, dtype=dtype, generator=gen)
    torch.view_as_real(out * g).sum().backward()
    torch.view_as_real(ref * g).sum().backward()
    torch.testing.assert_close(z1.grad, z2.grad, rtol=tol, atol=tol)


@pytest.mark.parametrize("factorization", [None, "tucker"])
def test_dft_path_equals_fft_path_in_3d_with_gradients(factorization):
    """Two non-last axes go through the axis product; the FFT path is the independent oracle."""
    torch.manual_seed(0)
    rank = 0.5 if factorization else 1.0
    dft = SpectralConv(3, 2, (4, 5, 4), transform="dft", factorization=factorization,
                       rank=rank).double()
    fft = SpectralConv(3, 2, (4, 5, 4), transform="fft", factorization=factorization,
                       rank=rank).double()
    fft.load_state_dict(dft.state_dict())
    x = torch.randn(2, 3, 8, 9, 10, dtype=torch.float64)
    xa, xb = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    ya, yb = dft(xa), fft(xb)
    torch.testing.assert_close(ya, yb, rtol=1e-10, atol=1e-12)
    g = torch.randn_like(ya)
    (ya * g).sum().backward()
    (yb * g).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-10, atol=1e-12)
    for (name, pa), pb in zip(dft.named_parameters(), fft.parameters()):
        torch.testing.assert_close(pa.grad, pb.grad, rtol=1e-9, atol=1e-11, msg=name)
