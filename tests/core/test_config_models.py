"""Every registered neural operator can be named in a configuration file."""

from __future__ import annotations

import pytest
import torch

from sciml.config import ConfigError, build_model, parse_config

CASES = {
    "FNO": {"n_modes": [6, 6], "hidden_channels": 8, "n_layers": 2},
    "TFNO": {"n_modes": [6, 6], "hidden_channels": 8, "n_layers": 2, "rank": 0.5},
    "MgNO": {"dim": 2, "hidden_channels": 8, "n_layers": 2, "n_levels": 2,
             "padding_mode": "zeros"},
    "FactFormer": {"dim": 2, "hidden_channels": 16, "n_layers": 1, "n_heads": 2,
                   "norm_groups": 4, "fourier_features": 4},
    "MGPatchedOperator": {"model": "FNO", "levels": 1, "padding": 2,
                          "model_config": {"in_channels": 4, "out_channels": 1,
                                           "n_modes": [6, 6], "hidden_channels": 8}},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_model_from_config_runs(name):
    config = parse_config({"model": {"name": name, **CASES[name]}})
    in_channels = 2 if name == "MGPatchedOperator" else 1
    model = build_model(config.model, in_channels=in_channels, out_channels=1)
    assert type(model).__name__ == name
    torch.manual_seed(0)
    y = model(torch.randn(2, in_channels, 16, 16))
    assert y.shape == (2, 1, 16, 16) and torch.isfinite(y).all()
    # the model's own config rebuilds it: what checkpoints rely on
    rebuilt = type(model)(**model.config)
    rebuilt.load_state_dict(model.state_dict())
    x = torch.randn(1, in_channels, 16, 16)
    torch.testing.assert_close(rebuilt(x), model(x))


def test_unknown_model_option_names_the_key():
    with pytest.raises(ConfigError, match="model.n_level: unknown key; did you mean 'n_levels'"):
        parse_config({"model": {"name": "MgNO", "n_level": 3}})
