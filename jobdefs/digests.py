"""Digests of content and of jobdefs's own code, which the caches key their entries by, and
the seal that tells a file of the cache this machine wrote from one that came from elsewhere.

A cache kept in an output folder can be committed, edited and handed on like any file, and
every key it is looked up by is computable from public inputs. So each file of it is
sealed (`sealed`) with a keyed digest of its bytes, under a key of this machine's own: 32
random bytes made once, readable by this user alone, in the user's cache folder beside the
compiled templates (`machine_key`). A file whose seal does not match (`unsealed`), as any
file edited or written elsewhere, is not used, which only costs the time it would save.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import os
import stat
import sys
import tempfile
from pathlib import Path

import jobdefs
from jobdefs import __version__
from jobdefs.output import Untrusted, user_folder

KEY_FILE = "machine.key"
KEY_BYTES = 32
_SEAL_START = b'{"seal":"'
_SEAL_END = b'",'
_SEAL_HEX = 64  # a blake2b digest of 32 bytes


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


def machine_key() -> bytes | None:
    """This machine's key for sealing the caches, made the first time; None when caching is
    switched off or the key cannot be made, or is readable by others (then nothing is sealed
    and no sealed file is trusted)."""
    folder = user_folder()
    return None if folder is None else _key_in(str(folder))


@functools.cache
def _key_in(folder: str) -> bytes | None:
    path = os.path.join(folder, KEY_FILE)
    for _ in range(2):
        try:
            return _read_key(path)
        except FileNotFoundError:
            with contextlib.suppress(OSError):
                _make_key(folder, path)
        except (OSError, Untrusted):
            return None
    return None


def _read_key(path: str) -> bytes:
    handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(handle, "rb") as stream:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode) or status.st_size != KEY_BYTES:
            raise Untrusted("not a key")
        if os.name == "posix" and (
            status.st_uid != os.geteuid() or status.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
        ):
            raise Untrusted("a key others can read or change")
        return stream.read(KEY_BYTES)


def _make_key(folder: str, path: str) -> None:
    """A new key, put in place whole and only where there is none (another process may be
    making one at the same moment: the first one made is the one every process uses)."""
    os.makedirs(folder, mode=0o700, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".key.", dir=folder)  # mode 0600
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(os.urandom(KEY_BYTES))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as stream:
                stream.write(Path(temporary).read_bytes())
    finally:
        os.unlink(temporary)


def _seal(key: bytes, name: str, body: bytes) -> bytes:
    hasher = hashlib.blake2b(name.encode("utf-8", "surrogatepass") + b"\0", key=key, digest_size=32)
    hasher.update(body)
    return hasher.hexdigest().encode("ascii")


def sealed(name: str, document: bytes) -> bytes | None:
    """`document`, the text of a JSON object with at least one key (what follows it may be
    anything: JSON Lines), with this machine's seal as its first key, made over the file's
    name and every byte after the seal; None without a key."""
    key = machine_key()
    if key is None or not document.startswith(b"{") or document.startswith(b"{}"):
        return None
    body = document[1:]
    return b"".join([_SEAL_START, _seal(key, name, body), _SEAL_END, body])


def unsealed(name: str, data: bytes) -> bytes:
    """The document `sealed` made of `data`, once its seal is this machine's for this name;
    raises Untrusted otherwise."""
    key = machine_key()
    start = len(_SEAL_START) + _SEAL_HEX
    if key is None or not data.startswith(_SEAL_START) or data[start : start + 2] != _SEAL_END:
        raise Untrusted("not sealed here")
    body = data[start + 2 :]
    if not hmac.compare_digest(data[len(_SEAL_START) : start], _seal(key, name, body)):
        raise Untrusted("not sealed here")
    return b"{" + body
