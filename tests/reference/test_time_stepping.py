"""phi functions against their closed forms and ETDRK4's fourth order on an exact ODE."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sciml.reference.time_stepping import (
    ETDRK4,
    cfl_time_step,
    dealias_mask,
    integrate_etdrk4,
    output_times,
    phi_functions,
    rfft_wavenumbers,
    substeps,
)


def closed_forms(z):
    e = np.exp(z)
    return (e - 1) / z, (e - 1 - z) / z**2, (e - 1 - z - z**2 / 2) / z**3


@pytest.mark.parametrize("z", [-2000.0, -35.0, -2.5, 0.7, 3.0, -4.0 + 3.0j, 2.0j])
def test_phi_functions_match_closed_forms_where_these_are_accurate(z):
    dtype = torch.complex128 if isinstance(z, complex) else torch.float64
    got = phi_functions(torch.tensor([z], dtype=dtype))
    for g, want in zip(got, closed_forms(np.complex128(z))):
        assert abs(complex(g[0]) - want) <= 1e-13 * max(1.0, abs(want))


def test_phi_functions_at_tiny_arguments_follow_the_taylor_series():
    z = torch.tensor([1e-10, -1e-7, 0.0], dtype=torch.float64)
    p1, p2, p3 = phi_functions(z)
    zn = z.numpy()
    np.testing.assert_allclose(p1.numpy(), 1 + zn / 2, rtol=1e-14)
    np.testing.assert_allclose(p2.numpy(), 1 / 2 + zn / 6, rtol=1e-14)
    np.testing.assert_allclose(p3.numpy(), 1 / 6 + zn / 24, rtol=1e-14)
    assert p1.dtype == torch.float64


def test_etdrk4_is_fourth_order_on_a_stiff_riccati_equation():
    # u' = -a u + u^2 has u(t) = a u0 / (u0 + (a - u0) e^{a t}); diagonal "modes" with
    # different stiffness a check the coefficients elementwise.
    a = torch.tensor([1.0, 30.0, 400.0], dtype=torch.float64)
    u0 = torch.tensor([[0.5, 2.0, 50.0]], dtype=torch.float64)
    t_end = 1.0
    exact = a * u0 / (u0 + (a - u0) * torch.exp(a * t_end))
    errors = []
    for steps in (8, 16, 32, 64):
        traj = integrate_etdrk4(u0.to(torch.complex128), (-a).to(torch.complex128),
                                lambda u, t: u * u, np.array([0.0, t_end]), steps)
        errors.append((traj[0, -1].real - exact[0]).abs().max().item())
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(rates > 3.6), (errors, rates)
    assert errors[-1] < 1e-8


def test_etdrk4_is_exact_for_a_linear_problem():
    lam = torch.tensor([-5.0, 2j, -100.0 + 7j], dtype=torch.complex128)
    scheme = ETDRK4.from_linear(lam, 0.3)
    u = torch.ones(1, 3, dtype=torch.complex128)
    out = scheme.step(u, lambda v, t: torch.zeros_like(v))
    torch.testing.assert_close(out[0], torch.exp(0.3 * lam), rtol=1e-15, atol=1e-15)


def test_schedules_and_spectral_helpers():
    np.testing.assert_allclose(output_times(2.0, 5), [0, 0.5, 1, 1.5, 2])
    assert substeps(1.0, 0.3) == (4, 0.25)
    assert substeps(1.0, 0.25)[0] == 4
    assert cfl_time_step(2.0, 0.1, 0.5) == pytest.approx(0.025)
    dt = cfl_time_step(torch.tensor([0.0, 1.0]), 0.1, 0.5, dt_max=0.02)
    assert dt.tolist() == pytest.approx([0.02, 0.02])
    k = rfft_wavenumbers(8, length=2.0)
    assert k.tolist() == pytest.approx([0, math.pi, 2 * math.pi, 3 * math.pi, 0.0])
    assert dealias_mask(9).tolist() == [1, 1, 1, 0, 0]
    with pytest.raises(ValueError, match="n_times"):
        output_times(1.0, 1)
