"""Plots of solution fields, comparisons and training curves (matplotlib Figures)."""

from sciml.plot.curves import history as history
from sciml.plot.fields import compare as compare
from sciml.plot.fields import field as field
