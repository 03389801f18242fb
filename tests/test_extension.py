"""Extending rbm_lit from outside the library: a unit type and an RBM defined in user code."""
import io
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
from sklearn.datasets import load_digits

from rbm_lit import RBM, BernoulliRBM
from rbm_lit.energy import BERNOULLI, Units, energy, exact_log_partition, free_energy
from rbm_lit.io import save_model


class SpinUnits(Units):
    "Units with states -1 and +1 and energy -x @ bias, written as a user would write them."
    discrete = True
    n_states = 2

    def energy(self, x, bias):
        return -(x @ bias)

    def log_partition(self, field, bias):
        return np.logaddexp(field + bias, -(field + bias)).sum(axis=1)

    def mean(self, total_input, out=None):
        return np.tanh(total_input, out=out)

    def sample(self, total_input, rng, mean=None, out=None):
        p_up = (1 + (self.mean(total_input) if mean is None else mean)) / 2
        states = np.less(rng.random_sample(p_up.shape), p_up, out=np.empty_like(p_up) if out is None else out)
        return np.subtract(np.multiply(states, 2, out=states), 1, out=states)

    def states(self, n_units, start=0, stop=None):
        return 2 * BERNOULLI.states(n_units, start, stop) - 1


class SpinRBM(RBM):
    visible_units = SpinUnits()
    hidden_units = SpinUnits()


@pytest.fixture(scope="module")
def spin_digits():
    return np.where(load_digits().data > 8, 1.0, -1.0)


def test_spin_free_energy_matches_enumeration():
    rng = np.random.default_rng(0)
    W, b, c = rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=3)
    spins = SpinUnits()
    V, H = spins.states(4), spins.states(3)
    energies = np.array([[energy(v[None], h[None], W, b, c, spins, spins)[0] for h in H] for v in V])
    np.testing.assert_allclose(free_energy(V, W, b, c, spins, spins), -np.log(np.exp(-energies).sum(axis=1)),
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(exact_log_partition(W, b, c, spins, spins), np.log(np.exp(-energies).sum()),
                               rtol=0, atol=1e-12)


def test_spin_rbm_trains_and_samples(spin_digits):
    model = SpinRBM(n_components=12, learning_rate=0.001, n_iter=3, random_state=0).fit(spin_digits)
    p, spins = model.params_, SpinUnits()
    log_likelihood = (-free_energy(spin_digits, p.W, p.b, p.c, spins, spins)
                      - exact_log_partition(p.W, p.b, p.c, spins, spins)).mean()
    uniform = 64 * np.log(0.5)
    assert log_likelihood > uniform + 10
    assert set(np.unique(model.gibbs(spin_digits[:20]))) == {-1.0, 1.0}
    assert np.all(np.abs(model.transform(spin_digits[:20])) <= 1)


def test_custom_rbm_verbose_prints_epochs(spin_digits):
    output = io.StringIO()
    with redirect_stdout(output):
        SpinRBM(n_components=4, n_iter=2, verbose=1, random_state=0).fit(spin_digits[:100])
    lines = output.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[SpinRBM] Iteration 1, time = ")


def test_save_model_rejects_custom_rbm(spin_digits, tmp_path):
    model = SpinRBM(n_components=4, n_iter=1, random_state=0).fit(spin_digits[:50])
    with pytest.raises(TypeError, match="only BernoulliRBM models.*SpinRBM.*joblib"):
        save_model(model, tmp_path / "spin.npz")
    assert not (tmp_path / "spin.npz").exists()


def test_range_warning_points_at_caller():
    X = load_digits().data[:30]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        BernoulliRBM(n_components=2, n_iter=1).fit(X)
    assert len(caught) == 1
    assert caught[0].filename == __file__
