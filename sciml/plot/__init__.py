"""Plots of solution fields, comparisons, time series, spectra and training curves (Figures)."""

from sciml.plot import gp as gp
from sciml.plot import rom as rom
from sciml.plot.animate import animate as animate
from sciml.plot.animate import animate_comparison as animate_comparison
from sciml.plot.curves import history as history
from sciml.plot.fields import compare as compare
from sciml.plot.fields import field as field
from sciml.plot.frames import frames as frames
from sciml.plot.frames import spacetime as spacetime
from sciml.plot.gaussians import gaussians as gaussians
from sciml.plot.gaussians import gaussians_before_after as gaussians_before_after
from sciml.plot.resolution import errors_by_resolution as errors_by_resolution
from sciml.plot.resolution import super_resolution as super_resolution
from sciml.plot.rollout import animate_rollout as animate_rollout
from sciml.plot.rollout import plot_rollout as plot_rollout
from sciml.plot.rollout import plot_rollout_error as plot_rollout_error
from sciml.plot.slices import slice_points as slice_points
from sciml.plot.slices import time_slices as time_slices
from sciml.plot.spectra import energy_spectrum as energy_spectrum
from sciml.plot.spectra import spectrum as spectrum
