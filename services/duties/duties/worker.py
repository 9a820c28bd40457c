"""`python -m duties.worker`: the duties service's nameko worker
(`duties.consumers.DutiesWorker`), run green."""

from kit.green import patch

patch()

from duties.bootstrap import DutiesBootstrap  # noqa: E402
from duties.consumers import DutiesWorker  # noqa: E402
from kit.worker import run  # noqa: E402


def main() -> None:
    run(DutiesWorker, DutiesBootstrap.for_process("worker"))


if __name__ == "__main__":
    main()
