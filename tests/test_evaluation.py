"""AIS estimates of log Z against exact enumeration, on RBMs trained on scikit-learn's digits.

The notebook nbs/07_evaluation.ipynb checks every measure on tiny models. These checks need trained models with
10 to 25 hidden units, and the exact log Z of the largest took 11 to 22 seconds (2**25 states), so they live here.
The whole file took about 45 seconds on two shared cores.
"""
import time

import numpy as np
import pytest
from sklearn.datasets import load_digits

from rbm_lit import BernoulliRBM
from rbm_lit.energy import exact_log_partition as energy_exact_log_partition
from rbm_lit.evaluation import (ais_log_partition, base_rate_bias, bernoulli_log_partition, exact_log_partition,
                                log_likelihood)


@pytest.fixture(scope="module")
def digits():
    return load_digits().data / 16


@pytest.fixture(scope="module")
def trained(digits):
    "Return a function that trains (once per size) and returns an RBM with the given number of hidden units."
    models = {}
    def train(n_hidden):
        if n_hidden not in models:
            models[n_hidden] = BernoulliRBM(n_components=n_hidden, learning_rate=0.1, n_iter=40,
                                            random_state=0).fit(digits)
        return models[n_hidden]
    return train


def check_ais(model, exact, tolerance, **ais_options):
    "Assert that AIS brackets the exact log Z and lands within `tolerance` nats of it; return the estimate."
    estimate = ais_log_partition(model, random_state=0, **ais_options)
    assert estimate.lower <= exact, f"exact log Z {exact:.4f} is below the AIS bounds {estimate}"
    assert exact <= estimate.upper, f"exact log Z {exact:.4f} is above the AIS bounds {estimate}"
    assert abs(estimate.log_z - exact) < tolerance, f"AIS {estimate.log_z:.4f} is not within {tolerance} of {exact:.4f}"
    return estimate


@pytest.mark.parametrize("n_hidden", [10, 16, 20])
def test_ais_defaults_match_exact(trained, n_hidden):
    model = trained(n_hidden)
    check_ais(model, exact_log_partition(model), tolerance=0.1)


@pytest.mark.parametrize("schedule", ["uniform", "piecewise"])
def test_ais_base_rate_matches_exact(trained, digits, schedule):
    model = trained(16)
    check_ais(model, exact_log_partition(model), tolerance=0.1, schedule=schedule,
              base_visible_bias=base_rate_bias(digits))


def test_25_hidden_units_exact_and_ais_agree(trained, digits):
    # 2**25 = 33,554,432 hidden states, enumerated 1,024 at a time, took 11 to 22 s on one core.
    model = trained(25)
    start = time.perf_counter()
    exact = exact_log_partition(model)
    enumeration_seconds = time.perf_counter() - start
    assert enumeration_seconds < 90, f"enumerating 2**25 states took {enumeration_seconds:.0f} s"

    # The full default schedule of 10,000 temperatures takes about 4 s here, so it is not shortened.
    estimate = check_ais(model, exact, tolerance=0.1, base_visible_bias=base_rate_bias(digits))

    # The log-likelihoods differ from the exact ones by the same constant, so the mean inherits the bounds.
    exact_mean = log_likelihood(model, digits, exact).mean()
    assert log_likelihood(model, digits, estimate.upper).mean() <= exact_mean
    assert exact_mean <= log_likelihood(model, digits, estimate.lower).mean()
    assert abs(log_likelihood(model, digits, estimate).mean() - exact_mean) < 0.1


def test_fast_enumeration_matches_energy_module(trained):
    model = trained(16)
    W, b, c = model.components_.T, model.intercept_visible_, model.intercept_hidden_
    assert bernoulli_log_partition(W, b, c) == pytest.approx(energy_exact_log_partition(W, b, c), abs=1e-9)


def test_ais_leaves_model_unchanged(trained, digits):
    model = trained(10)
    before = [a.copy() for a in (model.components_, model.intercept_visible_, model.intercept_hidden_)]
    first = ais_log_partition(model, n_betas=200, random_state=5, base_visible_bias=base_rate_bias(digits))
    second = ais_log_partition(model, n_betas=200, random_state=5, base_visible_bias=base_rate_bias(digits))
    assert first == second
    for array, copy in zip((model.components_, model.intercept_visible_, model.intercept_hidden_), before):
        np.testing.assert_array_equal(array, copy)


def test_ais_of_float32_model_matches_exact(digits):
    model = BernoulliRBM(n_components=12, learning_rate=0.1, n_iter=20, random_state=1).fit(digits.astype(np.float32))
    assert model.components_.dtype == np.float32
    check_ais(model, exact_log_partition(model), tolerance=0.1)
