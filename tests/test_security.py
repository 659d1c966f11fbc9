"""Nothing persisted is loaded with pickle/marshal/eval; corrupt files are detected."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import oxvec
import pytest
from conftest import DIM, make_table

PACKAGE = Path(oxvec.__file__).parent


def test_package_has_no_pickle_marshal_or_eval() -> None:
    banned = re.compile(
        r"^\s*(import|from)\s+(pickle|marshal|dill|cloudpickle|shelve)\b|[^.\w]eval\(|[^.\w]exec\("
    )
    hits = []
    for path in PACKAGE.rglob("*.py"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if banned.search(line):
                hits.append(f"{path.name}:{n}: {line.strip()}")
    assert hits == []


def _corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_corrupt_fragment_raises_corrupt_file_error(db: oxvec.Database) -> None:
    db.create_table("t", make_table(100))
    frag = next((Path(db.uri) / "t.oxvec" / "data").iterdir())
    _corrupt(frag)
    t = db.open_table("t")
    with pytest.raises(oxvec.CorruptFileError) as info:
        t.search(np.zeros(DIM)).to_arrow()
    assert info.value.path == str(frag)
    assert str(frag) in str(info.value)


def test_corrupt_manifest_raises_corrupt_file_error(db: oxvec.Database) -> None:
    db.create_table("t", make_table(10))
    manifest = next((Path(db.uri) / "t.oxvec" / "versions").iterdir())
    _corrupt(manifest)
    with pytest.raises(oxvec.CorruptFileError, match="checksum"):
        db.open_table("t")


def test_corrupt_deletion_vector_raises(db: oxvec.Database) -> None:
    # As a file: a small vector kept in the manifest is covered by the manifest's checksum.
    files = oxvec.connect(db.uri, inline_deletions=False)
    files.create_table("t", make_table(10)).delete("id < 3")
    dv = next((Path(db.uri) / "t.oxvec" / "deletions").iterdir())
    _corrupt(dv)
    with pytest.raises(oxvec.CorruptFileError):
        db.open_table("t").count_rows("id > 0")


def test_truncated_fragment(db: oxvec.Database) -> None:
    db.create_table("t", make_table(100))
    frag = next((Path(db.uri) / "t.oxvec" / "data").iterdir())
    frag.write_bytes(frag.read_bytes()[:1000])
    with pytest.raises(oxvec.CorruptFileError, match="expected"):
        db.open_table("t").to_arrow()


def test_missing_fragment_is_a_storage_error(db: oxvec.Database) -> None:
    db.create_table("t", make_table(10))
    frag = next((Path(db.uri) / "t.oxvec" / "data").iterdir())
    frag.unlink()
    with pytest.raises(oxvec.StorageError) as info:
        db.open_table("t").to_arrow()
    assert isinstance(info.value, FileNotFoundError) or info.value.errno == 2
    assert str(frag) in str(info.value)
