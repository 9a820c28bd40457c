"""`python -m referral.worker`: the referral service's nameko worker
(`referral.consumers.ReferralWorker`), run green."""

from kit.green import patch

patch()

from kit.worker import run  # noqa: E402
from referral.bootstrap import ReferralBootstrap  # noqa: E402
from referral.consumers import ReferralWorker  # noqa: E402


def main() -> None:
    run(ReferralWorker, ReferralBootstrap.for_process("worker"))


if __name__ == "__main__":
    main()
