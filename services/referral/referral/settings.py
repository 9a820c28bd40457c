"""The referral service's settings: the platform's (kit.settings) and its own.

| variable                                   | default                                   |
|--------------------------------------------|-------------------------------------------|
| LIAISON_REFERRAL_REMINDER_DAYS             | 30,7,1: reminders this many days before a letter's last day to answer |
| LIAISON_REFERRAL_SWEEP_SECONDS             | 300: how often each worker sweeps open letters' deadlines |
| LIAISON_REFERRAL_SIGN_OFF_DAYS             | 3: working days for each street sign-off |
| LIAISON_REFERRAL_REVIEW_DAYS               | 5: working days for the working body's review |
| LIAISON_REFERRAL_DISPATCH_DAYS             | 2: working days for the standing committee office's dispatch |
| LIAISON_REFERRAL_ASSIGNMENT_DAYS           | 3: working days for the government office's assignment |
| LIAISON_REFERRAL_FILES                     | local: answers' files in a directory; s3: in an S3-compatible bucket |
| LIAISON_REFERRAL_FILES_DIR                 | <LIAISON_VAR_DIR>/referral-files (local) |
| LIAISON_REFERRAL_S3_BUCKET                 | the bucket (s3); credentials as boto3 finds them (AWS_ACCESS_KEY_ID...) |
| LIAISON_REFERRAL_S3_ENDPOINT_URL           | the store's URL, for a store other than AWS's (s3) |
| LIAISON_REFERRAL_S3_REGION                 | its region (s3) |
| LIAISON_REFERRAL_MAX_FILE_BYTES            | 10485760: the largest file an answer may attach |
| LIAISON_REGISTRY_GRPC_TARGET               | where the registry is asked which units are departments (kit.settings) |
| LIAISON_REFERRAL_MAX_WATCHES               | 8: departments' watches (`WatchAssignedLetters`) one api process holds at once, each on one of its 16 gRPC threads (at most 12) |
| LIAISON_REFERRAL_WATCH_POLL_SECONDS        | 1: how often a watch looks for letters newly sent |

The local directory is one process's disk: a deployment with more than one
api replica, or pods that come and go, needs the S3-compatible store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.settings import (
    Settings,
    SettingsError,
    grpc_target,
    read_choice,
    read_float,
    read_int,
    read_str,
    var_dir,
)
from referral.deadlines import REMINDER_DAYS, StageClocks

SWEEP_SECONDS = 300
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_WATCHES = 8
# The api's gRPC threads (kit.grpc_server.serve's pool) less those kept for
# every other call while watches hold theirs.
WATCH_LIMIT = 16 - 4


def sweep_seconds() -> int:
    """How often the worker's timer sweeps (read once, when the worker's
    class is defined: nameko's timers take their interval then)."""
    return read_int("LIAISON_REFERRAL_SWEEP_SECONDS", SWEEP_SECONDS, minimum=5)


def read_days(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = read_str(name, ",".join(str(d) for d in default))
    try:
        days = tuple(sorted({int(part) for part in raw.split(",") if part.strip()}, reverse=True))
    except ValueError:
        raise SettingsError(
            f"{name} must be whole numbers of days, comma-separated, not {raw!r}"
        ) from None
    if not days or any(d < 0 or d > 90 for d in days):
        raise SettingsError(f"{name} must name days between 0 and 90, not {raw!r}")
    return days


@dataclass(frozen=True)
class ReferralSettings(Settings):
    reminder_days: tuple[int, ...] = REMINDER_DAYS
    registry_target: str = ""
    files: str = "local"
    files_dir: str = ""
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = ""
    max_file_bytes: int = MAX_FILE_BYTES
    clocks: StageClocks = field(default_factory=StageClocks)
    max_watches: int = MAX_WATCHES
    watch_poll_seconds: float = 1.0

    @classmethod
    def from_environment(cls, service: str, process: str) -> dict[str, Any]:
        defaults = StageClocks()
        max_watches = read_int("LIAISON_REFERRAL_MAX_WATCHES", MAX_WATCHES, minimum=1)
        if max_watches > WATCH_LIMIT:
            raise SettingsError(
                f"LIAISON_REFERRAL_MAX_WATCHES must be at most {WATCH_LIMIT} (each watch holds "
                f"one of the api's 16 gRPC threads), not {max_watches}"
            )
        return super().from_environment(service, process) | {
            "max_watches": max_watches,
            "watch_poll_seconds": read_float("LIAISON_REFERRAL_WATCH_POLL_SECONDS", 1.0),
            "reminder_days": read_days("LIAISON_REFERRAL_REMINDER_DAYS", REMINDER_DAYS),
            **_file_settings(),
            "registry_target": grpc_target("registry"),
            "clocks": StageClocks(
                sign_off=read_int("LIAISON_REFERRAL_SIGN_OFF_DAYS", defaults.sign_off, minimum=1),
                review=read_int("LIAISON_REFERRAL_REVIEW_DAYS", defaults.review, minimum=1),
                dispatch=read_int("LIAISON_REFERRAL_DISPATCH_DAYS", defaults.dispatch, minimum=1),
                assignment=read_int(
                    "LIAISON_REFERRAL_ASSIGNMENT_DAYS", defaults.assignment, minimum=1
                ),
            ),
        }


def _file_settings() -> dict[str, Any]:
    files = read_choice("LIAISON_REFERRAL_FILES", "local", ("local", "s3"))
    bucket = read_str("LIAISON_REFERRAL_S3_BUCKET", "")
    if files == "s3" and not bucket:
        raise SettingsError("LIAISON_REFERRAL_FILES=s3 needs LIAISON_REFERRAL_S3_BUCKET")
    return {
        "files": files,
        "files_dir": read_str(
            "LIAISON_REFERRAL_FILES_DIR", str(Path(var_dir()) / "referral-files")
        ),
        "s3_bucket": bucket,
        "s3_endpoint_url": read_str("LIAISON_REFERRAL_S3_ENDPOINT_URL", ""),
        "s3_region": read_str("LIAISON_REFERRAL_S3_REGION", ""),
        "max_file_bytes": read_int("LIAISON_REFERRAL_MAX_FILE_BYTES", MAX_FILE_BYTES, minimum=1024),
    }
