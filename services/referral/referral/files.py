"""Where answers' files are kept, each under the SHA-256 of its content.

Two stores, chosen by settings (`referral.settings`):
- `LocalFileStore`: a directory (the default; `var/referral-files` in a
  local run), each file written to a temporary name and renamed into place,
  so a reader never sees half a file and a crash leaves none;
- `S3FileStore`: any S3-compatible object store, through boto3 (production:
  the district's object storage; tests: moto's S3 server, over HTTP).

Content-addressed: storing the same bytes twice stores them once, and a
file read back is checked against its hash, so a file changed behind the
service's back is refused rather than served.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

from kit.errors import NotFound


class CorruptFile(Exception):
    """The stored bytes no longer hash to their name."""


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileStore(Protocol):
    def put(self, data: bytes, content_type: str) -> str:
        """Keep `data`; its SHA-256 (hex)."""
        ...

    def get(self, sha256: str) -> bytes:
        """The bytes stored under `sha256`; NotFound when there are none."""
        ...


def _checked(sha256: str, data: bytes) -> bytes:
    if content_hash(data) != sha256:
        raise CorruptFile(f"the file stored as {sha256} does not match its hash")
    return data


class LocalFileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes, content_type: str) -> str:
        sha256 = content_hash(data)
        path = self._path(sha256)
        if path.exists():
            return sha256
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha256

    def get(self, sha256: str) -> bytes:
        try:
            data = self._path(sha256).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no file {sha256}") from None
        return _checked(sha256, data)


class S3FileStore:
    """An S3-compatible bucket; keys are `<prefix><sha256>`."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        prefix: str = "referral/",
        client: Any = None,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix
        self.client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5),
        )

    def put(self, data: bytes, content_type: str) -> str:
        import base64

        sha256 = content_hash(data)
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.prefix + sha256,
            Body=data,
            ContentType=content_type or "application/octet-stream",
            ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode(),
        )
        return sha256

    def get(self, sha256: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            reply = self.client.get_object(Bucket=self.bucket, Key=self.prefix + sha256)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise NotFound(f"no file {sha256}") from None
            raise
        return _checked(sha256, reply["Body"].read())
