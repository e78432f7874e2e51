"""Digests of content and of jobdefs's own code, which the caches key their entries by."""

from __future__ import annotations

import functools
import hashlib
import sys
from pathlib import Path

import jobdefs
from jobdefs import __version__


def content_digest(content: bytes) -> str:
    return hashlib.blake2b(content, digest_size=20).hexdigest()


@functools.cache
def code_version() -> str:
    """Changes whenever any of jobdefs's code, or Python itself, does.

    The whole package is a few hundred kilobytes: hashing all of it is quicker than being
    wrong about which module a cached value depends on.
    """
    hasher = hashlib.blake2b(digest_size=20)
    hasher.update(f"{__version__} {sys.version_info[:2]}".encode())
    root = package_root()
    for module in code_files():
        hasher.update(module.relative_to(root).as_posix().encode() + b"\x1f" + module.read_bytes())
    return hasher.hexdigest()


def package_root() -> Path:
    """The folder of the jobdefs package, wherever this module sits in it."""
    return Path(jobdefs.__file__).resolve().parent


def code_files() -> list[Path]:
    """Every module of the package, in every subpackage, in a stable order."""
    return sorted(package_root().rglob("*.py"))
