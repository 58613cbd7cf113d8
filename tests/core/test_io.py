"""common.core.io: a write that fails (disk full, read-only) is one OutputError naming the file, no debris."""

import errno
import os

import pytest

from common.core.errors import OutputError
from common.core.io import atomic_write_text


def test_disk_full_is_one_line_naming_the_file_and_keeps_the_old_content(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    path.write_text("finished run\n")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError) as err:
        atomic_write_text(path, "half a new file")
    assert str(err.value) == f"{path}: cannot write ({os.strerror(errno.ENOSPC)})"
    assert path.read_text() == "finished run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]
