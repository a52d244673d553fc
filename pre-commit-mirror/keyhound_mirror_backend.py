"""A PEP 517 build backend with no dependencies: builds a wheel holding only metadata, whose one
requirement is the keyhound wheel at KEYHOUND_VERSION (set by keyhound's release workflow).
A setuptools-based package would fail to install offline: build isolation cannot fetch setuptools.
"""

import base64
import hashlib
import io
import os
import tarfile
import zipfile

KEYHOUND_VERSION = "0.1.0"
NAME = "keyhound_pre_commit_mirror"
DIST_INFO = f"{NAME}-{KEYHOUND_VERSION}.dist-info"


def _metadata():
    return (
        "Metadata-Version: 2.1\n"
        "Name: keyhound-pre-commit-mirror\n"
        f"Version: {KEYHOUND_VERSION}\n"
        "Summary: keyhound's hooks for the pre-commit framework, from the keyhound wheel\n"
        f"Requires-Dist: keyhound=={KEYHOUND_VERSION}\n"
    )


def _wheel():
    return (
        "Wheel-Version: 1.0\n"
        "Generator: keyhound_mirror_backend\n"
        "Root-Is-Purelib: true\n"
        "Tag: py3-none-any\n"
    )


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}\n"


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    path = os.path.join(metadata_directory, DIST_INFO)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata())
    with open(os.path.join(path, "WHEEL"), "w", encoding="utf-8") as f:
        f.write(_wheel())
    return DIST_INFO


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = f"{NAME}-{KEYHOUND_VERSION}-py3-none-any.whl"
    files = {
        f"{DIST_INFO}/METADATA": _metadata().encode(),
        f"{DIST_INFO}/WHEEL": _wheel().encode(),
    }
    record = "".join(_record_line(p, d) for p, d in files.items()) + f"{DIST_INFO}/RECORD,,\n"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files.items():
            z.writestr(path, data)
        z.writestr(f"{DIST_INFO}/RECORD", record)
    return name


def build_sdist(sdist_directory, config_settings=None):
    name = f"{NAME}-{KEYHOUND_VERSION}"
    here = os.path.dirname(os.path.abspath(__file__))
    with tarfile.open(os.path.join(sdist_directory, f"{name}.tar.gz"), "w:gz") as tar:
        for f in ("pyproject.toml", "keyhound_mirror_backend.py", ".pre-commit-hooks.yaml"):
            tar.add(os.path.join(here, f), arcname=f"{name}/{f}")
        info = tarfile.TarInfo(f"{name}/PKG-INFO")
        data = _metadata().encode()
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return f"{name}.tar.gz"
