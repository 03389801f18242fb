"""rbm_lit's BernoulliRBM against the installed scikit-learn: same numbers, same conventions, better errors."""
import io
import pickle
import re
import warnings
from contextlib import redirect_stdout

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import BernoulliRBM as SklearnRBM
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from rbm_lit import BernoulliRBM

FITTED = ["components_", "intercept_hidden_", "intercept_visible_", "h_samples_"]


@pytest.fixture(scope="module")
def digits():
    return load_digits().data / 16


def max_difference(ours, theirs, X):
    "Largest absolute difference over the fitted arrays and the transform of `X`."
    pairs = [(getattr(ours, name), getattr(theirs, name)) for name in FITTED]
    pairs.append((ours.transform(X), theirs.transform(X)))
    return max(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)).max() for a, b in pairs)


# scikit-learn's own BernoulliRBM fails these two checks for the same reason: score_samples flips one
# randomly chosen feature per row, so a row's score depends on its position in the batch.
EXPECTED_FAILURES = {
    "check_methods_subset_invariance": "score_samples flips a random feature per row, which depends on row order",
    "check_methods_sample_order_invariance": "score_samples flips a random feature per row, which depends on row order",
}


@parametrize_with_checks([BernoulliRBM()], expected_failed_checks=lambda estimator: EXPECTED_FAILURES)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        # The checks fit on data outside [0, 1] on purpose; the range warning is tested below.
        warnings.filterwarnings("ignore", message="BernoulliRBM treats inputs as probabilities")
        check(estimator)


@pytest.mark.parametrize("random_state", [0, 42, "RandomState"])
@pytest.mark.parametrize("batch_size", [10, 7, 64])
def test_fit_matches_sklearn_dense(digits, random_state, batch_size):
    X = digits[:500]  # 500 rows leave a smaller last batch for batch sizes 7 and 64
    seed = (lambda: np.random.RandomState(3)) if random_state == "RandomState" else (lambda: random_state)
    settings = dict(n_components=32, batch_size=batch_size, n_iter=3)
    ours = BernoulliRBM(random_state=seed(), **settings).fit(X)
    theirs = SklearnRBM(random_state=seed(), **settings).fit(X)
    assert max_difference(ours, theirs, X) == 0


@pytest.mark.parametrize("fmt", ["csr_matrix", "csr_array", "csc_matrix", "coo_matrix", "lil_matrix"])
def test_fit_matches_sklearn_sparse(digits, fmt):
    X = getattr(sp, fmt)(digits[:300])
    ours = BernoulliRBM(n_components=16, batch_size=7, n_iter=2, random_state=1).fit(X)
    theirs = SklearnRBM(n_components=16, batch_size=7, n_iter=2, random_state=1).fit(X)
    assert max_difference(ours, theirs, sp.csr_matrix(X)) == 0
    np.testing.assert_array_equal(ours.score_samples(X), theirs.score_samples(X))


def test_fit_matches_sklearn_float32(digits):
    X = digits[:400].astype(np.float32)
    ours = BernoulliRBM(n_components=16, n_iter=3, random_state=2).fit(X)
    theirs = SklearnRBM(n_components=16, n_iter=3, random_state=2).fit(X)
    for name in FITTED:
        assert getattr(ours, name).dtype == np.float32, name
    assert ours.transform(X).dtype == np.float32
    assert max_difference(ours, theirs, X) == 0


def test_long_float32_run_matches_sklearn(digits):
    # Over many epochs a single flipped sample would separate the chains, so this needs float32
    # arithmetic identical to scikit-learn's, not just close to it.
    X = digits.astype(np.float32)
    ours = BernoulliRBM(n_components=100, n_iter=40, random_state=0).fit(X)
    theirs = SklearnRBM(n_components=100, n_iter=40, random_state=0).fit(X)
    for name in FITTED:
        np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name), err_msg=name)


def test_verbose_matches_sklearn(digits):
    X = digits[:300]

    def run(cls):
        output = io.StringIO()
        with redirect_stdout(output):
            model = cls(n_components=8, n_iter=3, verbose=True, random_state=np.random.RandomState(5)).fit(X)
        return model, output.getvalue()

    (ours, ours_text), (theirs, theirs_text) = run(BernoulliRBM), run(SklearnRBM)
    assert max_difference(ours, theirs, X) == 0
    line = r"\[BernoulliRBM\] Iteration \d, pseudo-likelihood = -?\d+\.\d\d, time = \d+\.\d\ds"
    assert len(ours_text.splitlines()) == 3
    assert all(re.fullmatch(line, text) for text in ours_text.splitlines())
    strip_time = lambda text: re.sub(r"time = \S+", "", text)
    assert strip_time(ours_text) == strip_time(theirs_text)


def test_partial_fit_matches_sklearn_in_small_chunks(digits):
    ours, theirs = BernoulliRBM(n_components=16, random_state=4), SklearnRBM(n_components=16, random_state=4)
    for start in range(0, 100, 10):
        chunk = digits[start:start + 10] if start != 50 else digits[start:start + 6]  # one chunk smaller than a batch
        ours.partial_fit(chunk)
        theirs.partial_fit(chunk)
    assert max_difference(ours, theirs, digits[:100]) == 0
    # gibbs draws from the same generator as partial_fit, so it matches too.
    np.testing.assert_array_equal(ours.gibbs(digits[:30]), theirs.gibbs(digits[:30]))
    assert ours.gibbs(digits[:30]).dtype == theirs.gibbs(digits[:30]).dtype == bool


def test_partial_fit_matches_sklearn_on_large_chunks(digits):
    # One update per call with all rows, as in scikit-learn, including the too weak negative phase.
    ours, theirs = BernoulliRBM(n_components=16, random_state=0), SklearnRBM(n_components=16, random_state=0)
    for call in range(20):
        ours.partial_fit(digits)
        theirs.partial_fit(digits)
    assert max_difference(ours, theirs, digits) == 0
    assert theirs.transform(digits).mean() > 0.95   # the hidden units saturate


def test_partial_fit_mean_over_chains_avoids_saturation(digits):
    model = BernoulliRBM(n_components=16, random_state=0, mean_over_chains=True)
    for call in range(20):
        model.partial_fit(digits)
    assert model.transform(digits).mean() < 0.8


def test_partial_fit_trains_float64_like_sklearn(digits):
    ours, theirs = BernoulliRBM(n_components=8, random_state=0), SklearnRBM(n_components=8, random_state=0)
    for start in (0, 40):
        ours.partial_fit(digits[start:start + 40].astype(np.float32))
        theirs.partial_fit(digits[start:start + 40].astype(np.float32))
    for name in FITTED:
        assert getattr(ours, name).dtype == getattr(theirs, name).dtype == np.float64, name
    assert max_difference(ours, theirs, digits[:40]) == 0


def test_fit_matches_sklearn_over_many_float64_epochs(digits):
    # With two rows per minibatch a single rounding difference flips a sample within about ten epochs.
    ours = BernoulliRBM(n_components=64, batch_size=2, n_iter=12, random_state=0).fit(digits)
    theirs = SklearnRBM(n_components=64, batch_size=2, n_iter=12, random_state=0).fit(digits)
    for name in FITTED:
        np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name), err_msg=name)


@pytest.mark.parametrize("n_components, batch_size", [(16, 1), (1, 10)])
def test_fit_matches_sklearn_with_one_chain_or_unit(digits, n_components, batch_size):
    ours = BernoulliRBM(n_components=n_components, batch_size=batch_size, n_iter=3, random_state=0).fit(digits[:300])
    theirs = SklearnRBM(n_components=n_components, batch_size=batch_size, n_iter=3, random_state=0).fit(digits[:300])
    assert max_difference(ours, theirs, digits[:300]) == 0


@pytest.mark.parametrize("make", [list, np.asarray, sp.csr_array, sp.coo_array, sp.lil_matrix])
def test_accepted_input_types(digits, make):
    X = digits[:50]
    data = make(X.tolist()) if make is list else make(X)
    transformed = BernoulliRBM(n_components=4, n_iter=1, random_state=0).fit(data).transform(data)
    expected = BernoulliRBM(n_components=4, n_iter=1, random_state=0).fit(X).transform(X)
    np.testing.assert_allclose(transformed, expected, rtol=0, atol=1e-12)


def test_integer_input_becomes_float64():
    X = np.random.RandomState(0).randint(0, 2, (30, 6))
    model = BernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(X)
    assert model.components_.dtype == np.float64


def test_pandas_input_and_output(digits):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(digits[:60], columns=[f"pixel{i}" for i in range(64)])
    model = BernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(frame)
    assert list(model.feature_names_in_) == list(frame.columns)
    assert list(model.get_feature_names_out()) == ["bernoullirbm0", "bernoullirbm1", "bernoullirbm2"]
    output = model.set_output(transform="pandas").transform(frame)
    assert list(output.columns) == ["bernoullirbm0", "bernoullirbm1", "bernoullirbm2"]


def test_clone_pickle_joblib(digits, tmp_path):
    model = BernoulliRBM(n_components=4, n_iter=1, random_state=0).fit(digits[:50])
    assert clone(model).get_params() == model.get_params()
    for restored in [pickle.loads(pickle.dumps(model)), joblib.load(joblib.dump(model, tmp_path / "m.joblib")[0])]:
        np.testing.assert_array_equal(restored.transform(digits[:10]), model.transform(digits[:10]))


def test_pipeline_and_grid_search(digits):
    y = load_digits().target
    pipeline = Pipeline([("rbm", BernoulliRBM(n_components=32, n_iter=5, random_state=0)),
                         ("logistic", LogisticRegression(C=100, max_iter=1000))])
    search = GridSearchCV(pipeline, {"rbm__learning_rate": [0.05, 0.1]}, cv=2).fit(digits[:400], y[:400])
    assert search.best_params_["rbm__learning_rate"] in (0.05, 0.1)
    assert search.score(digits[400:600], y[400:600]) > 0.5


@pytest.mark.parametrize("bad, message", [
    (np.array([[0.0, np.nan], [1.0, 0.0]]), "NaN"),
    (np.array([[0.0, np.inf], [1.0, 0.0]]), "infinity"),
    (np.empty((0, 3)), "0 sample"),
    (np.array([0.0, 1.0, 1.0]), "Expected 2D array"),
    (np.array([["a", "b"], ["c", "d"]]), "could not convert"),
])
def test_bad_training_input(bad, message):
    with pytest.raises(ValueError, match=message):
        BernoulliRBM(n_components=2).fit(bad)


def test_wrong_feature_count_at_transform(digits):
    model = BernoulliRBM(n_components=2, n_iter=1).fit(digits[:20])
    with pytest.raises(ValueError, match="64 features"):
        model.transform(digits[:5, :10])


@pytest.mark.parametrize("params", [dict(n_components=0), dict(learning_rate=0.0), dict(batch_size=0),
                                    dict(n_iter=-1), dict(random_state="seed"), dict(sampler="pcd"),
                                    dict(shuffle="yes")])
def test_invalid_parameters(digits, params):
    with pytest.raises(InvalidParameterError, match=next(iter(params))):
        BernoulliRBM(**params).fit(digits[:20])


@pytest.mark.parametrize("method", ["transform", "score_samples", "gibbs", "free_energy"])
def test_not_fitted(digits, method):
    with pytest.raises(NotFittedError):
        getattr(BernoulliRBM(), method)(digits[:2])


def test_range_warning_names_range_and_fix(digits):
    with pytest.warns(UserWarning, match=r"range from 0 to 16.*MinMaxScaler"):
        BernoulliRBM(n_components=2, n_iter=1).fit(load_digits().data[:30])
    with pytest.warns(UserWarning, match=r"range from -1 to"):
        BernoulliRBM(n_components=2, n_iter=1).fit(sp.csr_matrix(digits[:30] * 2 - 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BernoulliRBM(n_components=2, n_iter=1).fit(digits[:30])


def test_large_activations_stay_finite(digits):
    model = BernoulliRBM(n_components=8, n_iter=1, random_state=0).fit(digits[:50])
    model.components_ *= 1e5  # fields of order 1e4 and more
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for values in [model.free_energy(digits[:50]), model.score_samples(digits[:50]), model.transform(digits[:50])]:
            assert np.isfinite(values).all()


def test_caller_arrays_unchanged(digits):
    for X in [digits[:60].copy(), digits[:60].astype(np.float32), sp.csr_matrix(digits[:60])]:
        before = X.copy()
        model = BernoulliRBM(n_components=4, n_iter=2, random_state=0).fit(X)
        model.partial_fit(X)
        model.transform(X), model.score_samples(X), model.gibbs(X), model.free_energy(X)
        after = X.toarray() if sp.issparse(X) else X
        np.testing.assert_array_equal(after, before.toarray() if sp.issparse(before) else before)
