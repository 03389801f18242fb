"""The compiled update: used where numba is installed, and bit for bit equal to numpy's path and scikit-learn."""
import functools

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.neural_network import BernoulliRBM as SklearnRBM

import rbm_lit.estimator
from rbm_lit import BernoulliRBM
from rbm_lit.energy import BernoulliUnits
from rbm_lit.learning import BufferedPCDUpdate, PCD, RBMParams, make_update, update_step

compiled = pytest.importorskip("rbm_lit.compiled", reason="numba is not installed")


@pytest.fixture
def update_types(monkeypatch):
    "Record the type of every update function the estimator asks make_update for."
    seen = []

    def recording_make_update(*args, **kwargs):
        update = make_update(*args, **kwargs)
        seen.append(type(update).__name__)
        return update

    monkeypatch.setattr(rbm_lit.estimator, "make_update", recording_make_update)
    return seen


def digits32():
    return (load_digits().data / 16).astype(np.float32)


def fit_params(model):
    return model.components_, model.intercept_visible_, model.intercept_hidden_, model.h_samples_


def train_kernel_and_reference(n_visible, n_hidden, n_chains, sizes, dtype, seed, mean_over_chains=False):
    "Train from one random start by the kernel and by update_step; return both results as (W, b, c, chains)."
    rng = np.random.default_rng(seed)
    data = (rng.random((max(sizes), n_visible)) < 0.3).astype(dtype)
    start = rng.normal(0, 0.1, (n_visible, n_hidden)).astype(dtype)
    results = []
    for use_kernel in (True, False):
        p = RBMParams(start.copy(), np.zeros(n_visible, dtype), np.zeros(n_hidden, dtype))
        chains, seeded = np.zeros((n_chains, n_hidden), dtype), np.random.RandomState(seed)
        if use_kernel:
            update = compiled.CompiledPCDUpdate(p, 0.05, mean_over_chains)
        else:
            update = functools.partial(update_step, p, sampler=PCD(k=1), learning_rate=0.05,
                                       mean_over_chains=mean_over_chains)
        for n_rows in sizes:
            chains = update(v_data=data[:n_rows], chains=chains, rng=seeded)
        results.append((p.W, p.b, p.c, chains))
    return results


def assert_same_results(kernel, reference, case):
    for name, a, b in zip(("W", "b", "c", "chains"), kernel, reference):
        assert np.array_equal(a, b), f"{name} differs for {case}"


def test_kernel_is_on_with_numba():
    # The dev install has numba and numpy's wheel, so the kernel must be in use. Off here means a lost speed-up.
    assert compiled.status().startswith("on"), compiled.status()


def test_float32_fit_uses_kernel(update_types):
    BernoulliRBM(n_components=16, n_iter=1, random_state=0).fit(digits32())
    assert update_types == ["CompiledPCDUpdate"]


def test_float64_fit_uses_kernel(update_types):
    BernoulliRBM(n_components=16, n_iter=1, random_state=0).fit(digits32().astype(np.float64))
    assert update_types == ["CompiledPCDUpdate"]


def test_mean_over_chains_uses_kernel(update_types):
    BernoulliRBM(n_components=16, n_iter=1, random_state=0, mean_over_chains=True).fit(digits32())
    assert update_types == ["CompiledPCDUpdate"]


def test_environment_variable_turns_kernel_off(update_types, monkeypatch):
    monkeypatch.setenv("RBM_LIT_COMPILED", "0")
    BernoulliRBM(n_components=16, n_iter=1, random_state=0).fit(digits32())
    assert update_types == ["BufferedPCDUpdate"]
    assert compiled.status() == "off: RBM_LIT_COMPILED=0 is set"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_size, n_components, shuffle", [(10, 64, False), (7, 33, True), (256, 100, False), (2, 2, False)])
def test_kernel_fit_equals_numpy_path_and_sklearn(batch_size, n_components, shuffle, dtype, monkeypatch):
    X = digits32().astype(dtype)
    settings = dict(n_components=n_components, batch_size=batch_size, n_iter=3, learning_rate=0.05, random_state=4)
    with_kernel = BernoulliRBM(shuffle=shuffle, **settings).fit(X)
    monkeypatch.setenv("RBM_LIT_COMPILED", "0")
    without_kernel = BernoulliRBM(shuffle=shuffle, **settings).fit(X)
    for a, b in zip(fit_params(with_kernel), fit_params(without_kernel)):
        np.testing.assert_array_equal(a, b)
    assert without_kernel.components_.dtype == dtype
    if not shuffle:
        reference = SklearnRBM(**settings).fit(X)
        for a, b in zip(fit_params(with_kernel), fit_params(reference)):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("n_visible, n_hidden, n_chains, sizes", [
    (784, 500, 100, (100, 100)),
    (3, 2, 2, (2, 2, 1)),
    (100, 7, 50, (50, 13, 50)),
    (20, 300, 5, (5, 5, 5, 2)),
])
def test_kernel_updates_equal_update_step(n_visible, n_hidden, n_chains, sizes):
    kernel, reference = train_kernel_and_reference(n_visible, n_hidden, n_chains, sizes, np.float32, seed=n_visible)
    assert_same_results(kernel, reference, f"{n_visible} x {n_hidden}")


def test_kernel_leaves_random_state_as_numpy_path():
    # The kernel draws all uniforms of an update in one call, so check that the stream ends where numpy's path ends.
    params = [RBMParams(np.zeros((6, 4), np.float32), np.zeros(6, np.float32), np.zeros(4, np.float32)) for _ in range(2)]
    states = []
    for p, update_class in zip(params, (compiled.CompiledPCDUpdate, BufferedPCDUpdate)):
        rng = np.random.RandomState(0)
        update_class(p, 0.1)(np.ones((5, 6), np.float32), np.zeros((5, 4), np.float32), rng)
        states.append(rng.random_sample(3))
    np.testing.assert_array_equal(*states)


def test_make_update_skips_kernel_for_other_units():
    class SubclassedUnits(BernoulliUnits):
        pass
    p = RBMParams(np.zeros((6, 4), np.float32), np.zeros(6, np.float32), np.zeros(4, np.float32), hidden=SubclassedUnits())
    assert type(make_update(p, PCD(k=1), 0.1)) is BufferedPCDUpdate


def test_vectorized_exp_equals_scipy_on_all_floats():
    # Every float32 bit pattern, including zeros, subnormals, infinities and NaNs, in chunks of 2**24 (about 30 s).
    if not compiled._checked_speedups()["vectorized_exp"]:
        pytest.skip(f"the vectorized expf is off here: {compiled.status()}")
    from scipy.special import expit
    offsets = np.arange(2**24, dtype=np.uint32)
    zero_bias = np.zeros(2**24, np.float32)
    mismatches, examples = 0, []
    for chunk in range(2**8):
        x = (offsets + np.uint32(chunk << 24)).view(np.float32)
        field = x[None, :].copy()
        compiled._logistic_of_input(field, zero_bias, True)
        differ = field[0].view(np.uint32) != expit(x).view(np.uint32)
        mismatches += int(np.count_nonzero(differ))
        if np.any(differ) and not examples: examples = x[differ][:5].tolist()
    assert mismatches == 0, f"{mismatches} inputs differ from scipy's expit, for example {examples}"


def test_kernel_equals_reference_on_random_shapes():
    # Layer sizes up to a few hundred units and batches up to 600 rows, where BLAS switches kernels and blocks its sums.
    rng = np.random.default_rng(11)
    for trial in range(12):
        n_visible, n_hidden, n_chains = (int(n) for n in rng.integers(2, [900, 700, 600]))
        sizes = (n_chains, int(rng.integers(2, n_chains + 1)))
        for dtype in (np.float32, np.float64):
            kernel, reference = train_kernel_and_reference(
                n_visible, n_hidden, n_chains, sizes, dtype, seed=trial, mean_over_chains=bool(trial % 2))
            assert_same_results(kernel, reference, f"{n_visible} x {n_hidden}, {n_chains} chains, {dtype.__name__}")


def test_vectorized_exp_equals_scipy_on_float64_sample():
    # A float64 sample: uniform over [-800, 800], over the bit patterns, and consecutive doubles around glibc's bounds.
    if not compiled._checked_speedups()["vectorized_exp"][np.dtype(np.float64)]:
        pytest.skip(f"the vectorized exp is off here: {compiled.status()}")
    from scipy.special import expit
    rng = np.random.default_rng(5)
    bounds = np.array([2.0**-54, 36.7368005696771, 512.0, 708.396418532264, 709.782712893384, 745.1332191019411, 1024.0])
    neighbors = [np.nextafter(bound, np.inf) if step > 0 else np.nextafter(bound, -np.inf) for bound in bounds for step in (1, -1)]
    around_bounds = np.concatenate([bound + np.arange(-2000, 2000) * np.spacing(bound) for bound in bounds])
    samples = [rng.uniform(-800, 800, 4_000_000), rng.integers(0, 2**64, 4_000_000, dtype=np.uint64).view(np.float64),
               np.array(neighbors), around_bounds, -around_bounds]
    for x in samples:
        field = x[None, :].copy()
        compiled._logistic_of_input(field, np.zeros(x.size), True)
        differ = field[0].view(np.uint64) != expit(x).view(np.uint64)
        assert not differ.any(), f"{int(differ.sum())} inputs differ from scipy's expit, for example {x[differ][:5].tolist()}"


@pytest.mark.parametrize("swapped, stacked", [(False, False), (True, False), (False, True)])
def test_kernel_layouts_equal_update_step(swapped, stacked, monkeypatch):
    # Force each way of forming the products, whatever the per-shape checks chose on this machine.
    n_visible, n_hidden, n_chains, sizes, dtype = 40, 24, 8, (8, 5), np.dtype(np.float32)
    for n_rows in sizes:
        monkeypatch.setitem(compiled._layout_decisions, (dtype, n_rows, n_chains, n_visible, n_hidden), (swapped, stacked))
    kernel, reference = train_kernel_and_reference(n_visible, n_hidden, n_chains, sizes, dtype, seed=3)
    assert_same_results(kernel, reference, f"swapped={swapped}, stacked={stacked}")
