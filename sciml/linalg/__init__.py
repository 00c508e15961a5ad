"""Structured linear algebra: Kronecker products and sums kept factored, batched primitives."""

from sciml.linalg.batched import CGResult as CGResult
from sciml.linalg.batched import conjugate_gradient as conjugate_gradient
from sciml.linalg.batched import mode_product as mode_product
from sciml.linalg.batched import symmetric_eigh as symmetric_eigh
from sciml.linalg.kronecker import KroneckerOperator as KroneckerOperator
from sciml.linalg.kronecker import KroneckerSum as KroneckerSum
from sciml.linalg.kronecker import kron_matvec as kron_matvec
