"""pyproject.toml declares BSD-3-Clause: the repository carries that licence's text (issue 10)."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_license_file_matches_the_declared_licence():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    declared = declared if isinstance(declared, str) else declared.get("text", "")
    assert declared == "BSD-3-Clause"
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License")
    assert "Copyright (c) 2026, The Acuclinic contributors" in text
    assert "Neither the name of the copyright holder nor the names of its" in text
