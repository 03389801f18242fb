"""End-to-end tests of the `rbm_lit train` command.

The slow, realistic run goes through the installed `rbm_lit` console script in a subprocess, as a user would
start it. Most other cases call `rbm_lit.cli.main` in-process, which runs the same code without paying about
1.5 s of imports per run. A few bad inputs also go through the subprocess, to check that a real process exits
with one error line and no traceback.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from sklearn.datasets import load_digits

from rbm_lit.cli import main
from rbm_lit.estimator import BernoulliRBM
from rbm_lit.evaluation import ais_log_partition, base_rate_bias, exact_log_partition, log_likelihood
from rbm_lit.io import load_model

REPOSITORY = Path(__file__).resolve().parents[1]
EPOCH_LINE = re.compile(r"^epoch (\d+)/(\d+): mean pseudo-likelihood -?\d+\.\d{4}$")
NUMBER = r"(-?\d+\.\d\d)"
NOT_BINARY = "; rows are not binary, so this is -F(v) - log Z, not a log-probability"
# Groups: mean log-likelihood, held-out rows, enumerated units, layer, log Z, the not-binary remark.
EXACT_LINE = re.compile(rf"^held-out log-likelihood: {NUMBER} nats per sample over (\d+) rows "
                        rf"\(exact log Z, summed over the 2\*\*(\d+) states of the (hidden|visible) layer: {NUMBER}\)"
                        rf"({re.escape(NOT_BINARY)})?$")
# Groups: mean log-likelihood, held-out rows, chains, temperatures, log Z, lower bound, upper bound, -inf remark,
# the not-binary remark.
AIS_LINE = re.compile(rf"^held-out log-likelihood: {NUMBER} nats per sample over (\d+) rows "
                      rf"\(AIS estimate of log Z, (\d+) chains x (\d+) temperatures: {NUMBER} \[(-inf|{NUMBER[1:-1]}), "
                      rf"{NUMBER}\](; the lower bound is -inf[^)]*)?\)({re.escape(NOT_BINARY)})?$")
SKIPPED_LINE = "held-out log-likelihood: skipped, because --holdout 0 holds out no rows"
OUTPUT_FILES = ["filters.png", "holdout.npy", "model.npz", "samples.png", "training.png"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Settings small enough that training is a negligible part of an in-process run.
QUICK = ["--n-components", "4", "--n-iter", "2", "--gibbs-steps", "2", "--random-state", "0"]


def command_and_env(*args):
    """Return the argument list that starts the installed `rbm_lit` command with `args`, and its environment.

    PYTHONPATH puts this checkout first, so the command runs the code under test even when the installed
    package points at another copy.
    """
    command = shutil.which("rbm_lit")
    if command is None:
        pytest.fail("the rbm_lit command is not on PATH; install the package with `pip install -e .`")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))}
    return [command, *map(str, args)], env


def run_command(*args, cwd):
    """Run the installed `rbm_lit` command and return the finished process."""
    argv, env = command_and_env(*args)
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def digits():
    return load_digits().data / 16


def binary_data(n_samples=40, n_features=6, seed=0):
    return np.random.default_rng(seed).integers(0, 2, size=(n_samples, n_features)).astype(np.float64)


def held_out_line(stdout, n_iter):
    """Check that `stdout` has one line per epoch and then one more line, and return that last line."""
    lines = stdout.splitlines()
    assert len(lines) == n_iter + 1, stdout
    for epoch, line in enumerate(lines[:-1], start=1):
        match = EPOCH_LINE.match(line)
        assert match, line
        assert (int(match[1]), int(match[2])) == (epoch, n_iter)
    return lines[-1]


def training_rows(data, out):
    """Return the rows of `data` that the run writing `out` trained on: all rows not listed in holdout.npy."""
    return np.delete(data, np.load(out / "holdout.npy"), axis=0)


def assert_outputs(out):
    assert sorted(p.name for p in out.iterdir()) == OUTPUT_FILES
    for name in ["filters.png", "samples.png", "training.png"]:
        assert (out / name).read_bytes()[:8] == PNG_SIGNATURE
        image = imread(out / name)
        assert image.ndim == 3
        assert image.shape[0] > 100
        assert image.shape[1] > 100


# A realistic run: the installed command with the default settings on the digits.

def test_digits_default_run(tmp_path):
    result = run_command("train", "--random-state", "0", "--out", "results", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "Warning" not in result.stderr
    assert "training" in result.stderr
    assert "estimating log Z by AIS with 100 chains x 3000 temperatures" in result.stderr
    assert "training.png" in result.stderr.splitlines()[-1]
    out = tmp_path / "results"
    assert_outputs(out)

    # 10% of 1797 rows, rounded up, drawn as the help text describes.
    held_out = np.load(out / "holdout.npy")
    np.testing.assert_array_equal(held_out, np.sort(np.random.default_rng(0).permutation(1797)[:180]))

    report = held_out_line(result.stdout, 10)
    match = AIS_LINE.match(report)
    assert match, report
    assert match[2] == "180"
    assert (match[3], match[4]) == ("100", "3000")
    assert float(match[6]) <= float(match[5]) <= float(match[7])
    assert report.endswith(NOT_BINARY)

    loaded = load_model(out / "model.npz")
    assert loaded.n_components == 256
    reference = BernoulliRBM(random_state=0).fit(training_rows(digits(), out))
    np.testing.assert_array_equal(loaded.transform(digits()), reference.transform(digits()))
    # The printed mean follows from the printed log Z, which is rounded to 0.005.
    mean = log_likelihood(loaded, digits()[held_out], float(match[5])).mean()
    assert abs(mean - float(match[1])) <= 0.011


def test_stdout_closed_early(tmp_path):
    """As in `rbm_lit train | head -1`: the reader leaves after one line, and the command still finishes."""
    argv, env = command_and_env("train", "--n-components", "8", "--n-iter", "30", "--gibbs-steps", "2", "--out", "out")
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env)
    first_line = process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read()
    process.wait(timeout=600)

    assert EPOCH_LINE.match(first_line.rstrip("\n")), first_line
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert_outputs(tmp_path / "out")


def test_default_output_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", *QUICK]) == 0
    assert_outputs(tmp_path / "rbm_lit_output")
    assert EXACT_LINE.match(held_out_line(capsys.readouterr().out, 2))


# Data files, in-process.

def test_npy_file(tmp_path, capsys):
    data = binary_data()
    np.save(tmp_path / "data.npy", data)

    assert main(["train", str(tmp_path / "data.npy"), *QUICK, "--out", str(tmp_path / "out")]) == 0

    held_out_line(capsys.readouterr().out, 2)
    assert_outputs(tmp_path / "out")
    loaded = load_model(tmp_path / "out" / "model.npz")
    reference = BernoulliRBM(n_components=4, n_iter=2, random_state=0).fit(training_rows(data, tmp_path / "out"))
    np.testing.assert_array_equal(loaded.transform(data), reference.transform(data))


def test_npy_float32_stays_float32(tmp_path):
    np.save(tmp_path / "data.npy", binary_data().astype(np.float32))
    assert main(["train", str(tmp_path / "data.npy"), *QUICK, "--out", str(tmp_path / "out")]) == 0
    assert load_model(tmp_path / "out" / "model.npz").components_.dtype == np.float32


@pytest.mark.parametrize("header", ["", "a,b,c,d,e,f\n", '"pixel 0",p1,p2,p3,p4,p5\n'])
def test_csv_file(tmp_path, capsys, header):
    data = binary_data()
    lines = [",".join(f"{value:g}" for value in row) for row in data]
    (tmp_path / "data.csv").write_text(header + "\n".join(lines) + "\n")

    assert main(["train", str(tmp_path / "data.csv"), *QUICK, "--out", str(tmp_path / "out")]) == 0

    held_out_line(capsys.readouterr().out, 2)
    loaded = load_model(tmp_path / "out" / "model.npz")
    assert loaded.n_features_in_ == 6
    reference = BernoulliRBM(n_components=4, n_iter=2, random_state=0).fit(training_rows(data, tmp_path / "out"))
    np.testing.assert_array_equal(loaded.transform(data), reference.transform(data))


def test_csv_numeric_first_line_is_data(tmp_path):
    (tmp_path / "data.csv").write_text("0,1\n1,0\n1,1\n")
    assert main(["train", str(tmp_path / "data.csv"), *QUICK, "--out", str(tmp_path / "out")]) == 0
    assert load_model(tmp_path / "out" / "model.npz").n_features_in_ == 2


def test_scale_option(tmp_path, capsys):
    data = binary_data() * 255 - 10
    np.save(tmp_path / "data.npy", data)
    original = data.copy()

    assert main(["train", str(tmp_path / "data.npy"), *QUICK, "--scale", "--out", str(tmp_path / "out")]) == 0

    held_out_line(capsys.readouterr().out, 2)
    loaded = load_model(tmp_path / "out" / "model.npz")
    scaled = (data + 10) / 255
    reference = BernoulliRBM(n_components=4, n_iter=2, random_state=0).fit(training_rows(scaled, tmp_path / "out"))
    np.testing.assert_allclose(loaded.components_, reference.components_, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(np.load(tmp_path / "data.npy"), original)


def test_existing_output_folder_is_reused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "model.npz").write_bytes(b"old")
    (out / "notes.txt").write_text("keep me")

    assert main(["train", *QUICK, "--out", str(out)]) == 0

    assert load_model(out / "model.npz").n_components == 4
    assert (out / "notes.txt").read_text() == "keep me"
    assert [p.name for p in out.glob(".*.tmp")] == []


def test_same_seed_same_model(tmp_path):
    for name in ["first", "second"]:
        assert main(["train", *QUICK, "--out", str(tmp_path / name)]) == 0
    assert (tmp_path / "first" / "model.npz").read_bytes() == (tmp_path / "second" / "model.npz").read_bytes()


def test_help_lists_options(capsys):
    assert main(["train", "--help"]) == 0
    help_text = capsys.readouterr().out
    for option in ["--n-components", "--learning-rate", "--batch-size", "--n-iter", "--random-state", "--out", "--scale",
                   "--gibbs-steps", "--holdout FRACTION", "--ais-chains N", "--ais-betas N", "header"]:
        assert option in help_text
    for name in OUTPUT_FILES:
        assert name in help_text


# The hold-out and the held-out log-likelihood, in-process.

@pytest.mark.parametrize("n_features, n_components, layer, n_units", [(10, 8, "hidden", 8), (6, 8, "visible", 6)])
def test_exact_log_likelihood(tmp_path, capsys, n_features, n_components, layer, n_units):
    data = binary_data(n_samples=200, n_features=n_features, seed=1)
    np.save(tmp_path / "data.npy", data)
    out = tmp_path / "out"

    assert main(["train", str(tmp_path / "data.npy"), "--n-components", str(n_components), "--n-iter", "5",
                 "--holdout", "0.25", "--gibbs-steps", "2", "--random-state", "1", "--out", str(out)]) == 0

    report = held_out_line(capsys.readouterr().out, 5)
    match = EXACT_LINE.match(report)
    assert match, report
    assert (match[2], match[3], match[4]) == ("50", str(n_units), layer)
    assert match[6] is None

    held_out = np.load(out / "holdout.npy")
    np.testing.assert_array_equal(held_out, np.sort(np.random.default_rng(1).permutation(200)[:50]))
    loaded = load_model(out / "model.npz")
    log_z = exact_log_partition(loaded)
    assert abs(log_z - float(match[5])) <= 0.005 + 1e-9
    mean = log_likelihood(loaded, data[held_out], log_z).mean()
    assert abs(mean - float(match[1])) <= 0.005 + 1e-9


def test_ais_log_likelihood(tmp_path, capsys):
    """Both layers above 25 units: the command estimates log Z by AIS from the training rows' base rates."""
    data = binary_data(n_samples=60, n_features=30, seed=2)
    np.save(tmp_path / "data.npy", data)
    out = tmp_path / "out"

    assert main(["train", str(tmp_path / "data.npy"), "--n-components", "30", "--n-iter", "2", "--ais-chains", "10",
                 "--ais-betas", "50", "--gibbs-steps", "2", "--random-state", "0", "--out", str(out)]) == 0

    captured = capsys.readouterr()
    assert "Warning" not in captured.err
    report = held_out_line(captured.out, 2)
    match = AIS_LINE.match(report)
    assert match, report
    assert (match[2], match[3], match[4]) == ("6", "10", "50")
    assert match[9] is None

    loaded = load_model(out / "model.npz")
    log_z, lower, upper = ais_log_partition(loaded, n_chains=10, n_betas=50, random_state=0,
                                            base_visible_bias=base_rate_bias(training_rows(data, out)))
    assert abs(log_z - float(match[5])) <= 0.005 + 1e-9
    assert match[7] == f"{upper:.2f}"
    held_out = data[np.load(out / "holdout.npy")]
    assert abs(log_likelihood(loaded, held_out, log_z).mean() - float(match[1])) <= 0.005 + 1e-9


def test_holdout_zero_trains_on_all_rows(tmp_path, capsys):
    data = binary_data()
    np.save(tmp_path / "data.npy", data)
    out = tmp_path / "out"

    assert main(["train", str(tmp_path / "data.npy"), *QUICK, "--holdout", "0", "--out", str(out)]) == 0

    assert held_out_line(capsys.readouterr().out, 2) == SKIPPED_LINE
    assert_outputs(out)
    held_out = np.load(out / "holdout.npy")
    assert held_out.shape == (0,)
    assert held_out.dtype.kind == "i"
    reference = BernoulliRBM(n_components=4, n_iter=2, random_state=0).fit(data)
    np.testing.assert_array_equal(load_model(out / "model.npz").components_, reference.components_)


def test_holdout_rounds_up(tmp_path, capsys):
    """0.7 x 10 is 7.000000000000001 in floating point, and must still hold out 7 rows, not 8."""
    np.save(tmp_path / "data.npy", binary_data(n_samples=10))
    assert main(["train", str(tmp_path / "data.npy"), *QUICK, "--holdout", "0.7", "--out", str(tmp_path / "a")]) == 0
    assert len(np.load(tmp_path / "a" / "holdout.npy")) == 7
    assert main(["train", str(tmp_path / "data.npy"), *QUICK, "--holdout", "0.05", "--out", str(tmp_path / "b")]) == 0
    assert len(np.load(tmp_path / "b" / "holdout.npy")) == 1


# case: (rows in the data, --holdout arguments, text expected in the error line)
HOLDOUT_TOO_LARGE_OR_SMALL = {
    "one row, default fraction": (1, [], "--holdout 0.1 of 1 rows holds out 1, leaving no row to train on"),
    "every row": (10, ["--holdout", "0.95"], "--holdout 0.95 of 10 rows holds out 10, leaving no row to train on"),
    "no row": (10, ["--holdout", "1e-9"], "--holdout 1e-09 of 10 rows holds out no row"),
}


@pytest.mark.parametrize("case", HOLDOUT_TOO_LARGE_OR_SMALL)
def test_holdout_leaves_empty_part(tmp_path, capsys, case):
    n_samples, holdout_args, expected = HOLDOUT_TOO_LARGE_OR_SMALL[case]
    np.save(tmp_path / "data.npy", binary_data(n_samples=n_samples))
    out = tmp_path / "out"

    code = main(["train", str(tmp_path / "data.npy"), *QUICK, *holdout_args, "--out", str(out)])

    captured = capsys.readouterr()
    assert code == 1
    assert_one_error_line(captured.err, expected)
    assert captured.out == ""
    assert not out.exists()


# Bad input: one line on stderr, a non-zero exit code and no output folder.

# case: (file name inside the test folder, text expected in the error line)
BAD_INPUTS = {
    "missing file": ("absent.npy", "absent.npy not found"),
    "unsupported extension": ("data.txt", "unsupported extension '.txt'"),
    "folder as data": (".", "is not a file"),
    "non-numeric csv": ("text.csv", "line 3, column 2: 'one' is not a number"),
    "non-numeric npy": ("strings.npy", "non-numeric data"),
    "object npy": ("objects.npy", "cannot read"),
    "nan": ("nan.npy", "contains nan in sample 2, feature 1"),
    "inf": ("inf.csv", "contains inf in sample 2, feature 2"),
    "empty npy file": ("zero_bytes.npy", "cannot read"),
    "empty csv file": ("zero_bytes.csv", "contains no samples"),
    "header only": ("header_only.csv", "contains no samples"),
    "no rows": ("no_rows.npy", "contains no samples"),
    "1-D array": ("one_d.npy", "shape (64,)"),
    "3-D array": ("three_d.npy", "shape (2, 8, 8)"),
    "ragged csv": ("ragged.csv", "line 2 has 2 values"),
    "values above 1": ("out_of_range.npy", "values from 0 to 255"),
    "values below 0": ("negative.csv", "values from -1 to 1"),
    "not UTF-8": ("latin1.csv", "is not UTF-8 text"),
}


def bad_input(folder, case):
    """Write the files of every bad-input case into `folder` and return the path and expected text of `case`."""
    np.save(folder / "nan.npy", np.array([[0.0, 1.0], [np.nan, 0.5]]))
    np.save(folder / "one_d.npy", np.ones(64))
    np.save(folder / "three_d.npy", np.ones((2, 8, 8)))
    np.save(folder / "no_rows.npy", np.ones((0, 8)))
    np.save(folder / "strings.npy", np.array([["0", "1"]]))
    np.save(folder / "objects.npy", np.array([[0, None]], dtype=object), allow_pickle=True)
    np.save(folder / "out_of_range.npy", np.array([[0.0, 255.0], [3.0, 1.0]]))
    (folder / "zero_bytes.npy").write_bytes(b"")
    (folder / "zero_bytes.csv").write_bytes(b"")
    (folder / "header_only.csv").write_text("a,b,c\n")
    (folder / "text.csv").write_text("a,b\n0,1\n1,one\n")
    (folder / "inf.csv").write_text("0,1\n1,inf\n")
    (folder / "ragged.csv").write_text("0,1,1\n1,0\n")
    (folder / "negative.csv").write_text("0,-1\n1,0\n")
    (folder / "data.txt").write_text("0,1\n")
    (folder / "latin1.csv").write_bytes("caf\xe9,b\n1,0\n".encode("latin-1"))
    name, expected = BAD_INPUTS[case]
    return folder / name, expected


def assert_one_error_line(stderr, expected):
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("rbm_lit: error: "), stderr
    assert expected in lines[0], stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_in_process(tmp_path, capsys, case):
    path, expected = bad_input(tmp_path, case)
    out = tmp_path / "out"

    code = main(["train", str(path), *QUICK, "--out", str(out)])

    captured = capsys.readouterr()
    assert code == 1
    assert_one_error_line(captured.err, expected)
    assert captured.out == ""
    assert not out.exists()


@pytest.mark.parametrize("case", ["missing file", "non-numeric csv", "nan", "3-D array"])
def test_bad_input_command(tmp_path, case):
    path, expected = bad_input(tmp_path, case)

    result = run_command("train", path, "--out", "out", cwd=tmp_path)

    assert result.returncode == 1
    assert_one_error_line(result.stderr, expected)
    assert result.stdout == ""
    assert not (tmp_path / "out").exists()


def test_values_out_of_range_suggest_scale(tmp_path, capsys):
    path, _ = bad_input(tmp_path, "values above 1")
    assert main(["train", str(path), "--out", str(tmp_path / "out")]) == 1
    assert "Pass --scale" in capsys.readouterr().err


@pytest.mark.parametrize("argv, expected", [
    (["train", "--n-iter", "0"], "argument --n-iter: expected an integer >= 1, got '0'"),
    (["train", "--n-components", "many"], "argument --n-components: expected an integer >= 1, got 'many'"),
    (["train", "--learning-rate", "-0.1"], "argument --learning-rate: expected a number > 0"),
    (["train", "--learning-rate", "nan"], "argument --learning-rate: expected a number > 0"),
    (["train", "--random-state", "-3"], "argument --random-state: expected an integer from 0 to 4294967295"),
    (["train", "--holdout", "-0.1"], "argument --holdout: expected a fraction from 0 up to but not including 1, got '-0.1'"),
    (["train", "--holdout", "1"], "argument --holdout: expected a fraction from 0 up to but not including 1, got '1'"),
    (["train", "--holdout", "1.5"], "argument --holdout: expected a fraction from 0 up to but not including 1"),
    (["train", "--holdout", "nan"], "argument --holdout: expected a fraction from 0 up to but not including 1"),
    (["train", "--holdout", "10%"], "argument --holdout: expected a fraction from 0 up to but not including 1"),
    (["train", "--ais-chains", "1"], "argument --ais-chains: expected an integer >= 2, got '1'"),
    (["train", "--ais-betas", "1"], "argument --ais-betas: expected an integer >= 2, got '1'"),
    (["train", "--unknown"], "unrecognized arguments: --unknown"),
    (["train", "a.npy", "b.npy"], "unrecognized arguments: b.npy"),
    (["fit"], "invalid choice: 'fit'"),
    ([], "the following arguments are required: COMMAND"),
])
def test_usage_errors(tmp_path, monkeypatch, capsys, argv, expected):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert_one_error_line(captured.err, expected)
    assert not (tmp_path / "rbm_lit_output").exists()


def test_usage_error_command(tmp_path):
    result = run_command("train", "--batch-size", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert_one_error_line(result.stderr, "argument --batch-size: expected an integer >= 1, got '0'")
    assert not (tmp_path / "rbm_lit_output").exists()


def test_output_path_is_a_file(tmp_path, capsys):
    (tmp_path / "taken").write_text("")
    assert main(["train", *QUICK, "--out", str(tmp_path / "taken")]) == 1
    assert_one_error_line(capsys.readouterr().err, "exists and is not a folder")
    assert main(["train", *QUICK, "--out", str(tmp_path / "taken" / "inside")]) == 1
    assert_one_error_line(capsys.readouterr().err, "is a file")


def test_version_flag(capsys):
    import rbm_lit
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"rbm_lit {rbm_lit.__version__}"


def test_scale_fits_training_rows_only():
    from rbm_lit.cli import prepare
    data = np.array([[0.0, 10.0], [2.0, 20.0], [4.0, 40.0]])
    scaled = prepare(data, "test data", scale=True, fit_rows=np.array([0, 1]))
    np.testing.assert_allclose(scaled[:2], [[0.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(scaled[2], [1.0, 1.0])  # beyond the training range, so clipped
    np.testing.assert_array_equal(data[2], [4.0, 40.0])  # the caller's array is unchanged
