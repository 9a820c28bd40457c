"""The generated code in protos/gen/python is exactly what the protos produce
(the same check as `make protos-check`, without touching the work tree)."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "protos" / "gen" / "python"


def test_generated_code_matches_the_protos(tmp_path: Path) -> None:
    protos = sorted(
        str(p.relative_to(ROOT / "protos")) for p in (ROOT / "protos" / "liaison").rglob("*.proto")
    )
    assert protos, "no .proto files found"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            "-I",
            str(ROOT / "protos"),
            f"--python_out={tmp_path}",
            f"--grpc_python_out={tmp_path}",
            f"--mypy_out={tmp_path}",
            *protos,
        ],
        check=True,
        cwd=ROOT / "protos",
    )
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*_pb2*.py*"))
    committed = sorted(p.relative_to(GENERATED) for p in GENERATED.rglob("*_pb2*.py*"))
    assert fresh == committed, "generated files differ from the protos: run `make protos`"
    stale = [str(p) for p in fresh if not filecmp.cmp(tmp_path / p, GENERATED / p, shallow=False)]
    assert not stale, f"out of date, run `make protos`: {stale}"
