"""Compare the training speed of rbm_lit's BernoulliRBM with scikit-learn's, on one BLAS thread.

Run from the repository root:

    python bench/benchmark.py                        # full run, prints the tables
    python bench/benchmark.py --quick                # short run with fewer repeats and less data
    python bench/benchmark.py --out docs/benchmark.md
    python bench/benchmark.py --memory               # also measure peak memory on a 200,000 x 784 memmap
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/benchmark.py   # let OpenBLAS pick its kernel

Before timing a case, the script fits both estimators with the same data and seed and compares
their parameters, because a speed-up that changes the result is not one. Each reported time is the
minimum over `--repeat` runs of the process's CPU time (`--clock wall` for wall time), with the two
libraries alternating so that both see the same load.
The "floor" is the time of the five matrix products of one update, done with `np.dot` on
preallocated arrays of the same shapes and dtype, and nothing else.
"""

import argparse
import contextlib
import datetime
import gc
import inspect
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy
import sklearn
import threadpoolctl
from sklearn.datasets import load_digits
from sklearn.neural_network import BernoulliRBM as SklearnRBM
from threadpoolctl import threadpool_limits

import rbm_lit
from rbm_lit import BernoulliRBM as RbmLitRBM
from rbm_lit.energy import exact_log_partition
from rbm_lit.learning import RBMParams, compiled_update_status

# Variables that pin OpenBLAS to an older kernel on processors where some OpenBLAS builds misbehave.
OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


SEED = 0
MEMMAP_SHAPE = (200_000, 784)

# CPU time of this process is the default clock. With BLAS on one thread it is close to the wall time on an idle
# machine, and it grows much less than wall time while other jobs hold the cores.
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


@dataclass
class Case:
    "One training configuration timed for both libraries."
    name: str
    data: str            # "digits" (load_digits, pixels / 16) or "synthetic" (Bernoulli(0.2) pixels)
    n_components: int
    batch_size: int
    dtype: type
    n_iter: int          # epochs per timed fit in a full run
    quick_n_iter: int    # epochs per timed fit with --quick
    quick_rows: int = 0  # rows of the data used with --quick; 0 keeps them all


# With these n_iter one scikit-learn fit took 0.5-1.2 s on one thread of a Xeon with AVX-512 (2026).
# NOTE: --quick fits fewer epochs, so a float32 divergence that starts late in training shows only in a full run.
CASES = [
    Case("digits 64x256, batch 10, float64", "digits", 256, 10, np.float64, n_iter=30, quick_n_iter=4),
    Case("digits 64x100, batch 10, float32", "digits", 100, 10, np.float32, n_iter=40, quick_n_iter=8),
    Case("synthetic 784x500, batch 100, float64", "synthetic", 500, 100, np.float64, n_iter=1, quick_n_iter=1,
         quick_rows=2_000),
    Case("synthetic 784x500, batch 100, float32", "synthetic", 500, 100, np.float32, n_iter=2, quick_n_iter=1,
         quick_rows=2_000),
]

LIBRARIES = {"scikit-learn": SklearnRBM, "rbm_lit": RbmLitRBM}


# ---------------------------------------------------------------- environment

def cpu_model():
    "Return the CPU model name from /proc/cpuinfo, or platform.processor() where that file is missing."
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def blas_description(info):
    "Format threadpoolctl's entries for the BLAS libraries: API, version, folder, kernel architecture, threads."
    entries = [f"{blas.get('internal_api')} {blas.get('version')} ({Path(blas.get('filepath', '')).parent.name}), "
               f"architecture {blas.get('architecture')}, num_threads={blas.get('num_threads')}"
               for blas in info if blas.get("user_api") == "blas"]
    return "; ".join(entries) or "no BLAS found by threadpoolctl"


def rbm_lit_revision():
    "Return the git commit of the rbm_lit checkout, marked 'with uncommitted changes' when rbm_lit/ differs from it."
    folder = Path(rbm_lit.__file__).parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=folder, capture_output=True,
                                text=True, check=True).stdout.strip()
        changes = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=folder, capture_output=True,
                                 text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"{commit} with uncommitted changes in rbm_lit/" if changes else commit


def environment_rows():
    "Return (item, value) pairs describing the machine, the libraries and the OpenBLAS variables."
    openblas = ", ".join(f"{name}={os.environ[name]}" if name in os.environ else f"{name} unset"
                         for name in OPENBLAS_VARIABLES)
    with threadpool_limits(1):
        limited = threadpoolctl.threadpool_info()
    return [
        ("date", datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")),
        ("CPU", cpu_model()),
        ("cores", f"{os.cpu_count()} logical, {len(os.sched_getaffinity(0))} usable by this process"),
        ("Python", platform.python_version()),
        ("numpy", np.__version__),
        ("scipy", scipy.__version__),
        ("scikit-learn", sklearn.__version__),
        ("rbm_lit", f"{rbm_lit.__version__}, commit {rbm_lit_revision()}"),
        ("BLAS while timing", blas_description(limited)),
        ("OpenBLAS variables", openblas),
        ("rbm_lit's compiled update", compiled_update_status()),
        # Other jobs on a shared machine slow both libraries. A load above the core count means contention.
        ("load average at start (1, 5, 15 min)", ", ".join(f"{load:.1f}" for load in os.getloadavg())),
    ]


# ---------------------------------------------------------------- data

def make_data(case, quick):
    "Return the training matrix of a case, in the case's dtype and C order."
    if case.data == "digits":
        X = load_digits().data / 16
    else:
        rng = np.random.default_rng(SEED)
        X = rng.random((10_000, 784)) < 0.2
    if quick and case.quick_rows:
        X = X[:case.quick_rows]
    return np.ascontiguousarray(X, dtype=case.dtype)


def make_estimator(library, case, n_iter):
    return LIBRARIES[library](n_components=case.n_components, batch_size=case.batch_size, n_iter=n_iter,
                              random_state=SEED)


# ---------------------------------------------------------------- correctness

def compare_fits(case, X, n_iter):
    "Fit both libraries once and return the max abs differences of components_ and of the two intercepts."
    fitted = {library: make_estimator(library, case, n_iter).fit(X) for library in LIBRARIES}
    reference, candidate = fitted["scikit-learn"], fitted["rbm_lit"]
    differences = {}
    for attribute in ("components_", "intercept_hidden_", "intercept_visible_"):
        expected, actual = getattr(reference, attribute), getattr(candidate, attribute)
        if expected.shape != actual.shape or expected.dtype != actual.dtype:
            differences[attribute] = float("inf")
        else:
            differences[attribute] = float(np.abs(expected - actual).max())
    return differences


# ---------------------------------------------------------------- timing

def time_fit(library, case, X, n_iter, clock):
    "Return the time of one `fit` call on `clock`, with the garbage collector paused."
    estimator = make_estimator(library, case, n_iter)
    gc.collect()
    gc.disable()
    try:
        start = clock()
        estimator.fit(X)
        return clock() - start
    finally:
        gc.enable()


def time_floor(case, n_steps, clock):
    "Return the time of `n_steps` repetitions of the five matrix products of one update, on preallocated arrays."
    rng = np.random.default_rng(SEED)
    n_visible = 64 if case.data == "digits" else 784
    batch, n_hidden, dtype = case.batch_size, case.n_components, case.dtype
    v_data = (rng.random((batch, n_visible)) < 0.5).astype(dtype)
    v_model = (rng.random((batch, n_visible)) < 0.5).astype(dtype)
    h_chain = (rng.random((batch, n_hidden)) < 0.5).astype(dtype)
    W = rng.normal(0, 0.01, (n_visible, n_hidden)).astype(dtype)
    h_data = np.empty((batch, n_hidden), dtype)
    h_model = np.empty((batch, n_hidden), dtype)
    v_field = np.empty((batch, n_visible), dtype)
    positive = np.empty((n_visible, n_hidden), dtype)
    negative = np.empty((n_visible, n_hidden), dtype)

    start = clock()
    for step in range(n_steps):
        np.dot(v_data, W, out=h_data)          # hidden field of the data
        np.dot(h_chain, W.T, out=v_field)      # visible field of the chains
        np.dot(v_model, W, out=h_model)        # hidden field of the chains' new visible states
        np.dot(v_data.T, h_data, out=positive)
        np.dot(v_model.T, h_model, out=negative)
    return clock() - start


def n_updates(n_rows, batch_size, n_iter):
    return -(-n_rows // batch_size) * n_iter


def benchmark_case(case, quick, repeat, clock):
    "Check one case, then time both libraries and the floor; return a dict of the results."
    X = make_data(case, quick)
    n_iter = case.quick_n_iter if quick else case.n_iter
    differences = compare_fits(case, X, n_iter)
    # rbm_lit reproduces scikit-learn bit for bit, so any difference fails. A one-ulp change in a mean or a weight
    # can flip a sample (u < p), and after one flip the chains separate, so the check fits as many epochs as the
    # timed fit.
    matches = all(difference == 0 for difference in differences.values())

    times = {library: [] for library in LIBRARIES}
    floor_times = []
    steps = n_updates(X.shape[0], case.batch_size, n_iter)
    for run in range(repeat):
        # Swap the order every run so neither library always runs right after the other.
        order = list(LIBRARIES) if run % 2 == 0 else list(reversed(LIBRARIES))
        for library in order:
            times[library].append(time_fit(library, case, X, n_iter, clock))
        floor_times.append(time_floor(case, steps, clock))

    samples = X.shape[0] * n_iter
    best = {library: min(values) for library, values in times.items()}
    return dict(case=case, rows=X.shape[0], n_iter=n_iter, steps=steps, samples=samples,
                differences=differences, matches=matches,
                best=best, floor=min(floor_times))


# ---------------------------------------------------------------- log Z and AIS

def random_model(n_visible, n_hidden, scale=0.1):
    rng = np.random.default_rng(SEED)
    return rng.normal(0, scale, (n_visible, n_hidden)), rng.normal(0, scale, n_visible), rng.normal(0, scale, n_hidden)


def time_call(function, repeat, clock):
    "Return the minimum time on `clock` of `repeat` calls of `function`, and its last result."
    best, result = float("inf"), None
    for run in range(repeat):
        start = clock()
        result = function()
        best = min(best, clock() - start)
    return best, result


def ais_arguments(function, W, b, c, n_chains, n_temperatures):
    "Map the model and the AIS sizes onto the parameters `function` accepts; return None when they cannot be mapped."
    parameters = list(inspect.signature(function).parameters)
    if parameters[:1] == ["model"]:
        positional = (RBMParams(W, b, c),)
    elif parameters[:3] == ["W", "b", "c"]:
        positional = (W, b, c)
    else:
        return None
    keywords = {}
    chain_names = [name for name in ("n_chains", "n_runs") if name in parameters]
    temperature_names = [name for name in ("n_betas", "n_temperatures", "n_intermediate") if name in parameters]
    if not chain_names or not temperature_names:
        return None
    keywords[chain_names[0]] = n_chains
    keywords[temperature_names[0]] = n_temperatures
    if "random_state" in parameters:
        keywords["random_state"] = SEED
    return positional, keywords


def benchmark_partition(repeat, clock):
    "Time exact log Z for 64x20 and, where rbm_lit.evaluation.ais_log_partition exists, AIS on 64x100."
    rows = []
    W, b, c = random_model(64, 20)
    seconds, log_z = time_call(lambda: exact_log_partition(W, b, c), repeat, clock)
    rows.append(("exact log Z, 64x20 (2^20 hidden states), float64, rbm_lit.energy (any unit types)",
                 f"{seconds:.3f} s", f"log Z = {log_z:.4f}"))
    try:
        from rbm_lit.evaluation import bernoulli_log_partition
    except ImportError:
        bernoulli_log_partition = None
    if bernoulli_log_partition is not None:
        seconds, fast_log_z = time_call(lambda: bernoulli_log_partition(W, b, c), repeat, clock)
        rows.append(("exact log Z, 64x20, float64, rbm_lit.evaluation (binary units, the one rbm_lit train uses)",
                     f"{seconds:.3f} s", f"log Z = {float(fast_log_z):.4f}"))

    label = "AIS log Z, 64x100, 100 chains x 10,000 temperatures"
    try:
        from rbm_lit.evaluation import ais_log_partition
    except ImportError as error:
        rows.append((label, "skipped", f"rbm_lit.evaluation.ais_log_partition is not available ({error})"))
        return rows

    W, b, c = random_model(64, 100)
    mapped = ais_arguments(ais_log_partition, W, b, c, 100, 10_000)
    if mapped is None:
        rows.append((label, "skipped", f"unknown signature ais_log_partition{inspect.signature(ais_log_partition)}"))
        return rows
    positional, keywords = mapped
    # AIS takes seconds per call, so three runs are enough for a minimum.
    seconds, estimate = time_call(lambda: ais_log_partition(*positional, **keywords), min(repeat, 3), clock)
    log_z = getattr(estimate, "log_z", estimate)
    rows.append((label, f"{seconds:.3f} s", f"log Z estimate = {float(log_z):.4f}"))
    return rows


# ---------------------------------------------------------------- memory

def read_status_kib(field):
    "Return a memory field of /proc/self/status (VmRSS, VmHWM) in KiB, or None where it cannot be read."
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def reset_peak_rss():
    "Reset this process's VmHWM to its current RSS (Linux 4.0 and later); return whether that worked."
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def memory_child(library, path, dtype):
    "Fit `library` on the memmap at `path` and print peak traced and resident memory as JSON."
    X = np.memmap(path, dtype=dtype, mode="r", shape=MEMMAP_SHAPE)
    estimator = LIBRARIES[library](n_components=100, batch_size=100, n_iter=1, random_state=SEED)
    if library == "rbm_lit":
        # The compiled update's one-time setup (loading numba's cache or compiling the kernel for read-only input,
        # and checking it) runs before the measurement, because under tracemalloc it is several times slower.
        LIBRARIES[library](n_components=2, batch_size=2, n_iter=1, random_state=SEED).fit(X[:4])
    # ru_maxrss keeps the parent's peak across fork and exec, so the peak is read from VmHWM after a reset.
    rss_before = read_status_kib("VmRSS")
    peak_was_reset = reset_peak_rss()
    tracemalloc.start()
    start = time.perf_counter()
    error = None
    try:
        with threadpool_limits(1):
            estimator.fit(X)
    except Exception as exception:  # the table reports whatever fit raises, so the other rows still run
        error = f"{type(exception).__name__}: {exception}"
    seconds = time.perf_counter() - start
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    trained_dtype = str(estimator.components_.dtype) if hasattr(estimator, "components_") else None
    print(json.dumps(dict(error=error, seconds=seconds, traced_peak=peak, trained_dtype=trained_dtype,
                          rss_before_kib=rss_before,
                          rss_peak_kib=read_status_kib("VmHWM") if peak_was_reset else None)))


def benchmark_memory():
    "Fit each library in its own process on a uint8 and a float32 memmap; return table rows."
    rows = []
    with tempfile.TemporaryDirectory(prefix="rbm_lit_bench_") as directory:
        for dtype in ("uint8", "float32"):
            path = Path(directory) / f"X_{dtype}.dat"
            X = np.memmap(path, dtype=dtype, mode="w+", shape=MEMMAP_SHAPE)
            rng = np.random.default_rng(SEED)
            for start in range(0, MEMMAP_SHAPE[0], 10_000):
                X[start:start + 10_000] = rng.random((10_000, MEMMAP_SHAPE[1])) < 0.2
            X.flush()
            input_bytes = X.nbytes
            del X
            for library in LIBRARIES:
                command = [sys.executable, __file__, "--memory-child", library, str(path), dtype]
                completed = subprocess.run(command, capture_output=True, text=True)
                rows.append(memory_row(library, dtype, input_bytes, completed))
    return rows


def memory_row(library, dtype, input_bytes, completed):
    "Turn one child process's output into a table row."
    mib = 2**20
    if completed.returncode != 0:
        last_line = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        return (library, dtype, f"{input_bytes / mib:.0f}", "-", "-", "-", f"process failed: {last_line}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    copies = result["traced_peak"] >= 0.5 * input_bytes
    verdict = "copies the whole array" if copies else "no whole-array copy"
    verdict += f", trains in {result['trained_dtype']}"
    if result["error"]:
        verdict = f"fit raised {result['error']}"
    rss = "unavailable"
    if result["rss_peak_kib"] is not None and result["rss_before_kib"] is not None:
        rss = f"{result['rss_peak_kib'] / 1024:.0f} ({result['rss_before_kib'] / 1024:.0f})"
    return (library, dtype, f"{input_bytes / mib:.0f}", f"{result['traced_peak'] / mib:.0f}", rss,
            f"{result['seconds']:.1f}", verdict)


# ---------------------------------------------------------------- report

def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def speed_tables(results):
    "Return the throughput table and the per-update time table as markdown."
    throughput, per_update = [], []
    for result in results:
        case, best, floor = result["case"], result["best"], result["floor"]
        rate = {library: result["samples"] / seconds for library, seconds in best.items()}
        if result["matches"]:
            check = "identical"
        else:
            check = f"DIFFERENT (max abs diff {max(result['differences'].values()):.1e})"
        throughput.append((case.name, f"{result['rows']} x {result['n_iter']}", check,
                           f"{rate['scikit-learn']:,.0f}", f"{rate['rbm_lit']:,.0f}",
                           f"{rate['rbm_lit'] / rate['scikit-learn']:.2f}",
                           f"{result['samples'] / floor:,.0f}"))
        microseconds = {library: seconds / result["steps"] * 1e6 for library, seconds in best.items()}
        floor_us = floor / result["steps"] * 1e6
        per_update.append((case.name, result["steps"], f"{floor_us:.0f}",
                           f"{microseconds['scikit-learn']:.0f} ({microseconds['scikit-learn'] / floor_us:.2f}x)",
                           f"{microseconds['rbm_lit']:.0f} ({microseconds['rbm_lit'] / floor_us:.2f}x)"))
    first = markdown_table(("case", "rows x epochs", "parameters check", "scikit-learn samples/s",
                            "rbm_lit samples/s", "ratio rbm_lit / scikit-learn", "floor samples/s"), throughput)
    second = markdown_table(("case", "updates per fit", "floor µs/update", "scikit-learn µs/update (x floor)",
                             "rbm_lit µs/update (x floor)"), per_update)
    return first, second


def build_report(arguments, environment, results, partition_rows, memory_rows):
    command = "python bench/benchmark.py" + "".join(
        f" {flag}" for flag, enabled in (("--quick", arguments.quick), ("--memory", arguments.memory)) if enabled)
    command += f" --repeat {arguments.repeat} --clock {arguments.clock}"
    clock_text = "CPU time of the process" if arguments.clock == "cpu" else "wall time"
    throughput, per_update = speed_tables(results)
    sections = [
        "# Benchmark",
        f"Training speed of rbm_lit's `BernoulliRBM` against scikit-learn's, measured by `{command}` "
        "(the script is `bench/benchmark.py`). Both libraries run alternately in one process with BLAS held to "
        f"one thread. Each time is the minimum over {arguments.repeat} runs, measured as {clock_text}. The machine "
        "is shared and noisy, "
        "so compare the ratios within one run and do not read the absolute numbers as targets.",
        "## Machine",
        "Some machines set OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE because older OpenBLAS builds compute wrong "
        "results or crash on their processors. These variables pin an older kernel, which slows a current numpy. "
        "The table shows whether they were set and which kernel ran (the architecture field). To let OpenBLAS choose for one run, use "
        "`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/benchmark.py`.",
        markdown_table(("item", "value"), environment),
        "## Training speed",
        "Samples per second count rows times epochs. The ratio is rbm_lit's samples per second divided by "
        "scikit-learn's, so a ratio above 1 means rbm_lit is faster. Before timing, both libraries fit the same "
        "data with the same seed and their `components_` and intercepts must be identical, bit for bit. "
        "A case marked DIFFERENT failed that check, so its speed does not count. "
        "The floor is the time of the five matrix products of one update (v W and h W^T for the chains, v W for "
        "the data, and the two outer products of the gradient), done by `np.dot` on preallocated arrays.",
        throughput,
        per_update,
        "## Partition function",
        markdown_table(("computation", "time (min)", "note"), partition_rows),
    ]
    if memory_rows:
        sections += [
            "## Peak memory on a memmap",
            f"Each library fits a {MEMMAP_SHAPE[0]:,} x {MEMMAP_SHAPE[1]} `np.memmap` (Bernoulli(0.2) pixels, "
            "n_components=100, batch_size=100, n_iter=1) in its own process. Traced peak is tracemalloc's peak "
            "of Python and NumPy allocations during `fit`. Peak RSS is the process's VmHWM during `fit` next to "
            "its RSS just before, and it also counts the memmap's file pages that were read. A traced peak of at "
            "least half the input size is reported as a whole-array copy. Before the measurement, rbm_lit fits 4 rows of "
            "the memmap once, so that the one-time setup of its compiled update (loading numba's cache or compiling, "
            "and checking the kernel) is not counted.",
            markdown_table(("library", "memmap dtype", "input MiB", "traced peak MiB", "peak RSS MiB (before fit)",
                            "fit wall s", "result"), memory_rows),
        ]
    return "\n\n".join(sections) + "\n"


def write_whole(path, text):
    "Write `text` to `path` through a temporary file in the same folder, so readers never see half a file."
    path = Path(path)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
                                     delete=False, encoding="utf-8") as handle:
        handle.write(text)
        temporary = handle.name
    os.replace(temporary, path)


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="short run: fewer epochs, 2,000 synthetic rows and 2 repeats unless --repeat is given")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs per figure; each figure is the minimum (default 5, or 2 with --quick)")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu",
                        help="cpu: CPU time of this process (default, steadier on a shared machine); wall: wall time")
    parser.add_argument("--out", metavar="FILE", help="also write the markdown report to FILE")
    parser.add_argument("--memory", action="store_true",
                        help="also measure peak memory of fitting a 200,000 x 784 memmap (writes about 800 MB "
                             "to a temporary folder)")
    parser.add_argument("--memory-child", nargs=3, metavar=("LIBRARY", "PATH", "DTYPE"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.repeat is None:
        arguments.repeat = 2 if arguments.quick else 5
    if arguments.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {arguments.repeat}")
    return arguments


def main():
    arguments = parse_arguments()
    if arguments.memory_child:
        memory_child(*arguments.memory_child)
        return 0

    clock = CLOCKS[arguments.clock]
    environment = environment_rows()
    print(markdown_table(("item", "value"), environment), flush=True)
    results = []
    with threadpool_limits(1):
        for case in CASES:
            result = benchmark_case(case, arguments.quick, arguments.repeat, clock)
            status = "equal" if result["matches"] else "DIFFERENT"
            print(f"{case.name}: results {status} {result['differences']}; "
                  f"ratio {result['best']['scikit-learn'] / result['best']['rbm_lit']:.2f}", flush=True)
            results.append(result)
        partition_rows = benchmark_partition(arguments.repeat, clock)
    memory_rows = benchmark_memory() if arguments.memory else []

    report = build_report(arguments, environment, results, partition_rows, memory_rows)
    print()
    print(report)
    if arguments.out:
        write_whole(arguments.out, report)
        print(f"wrote {arguments.out}")

    if not all(result["matches"] for result in results):
        print("rbm_lit and scikit-learn gave different parameters in at least one case (marked DIFFERENT), "
              "so the speed figures of that case do not count.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
