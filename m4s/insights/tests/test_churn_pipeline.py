"""The churn pipeline on plain arrays and files: features, the time split (no future leaks),
the model against the recency-only rule on synthetic cohorts, reasons, and the CLI."""

import datetime as dt
import io

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from sklearn.metrics import roc_auc_score

from m4s.insights import churn_engine, churn_synth
from m4s.insights.churn_features import (
    BASE_FEATURES,
    KIND,
    KINDS,
    Data,
    day,
    features_at,
    label_at,
    read_csv,
    to_date,
)

AS_OF = dt.date(2026, 1, 1)
CUT = day(AS_OF) - 365


def _plant(data: Data, rows: np.ndarray, when: int, kind: str) -> Data:
    return Data(
        data.customer_ids,
        data.purchase,
        data.warranty_end,
        data.tier,
        np.concatenate([data.ev_cust, rows]),
        np.concatenate([data.ev_ts, np.full(len(rows), when)]),
        np.concatenate([data.ev_kind, np.full(len(rows), KIND[kind], dtype=np.int8)]),
        np.concatenate([data.ev_amount, np.zeros(len(rows))]),
        np.concatenate([data.ev_score, np.full(len(rows), np.nan)]),
        tiers=list(data.tiers),
    )


def test_features_read_only_the_past_and_label_only_the_next_year():
    ids = np.array(["a", "b"], dtype=object)
    d = Data(
        ids,
        np.array([day(dt.date(2020, 1, 1)), -1]),
        np.array([day(dt.date(2023, 1, 1)), -1]),
        np.array(["gold", ""], dtype=object),
        np.array([0, 0, 0, 1, 0]),
        np.array(
            [
                day(dt.date(2024, 6, 1)),
                day(dt.date(2024, 12, 1)),
                day(dt.date(2025, 1, 1)),  # on the cut-off day: not a feature, a label
                day(dt.date(2024, 3, 1)),
                day(dt.date(2024, 11, 1)),
            ]
        ),
        np.array(
            [KIND["visit_paid"], KIND["complaint"], KIND["visit_paid"], KIND["survey"], 0],
            dtype=np.int8,
        ),
        np.array([1000.0, 0, 500, 0, 300]),
        np.array([np.nan, np.nan, np.nan, 3.0, np.nan]),
    )
    t = day(dt.date(2025, 1, 1))
    X = features_at(d, t)
    f = dict(zip(BASE_FEATURES, X[0], strict=False))
    assert f["paid_12m"] == 2 and f["spend_24m"] == 1300
    assert f["days_since_paid"] == (dt.date(2025, 1, 1) - dt.date(2024, 11, 1)).days
    assert f["complaints_12m"] == 1 and f["out_of_warranty"] == 1
    assert f["unresolved_complaints"] == 0  # the source does not record resolutions
    g = dict(zip(BASE_FEATURES, X[1], strict=False))
    assert g["never_paid"] == 1 and g["detractor"] == 1 and g["last_nps"] == 3
    assert list(label_at(d, t)) == [0, 1]


def test_planted_future_signal_is_invisible_to_training():
    data = churn_synth.cohort(2000, AS_OF, seed=7)
    churned = np.flatnonzero(label_at(data, CUT) == 1)
    # a perfect predictor of the label, but only AFTER the cut-off: a message to every churner
    planted = _plant(data, churned, CUT + 30, "message")
    col = BASE_FEATURES.index("messages_12m")
    y = label_at(planted, CUT)
    # had the features been taken at as_of, the planted signal would give the answer away
    assert roc_auc_score(y, features_at(planted, day(AS_OF))[:, col]) > 0.99
    # at the cut-off the feature does not see it at all
    assert np.array_equal(features_at(planted, CUT), features_at(data, CUT))
    clean = churn_engine.train(data, AS_OF)
    dirty = churn_engine.train(planted, AS_OF)
    assert clean.aucs == dirty.aucs and clean.recency_auc == dirty.recency_auc
    X = features_at(data, CUT)
    assert np.array_equal(clean.predict(X), dirty.predict(X))
    assert dirty.auc < 0.95


def test_events_after_as_of_change_nothing_in_the_cli_scores(tmp_path):
    data = churn_synth.cohort(250, AS_OF, seed=2)
    later = _plant(data, np.arange(200), day(AS_OF) + 5, "visit_paid")
    outs = []
    for i, d in enumerate((data, later)):
        ev, cu = _write(tmp_path / f"r{i}", d)
        out = tmp_path / f"scores{i}.csv"
        call_command(
            "insights", "churn", "--events", ev, "--customers", cu, "--as-of", "2026-01-01",
            "--out", str(out), stderr=io.StringIO(),
        )  # fmt: skip
        outs.append(out.read_text())
    assert outs[0] == outs[1]


def test_model_beats_the_recency_only_rule_on_synthetic_cohorts():
    fitted = churn_engine.train(churn_synth.cohort(4000, AS_OF, seed=0), AS_OF)
    assert fitted.kind in {"gbm", "logreg"} and set(fitted.aucs) == {"gbm", "logreg"}
    assert fitted.auc >= max(fitted.aucs.values())
    assert fitted.auc > fitted.recency_auc + 0.04, (fitted.auc, fitted.recency_auc)
    assert fitted.n_valid > 700 and 0.2 < fitted.base_rate < 0.8
    cal = fitted.calibration
    assert len(cal) == 10 and sum(b["n"] for b in cal) == fitted.n_valid
    assert cal[-1]["observed"] > cal[0]["observed"]


@pytest.mark.parametrize("kind", ["logreg", "gbm"])
def test_reasons_raise_risk_and_name_the_cause(kind):
    data = churn_synth.cohort(3000, AS_OF, seed=4)
    fitted = churn_engine.train(data, AS_OF)
    fitted.kind = kind
    fitted.model = churn_engine.make(kind).fit(
        features_at(data, CUT)[:2000], label_at(data, CUT)[:2000]
    )
    state = fitted.state()
    risk, band, reasons = churn_engine.score(state, data, AS_OF)
    assert len(risk) == data.n and all(len(r) <= 3 for r in reasons)
    assert set(band) <= {"low", "medium", "high"}
    X = features_at(data, day(AS_OF))
    groups, per_group = churn_engine.group_contributions(state, X, state["medians"])
    for i in np.flatnonzero(risk > 0.6)[:50]:
        for r in reasons[i]:
            assert per_group[i, groups.index(r["code"])] > 0
    # an unresolved complaint is among the reasons of the high-risk customers who have one
    unresolved = X[:, BASE_FEATURES.index("unresolved_complaints")] > 0
    high = np.flatnonzero(unresolved & (risk > 0.5))
    assert len(high) > 5
    assert np.mean([any(r["code"] == "unresolved" for r in reasons[i]) for i in high]) > 0.5


def test_not_enough_history_is_a_state_not_a_crash():
    small = churn_synth.cohort(30, AS_OF, seed=1)
    result = churn_engine.train(small, AS_OF)
    assert isinstance(result, churn_engine.NotEnough)
    assert result.needed == churn_engine.MIN_CUSTOMERS and result.customers <= 30


def _write(folder, d: Data) -> tuple[str, str]:
    folder.mkdir()
    ev, cu = folder / "events.csv", folder / "customers.csv"
    lines = ["customer_id,ts,kind,amount,score"]
    for c, t, k, a in zip(d.ev_cust, d.ev_ts, d.ev_kind, d.ev_amount, strict=True):
        lines.append(f"{d.customer_ids[c]},{to_date(t)},{KINDS[k]},{a:.2f},")
    ev.write_text("\n".join(lines) + "\n")
    lines = ["customer_id,purchase_date,warranty_end_date,tier"]
    for i in range(d.n):
        p, w = to_date(d.purchase[i]), to_date(d.warranty_end[i])
        lines.append(f"{d.customer_ids[i]},{p},{w},{d.tier[i]}")
    cu.write_text("\n".join(lines) + "\n")
    return str(ev), str(cu)


def test_cli_reports_malformed_rows_by_line_and_scores_everyone(tmp_path):
    data = churn_synth.cohort(300, AS_OF, seed=5)
    ev, cu = _write(tmp_path / "in", data)
    with open(ev, "a") as fh:
        fh.write("nobody,2025-02-01,visit_paid,100,\n")  # unknown customer
        fh.write("1,2025-13-40,visit_paid,100,\n")  # bad date
        fh.write("1,2025-02-01,teleport,,\n")  # unknown kind
        fh.write("1,2025-02-01,survey,,11\n")  # NPS out of range
        fh.write("1,2025-02-01\n")  # too few fields
    with open(cu, "a") as fh:
        fh.write("300,someday,,gold\n")
        fh.write("0,2020-01-01,2023-01-01,\n")  # listed twice
    out, err = tmp_path / "scores.csv", io.StringIO()
    call_command(
        "insights", "churn", "--events", ev, "--customers", cu, "--as-of", "2026-01-01",
        "--out", str(out), stderr=err,
    )  # fmt: skip
    n_events = len(data.ev_ts)
    log = err.getvalue()
    for line in range(n_events + 2, n_events + 7):
        assert f"events.csv:{line}:" in log
    assert f"customers.csv:{data.n + 2}:" in log and f"customers.csv:{data.n + 3}:" in log
    assert "validation AUC: model" in log and "recency-only rule" in log
    rows = out.read_text().splitlines()
    assert rows[0] == "customer_id,churn_risk,reason_1,reason_2,reason_3"
    assert len(rows) == data.n + 1
    first = rows[1].split(",")
    assert 0 <= float(first[1]) <= 1
    assert any("No paid visit for" in r for r in rows)


def test_cli_refuses_bad_arguments_and_thin_history(tmp_path):
    ev, cu = _write(tmp_path / "small", churn_synth.cohort(20, AS_OF, seed=1))
    with pytest.raises(CommandError, match="not enough history"):
        call_command(
            "insights", "churn", "--events", ev, "--customers", cu, "--as-of", "2026-01-01",
            "--out", str(tmp_path / "o.csv"), stderr=io.StringIO(),
        )  # fmt: skip
    with pytest.raises(CommandError, match="not a date"):
        call_command(
            "insights", "churn", "--events", ev, "--customers", cu, "--as-of", "tomorrow",
            "--out", str(tmp_path / "o.csv"),
        )  # fmt: skip
    with pytest.raises(CommandError):
        call_command(
            "insights", "churn", "--events", str(tmp_path / "missing.csv"), "--customers", cu,
            "--as-of", "2026-01-01", "--out", str(tmp_path / "o.csv"), stderr=io.StringIO(),
        )  # fmt: skip


def test_read_csv_survives_garbage():
    data, problems = read_csv("customer_id,ts\n1,2\n", "nonsense\n")
    assert data.n == 0 and len(problems) == 2
    data, problems = read_csv("", "")
    assert data.n == 0 and problems
