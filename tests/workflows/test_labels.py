import pytest
from flowsleuth.workflows.labels import AnomalyKind, UnknownLabelError, binary_label, parse_label


@pytest.mark.parametrize(
    ("raw", "kind", "severity", "anomalous"),
    [
        ("None", AnomalyKind.NORMAL, None, False),
        ("cpu_2", AnomalyKind.CPU, 2, True),
        ("cpu_4", AnomalyKind.CPU, 4, True),
        ("hdd_5", AnomalyKind.HDD, 5, True),
        (" hdd_10 ", AnomalyKind.HDD, 10, True),
    ],
)
def test_parse_label(raw: str, kind: AnomalyKind, severity: int | None, anomalous: bool) -> None:
    label = parse_label(raw)
    assert label.kind is kind
    assert label.severity == severity
    assert label.is_anomalous is anomalous
    assert binary_label(raw) == int(anomalous)


@pytest.mark.parametrize("raw", ["", "nan", "NaN", "normal", "cpu", "cpu_x", "gpu_2", "hdd-5"])
def test_unknown_labels_are_rejected(raw: str) -> None:
    with pytest.raises(UnknownLabelError, match="unknown label"):
        parse_label(raw)
