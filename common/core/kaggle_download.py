"""The explicit Kaggle download (`saltbench data download`): credentials, authentication, unzip."""

from __future__ import annotations

import contextlib
import io
import os
import zipfile
from pathlib import Path

from common.core.errors import DataError, SaltbenchError

COMPETITION = "tgs-salt-identification-challenge"


def _has_kaggle_credentials() -> bool:
    """Look for any credential the kaggle package accepts, without touching the network."""
    if os.environ.get("KAGGLE_API_TOKEN"):
        return True
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return True
    folders = [os.environ.get("KAGGLE_CONFIG_DIR"), Path.home() / ".kaggle",
               Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "kaggle"]  # fmt: skip
    names = ("kaggle.json", "access_token", "credentials.json")
    return any(folder and (Path(folder) / name).is_file() for folder in folders for name in names)


def download_competition(folder: Path) -> Path:
    """Fetch the competition archive into `folder` with the kaggle package and unzip it into the
    Kaggle layout (train/, test/, train.csv, ...); one-line errors for missing credentials,
    authentication, network and bad archives. The only network access saltbench makes."""
    if not _has_kaggle_credentials():
        raise SaltbenchError(
            "no Kaggle credentials: set KAGGLE_API_TOKEN (or KAGGLE_USERNAME and KAGGLE_KEY), or put "
            "kaggle.json in ~/.kaggle; then accept the competition rules on kaggle.com"
        )
    api = _kaggle_api()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        api.competition_download_files(COMPETITION, path=str(folder), quiet=False)
    except Exception as err:  # network, 401/403 (rules not accepted), disk: report in one line
        raise SaltbenchError(f"kaggle download of {COMPETITION} failed: {err}") from None
    _extract_all(folder)
    return folder


def _kaggle_api():
    """Import kaggle lazily (its import authenticates and prints help) and authenticate quietly."""
    quiet = io.StringIO()
    try:
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            from kaggle.api.kaggle_api_extended import KaggleApi

            api = KaggleApi()
            api.authenticate()
    except ImportError:
        raise SaltbenchError("the kaggle package is not installed: pip install kaggle") from None
    except (Exception, SystemExit) as err:
        raise SaltbenchError(
            f"kaggle authentication failed: {err or 'invalid credentials'}"
        ) from None
    return api


def _extract_all(folder: Path) -> None:
    """Unzip the competition archive, then each inner X.zip into folder/X (train.zip -> train/)."""
    archives = sorted(folder.glob("*.zip"))
    while archives:
        archive = archives.pop()
        target = folder if archive.stem == COMPETITION else folder / archive.stem
        try:
            with zipfile.ZipFile(archive) as bundle:
                bundle.extractall(target)
        except zipfile.BadZipFile:
            raise DataError(f"{archive}: not a valid zip archive") from None
        archive.unlink()
        archives = sorted(folder.glob("*.zip"))
