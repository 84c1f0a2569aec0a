"""The sweep driver with a scripted trainer: search space syntax, trials as recorded runs, pruning, resume."""

from __future__ import annotations

import pytest

from mnist_tui.config import TrainConfig
from mnist_tui.events import EpochEnd, RunControl
from mnist_tui.runs import open_store
from mnist_tui.runs.trials import add_sweep, list_sweeps, sweep_storage, sweep_trials, trial_of
from mnist_tui.sweeps.driver import Progress, PruningSink, SweepDriver
from mnist_tui.sweeps.space import SpaceError, default_space, parse_space, space_text, trial_config
from mnist_tui.sweeps.study import (
    SweepError,
    SweepSpec,
    check_name,
    create_study,
    journal_path,
    load_study,
    make_pruner,
    most_epochs,
    open_storage,
    redact,
)
from mnist_tui.sweeps.table import best_rows, best_so_far, record, rows_of
from tests.support.sweeps import FakeSweepTrainer

# ---------------------------------------------------------------------- the space


def test_space_reads_ranges_lists_and_log_scales() -> None:
    params = parse_space("lr=1e-4..1e-2:log hidden=32..512:log dropout=0..0.5 batch=32,64,128 arch=mlp")
    by = {p.name: p for p in params}
    assert by["learning_rate"].low == 1e-4 and by["learning_rate"].high == 1e-2 and by["learning_rate"].log
    assert by["hidden_units"].integer and by["hidden_units"].log and by["hidden_units"].high == 512
    assert not by["dropout"].log and by["dropout"].high == 0.5
    assert by["batch_size"].choices == (32, 64, 128)
    assert by["arch"].choices == ("mlp",)
    assert space_text(parse_space(space_text(params))) == space_text(params)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("lr", "expected name=values"),
        ("colour=1..2", "cannot search 'colour'"),
        ("lr=1e-2..1e-4", "low end must be below"),
        ("dropout=0..0.5:log", "log range must start above 0"),
        ("lr=1e-4..1e-2:ln", "unknown scale"),
        ("batch=32,sixty", "expected a whole number"),
        ("dropout=0..1.5", "dropout must be at least 0 and below 1"),
        ("arch=mlp..cnn", "a list, not a range"),
        ("arch=rnn", "unknown value 'rnn'"),
        ("lr=1e-3 learning-rate=1e-2", "given twice"),
        ("   ", "empty"),
    ],
)
def test_space_refuses_bad_text_in_one_line(text: str, says: str) -> None:
    with pytest.raises(SpaceError, match=says) as caught:
        parse_space(text)
    assert "\n" not in str(caught.value)


def test_default_spaces_build_valid_configs_at_their_corners() -> None:
    for arch in ("mlp", "cnn"):
        for param in default_space(arch):
            ends = param.choices or (param.low, param.high)
            for value in ends:
                assert trial_config(TrainConfig(arch=arch), {param.name: value}).arch == arch


def test_sweep_names_and_redacted_urls() -> None:
    assert check_name("lr-search_2") == "lr-search_2"
    for bad in ("", "../x", "a b", "x" * 61):
        with pytest.raises(SweepError):
            check_name(bad)
    assert redact("postgresql://me:secret@db:5432/s") == "postgresql://me:***@db:5432/s"


# ---------------------------------------------------------------------- the driver


def make(tmp_path, *, trials=8, prune="median", seed=3, repeat=1, name="s"):
    store = open_store(tmp_path / "home")
    path = str(journal_path(store.home, name))
    add_sweep(store, name, path)
    spec = SweepSpec(
        name=name,
        space=parse_space("lr=1e-4..1e-1:log hidden=32..512:log dropout=0..0.5"),
        base=TrainConfig(epochs=4, train_limit=500, seed=seed),
        seed=seed,
        prune=prune,
        trials=trials,
        repeat=repeat,
    )
    study = create_study(spec, open_storage(path))
    return store, path, spec, study


def test_every_trial_is_a_recorded_run_tagged_with_its_sweep(tmp_path) -> None:
    store, path, spec, study = make(tmp_path, trials=6, prune="none")
    ended = []
    done = SweepDriver(study, spec, store, FakeSweepTrainer, Progress(on_trial_end=ended.append)).run()
    assert done == 6 and [r.number for r in ended] == list(range(6))
    tagged = sweep_trials(store, "s")
    assert [t.number for t in tagged] == list(range(6)) and {t.state for t in tagged} == {"complete"}
    runs = {run.id: run for run in store.list_runs()}
    for row, tag in zip(ended, tagged):
        run = runs[tag.run_id]
        assert row.run_id == tag.run_id and run.status == "finished" and len(run.epochs) == 4
        assert run.config["learning_rate"] == pytest.approx(row.params["learning_rate"])
        assert run.test_accuracy == pytest.approx(row.value)
    assert trial_of(store, tagged[0].run_id) == tagged[0]
    assert sweep_storage(store, "s") == path
    (listed,) = list_sweeps(store)
    assert listed.trials == 6 and listed.best == pytest.approx(max(r.value for r in ended))


def test_pruned_trials_stop_early_and_say_why(tmp_path) -> None:
    store, _, spec, study = make(tmp_path, trials=14, prune="median")
    driver = SweepDriver(study, spec, store, FakeSweepTrainer)
    driver.run()
    rows = rows_of(study.trials)
    pruned = [r for r in rows if r.state == "pruned"]
    assert pruned, "a median pruner prunes some of 14 trials of a smooth objective"
    assert driver.trained_epochs < 14 * 4
    tags = {t.number: t for t in sweep_trials(store, "s")}
    runs = {run.id: run for run in store.list_runs()}
    for row in pruned:
        assert len(row.curve) < 4 and row.note.startswith("pruned (median) after epoch")
        tag = tags[row.number]
        assert tag.state == "pruned" and tag.note == row.note
        run = runs[tag.run_id]
        assert run.status == "stopped" and run.message == row.note and len(run.epochs) == len(row.curve)


def epoch_study(pruner, complete=(), pruned=()):
    """An in-memory study whose trials reported these epoch-1 validation accuracies."""
    import optuna
    from optuna.trial import TrialState

    study = optuna.create_study(direction="maximize", pruner=pruner)
    for value, state in [(v, TrialState.COMPLETE) for v in complete] + [(v, TrialState.PRUNED) for v in pruned]:
        trial = study.ask()
        trial.report(value, 1)
        study.tell(trial, value if state == TrialState.COMPLETE else None, state=state)
    return study


def test_the_median_pruner_prunes_after_three_trials_from_the_first_epoch() -> None:
    for complete, pruned in (((0.9, 0.8), False), ((0.9, 0.8, 0.7), True)):
        study = epoch_study(make_pruner("median", 10), complete)
        trial = study.ask()
        trial.report(0.5, 1)  # epoch 1, below every completed trial
        assert bool(trial.should_prune()) is pruned, complete


def test_a_pruned_trial_says_which_median_it_fell_below() -> None:
    """Optuna's median pruner compares with completed trials only; the reason says the same median."""
    study = epoch_study(make_pruner("median", 10), complete=(0.9, 0.8, 0.7), pruned=(0.1,))
    sink = PruningSink(study.ask(), RunControl(), Progress())
    sink(EpochEnd(1, 10, 0.5, 0.5, 0.5, 0.5, 1.0, 1.0))
    assert sink.pruned == "pruned (median) after epoch 1: val accuracy 50.00% (median of 3 trials 80.00%)"
    assert sink.control.stop.is_set()


def test_hyperband_spans_the_most_epochs_a_trial_may_train() -> None:
    base = TrainConfig(epochs=10)
    searched = SweepSpec("s", parse_space("lr=1e-4..1e-2:log epochs=2..6"), base)
    listed = SweepSpec("s", parse_space("lr=1e-4..1e-2:log epochs=3,8,4"), base)
    fixed = SweepSpec("s", parse_space("lr=1e-4..1e-2:log"), base)
    assert (most_epochs(searched), most_epochs(listed), most_epochs(fixed)) == (6, 8, 10)
    assert make_pruner("hyperband", most_epochs(searched))._max_resource == 6


def test_a_seed_repeats_the_sampled_sequence(tmp_path) -> None:
    def params(where, seed):
        store, _, spec, study = make(where, trials=5, prune="none", seed=seed)
        SweepDriver(study, spec, store, FakeSweepTrainer).run()
        return [r.params for r in rows_of(study.trials)]

    first = params(tmp_path / "a", 11)
    assert first == params(tmp_path / "b", 11)
    assert first != params(tmp_path / "c", 12)


def test_resume_loads_the_spec_and_runs_only_whats_left(tmp_path) -> None:
    store, path, spec, study = make(tmp_path, trials=5, prune="none")
    driver = SweepDriver(study, spec, store, FakeSweepTrainer, Progress(on_trial_end=lambda row: driver.stop()))
    assert driver.run() == 1  # stopped after the first trial
    study2, spec2 = load_study("s", open_storage(path))
    assert spec2 == spec
    assert SweepDriver(study2, spec2, store, FakeSweepTrainer).run() == 4
    assert len(study2.trials) == 5 and {r.state for r in rows_of(study2.trials)} == {"complete"}


def test_a_failed_trial_is_recorded_and_the_sweep_goes_on(tmp_path) -> None:
    store, _, spec, study = make(tmp_path, trials=3, prune="none")
    spec = SweepSpec(**{**spec.__dict__, "space": parse_space("lr=0.001,0.9")})
    SweepDriver(study, spec, store, FakeSweepTrainer).run()
    rows = rows_of(study.trials)
    failed = [r for r in rows if r.state == "failed"]
    assert failed and all("diverged" in r.note for r in failed)
    assert sum(r.state == "complete" for r in rows) == 3  # failed trials are retried, not counted
    assert {t.state for t in sweep_trials(store, "s") if t.number in {r.number for r in failed}} == {"failed"}


def test_repeat_trains_each_configuration_over_seeds(tmp_path) -> None:
    store, _, spec, study = make(tmp_path, trials=2, prune="none", repeat=3)
    SweepDriver(study, spec, store, FakeSweepTrainer).run()
    rows = rows_of(study.trials)
    assert len(sweep_trials(store, "s")) == 6
    assert all(r.spread is not None for r in rows)
    seeds = sorted(run.config["seed"] for run in store.list_runs())
    assert seeds == [3, 3, 4, 4, 5, 5]


def test_dead_journal_workers_trials_are_failed(tmp_path) -> None:
    from mnist_tui.sweeps.study import fail_dead_trials

    store, path, spec, study = make(tmp_path, trials=1, prune="none")
    trial = study.ask()
    trial.set_user_attr("host", __import__("socket").gethostname())
    trial.set_user_attr("pid", 2**22 + 12345)  # no such process
    (failed,) = fail_dead_trials(study)
    assert failed.number == trial.number
    assert rows_of(study.trials)[0].state == "failed"


def test_table_helpers(tmp_path) -> None:
    store, _, spec, study = make(tmp_path, trials=4, prune="none")
    SweepDriver(study, spec, store, FakeSweepTrainer).run()
    rows = rows_of(study.trials)
    curve = best_so_far(rows)
    assert curve == sorted(curve) and curve[-1] == max(r.value for r in rows)
    best, runner_up = best_rows(rows)
    assert best.value >= runner_up.value and best.number != runner_up.number
    rec = record(rows[0], spec.space)
    assert rec["lr"] == rows[0].params["learning_rate"] and rec["epochs"] == 4 and rec["state"] == "complete"


def test_a_trial_with_a_holdout_is_ranked_by_it_not_by_the_test_set():
    from types import SimpleNamespace

    from mnist_tui.config import TrainConfig
    from mnist_tui.sweeps.driver import trial_score

    outcome = SimpleNamespace(test_accuracy=0.91)
    curve = [0.80, 0.85, 0.88]
    assert trial_score(TrainConfig(holdout=10_000), curve, outcome) == 0.88  # the last epoch's, on held-out images
    assert trial_score(TrainConfig(), curve, outcome) == 0.91  # validated on the test set: the test score
    assert trial_score(TrainConfig(holdout=10_000, validate=False), [], outcome) == 0.91
