"""The whole platform in containers, run the way the chart runs it.

The chart is rendered (charts/liaison with values-dev.yaml: one replica,
the in-chart PostgreSQL and RabbitMQ) and every workload it declares
becomes a container on one engine network (docker, else podman), named
after its Kubernetes Service so the chart's addresses resolve unchanged
(`liaison-registry-api:50051`, `liaison-postgresql:5432`, ...):

- image, args (the chart's `python -m <module>`), command, env (ConfigMaps
  and Secrets resolved), ports: from the pod template;
- user: the pod's runAsUser/runAsGroup, fsGroup as a supplementary group;
- a read-only root filesystem, every capability dropped, no privilege
  escalation: from the container's securityContext;
- writable mounts: only the pod's volumes (emptyDir and the StatefulSets'
  claims as tmpfs, of the declared size; ConfigMap volumes as read-only
  files);
- memory limits; probes (httpGet, grpc, exec) run by this runner as the
  kubelet runs them: startup, then readiness; liveness is checked once the
  platform is up;
- stop: the preStop hook, then SIGTERM, SIGKILL after the pod's
  terminationGracePeriodSeconds.

Order (what Helm hooks and readiness give a cluster): PostgreSQL and
RabbitMQ, then every service's migrate Job, then per service (services.toml order) the demo
data (`<svc>.cli load-demo --if-empty`, as `make up` loads it; the chart
has no such Job), the api and the worker; then the gateway.

The values are values-dev.yaml's, with the images built here and the
development token issuer switched on (LIAISON_DEV_ISSUER and its secret,
through the chart's `global.env`), since a laptop has no identity provider.

Not as in a cluster: the data of PostgreSQL and RabbitMQ is on tmpfs
(gone when the platform stops); one replica of everything; no
NetworkPolicies, autoscalers or PodDisruptionBudgets; where no registry is
reachable PostgreSQL and RabbitMQ are Debian's packages
(scripts/containers/devservices/) instead of the chart's upstream images.

    python scripts/containers/chartrun.py up      (make up-containers; Ctrl-C stops it)
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "liaison"
CONTAINERS = REPO / "scripts" / "containers"
RELEASE = "liaison"

Manifest = dict[str, Any]
# Files the engine mounts into every container (tmpfs-backed on some engines).
ENGINE_FILES = {"/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/run/.containerenv"}


def _tomllib() -> Any:
    import tomllib

    return tomllib


def service_names() -> list[str]:
    """The services, in start order (services/kit/kit/services.toml)."""
    text = (REPO / "services" / "kit" / "kit" / "services.toml").read_text()
    return list(_tomllib().loads(text)["services"])


# ---------------------------------------------------------------- the engine


def engine() -> tuple[str, dict[str, str]]:
    """docker where its daemon answers, else podman (with the project's
    containers.conf); LIAISON_ENGINE forces one. ("", env) when neither."""
    env = dict(os.environ)
    forced = os.environ.get("LIAISON_ENGINE")
    if forced:
        name = forced
    elif shutil.which("docker") and _ok(["docker", "info"]):
        name = "docker"
    elif shutil.which("podman"):
        name = "podman"
    else:
        return "", env
    if name == "podman":
        env.setdefault("CONTAINERS_CONF", str(CONTAINERS / "containers.conf"))
    return name, env


def _ok(argv: list[str], env: dict[str, str] | None = None) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=30, env=env).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def can_run_containers() -> tuple[bool, str]:
    """Whether a container runs here, and if not, why."""
    name, env = engine()
    if not name:
        return False, "neither docker nor podman is installed"
    probe = subprocess.run(
        [name, "info"], capture_output=True, text=True, timeout=60, env=env, check=False
    )
    if probe.returncode != 0:
        return False, f"`{name} info` fails: {probe.stderr.strip()[-300:]}"
    return True, name


def base_images() -> dict[str, str]:
    """The base images' build arguments (scripts/containers/base-images.sh)."""
    out = subprocess.run(
        ["bash", str(CONTAINERS / "base-images.sh")],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def build_images() -> None:
    subprocess.run(["bash", str(CONTAINERS / "images.sh")], check=True)


# ---------------------------------------------------------------- the chart


def chart_version() -> str:
    return str(yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"])


def render(images: dict[str, str]) -> list[Manifest]:
    """The chart under values-dev.yaml, with the images built here."""
    import helm_python as helm

    values = yaml.safe_load((CHART / "values-dev.yaml").read_text())
    values["global"]["image"]["registry"] = "localhost"
    values["dev"]["postgresql"]["image"] = images["POSTGRES_IMAGE"]
    values["dev"]["rabbitmq"]["image"] = images["RABBITMQ_IMAGE"]
    # A laptop cluster has no identity provider: the development issuer
    # (demo accounts' tokens at /api/v1/dev/tokens), through the chart's
    # own extra settings, with a secret of this run's.
    values["global"]["env"] = {
        "LIAISON_DEV_ISSUER": "1",
        "LIAISON_JWT_DEV_SECRET": secrets.token_urlsafe(32),
    }
    helm.dependency_build(CHART)
    with helm.Chart.load(CHART) as chart:
        rendered = chart.render(values=values, name=RELEASE, namespace="liaison", is_install=True)
    manifests: list[Manifest] = []
    for template, text in sorted(rendered.items()):
        if template.endswith("NOTES.txt"):
            continue
        manifests.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return manifests


def _find(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    (found,) = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    return found


def _data(manifests: list[Manifest], kind: str, name: str) -> dict[str, str]:
    obj = _find(manifests, kind, name)
    data = {k: str(v) for k, v in (obj.get("stringData") or {}).items()}
    if kind == "Secret":
        data |= {k: base64.b64decode(v).decode() for k, v in (obj.get("data") or {}).items()}
    else:
        data |= {k: str(v) for k, v in (obj.get("data") or {}).items()}
    return data


# ---------------------------------------------------------------- workloads


@dataclass
class Probe:
    kind: str  # httpGet | grpc | exec
    port: int = 0
    path: str = ""
    service: str = ""
    command: list[str] = field(default_factory=list)
    period: float = 10
    timeout: float = 1
    failures: int = 3


@dataclass
class Workload:
    """One container of one pod template, as the chart declares it."""

    kind: str  # Deployment | StatefulSet | Job
    name: str  # the Kubernetes object's name; the network alias
    image: str
    args: list[str]
    command: list[str] | None
    env: dict[str, str]
    user: str
    groups: list[int]
    read_only: bool
    cap_drop: list[str]
    no_new_privileges: bool
    tmpfs: dict[str, int]  # path -> size in MiB (0: unlimited)
    files: dict[str, dict[str, str]]  # path -> file name -> content (read-only)
    memory: str | None
    ports: dict[str, int]
    startup: Probe | None
    readiness: Probe | None
    liveness: Probe | None
    pre_stop: list[str] | None
    grace: int
    backoff: int = 0


def _mebibytes(quantity: str | None) -> int:
    if not quantity:
        return 0
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    for unit, factor in units.items():
        if quantity.endswith(unit):
            return max(1, int(float(quantity[: -len(unit)]) * factor))
    return max(1, int(quantity) // (1024 * 1024))


def _probe(spec: dict[str, Any] | None, ports: dict[str, int]) -> Probe | None:
    if not spec:
        return None
    common = {
        "period": spec.get("periodSeconds", 10),
        "timeout": spec.get("timeoutSeconds", 1),
        "failures": spec.get("failureThreshold", 3),
    }

    def port(value: Any) -> int:
        return ports[value] if isinstance(value, str) else int(value)

    if "httpGet" in spec:
        http = spec["httpGet"]
        return Probe("httpGet", port=port(http["port"]), path=http.get("path", "/"), **common)
    if "grpc" in spec:
        grpc_ = spec["grpc"]
        return Probe("grpc", port=port(grpc_["port"]), service=grpc_.get("service", ""), **common)
    if "exec" in spec:
        return Probe("exec", command=list(spec["exec"]["command"]), **common)
    raise ValueError(f"a probe this runner does not know: {spec}")


def workload(manifests: list[Manifest], obj: Manifest) -> Workload:
    pod = obj["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    pod_security = pod.get("securityContext") or {}
    security = container.get("securityContext") or {}

    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        if "configMapRef" in source:
            env |= _data(manifests, "ConfigMap", source["configMapRef"]["name"])
        if "secretRef" in source:
            env |= _data(manifests, "Secret", source["secretRef"]["name"])
    for var in container.get("env") or []:
        if "value" in var:
            env[var["name"]] = str(var["value"])
            continue
        ref = var["valueFrom"]
        if "secretKeyRef" in ref:
            key = ref["secretKeyRef"]
            env[var["name"]] = _data(manifests, "Secret", key["name"])[key["key"]]
        elif "configMapKeyRef" in ref:
            key = ref["configMapKeyRef"]
            env[var["name"]] = _data(manifests, "ConfigMap", key["name"])[key["key"]]
        else:
            raise ValueError(f"{obj['metadata']['name']}: an env source this runner lacks: {var}")

    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    claims = {c["metadata"]["name"]: c for c in obj["spec"].get("volumeClaimTemplates") or []}
    tmpfs: dict[str, int] = {}
    files: dict[str, dict[str, str]] = {}
    for mount in container.get("volumeMounts") or []:
        path, name = mount["mountPath"], mount["name"]
        if name in claims:
            size = claims[name]["spec"]["resources"]["requests"]["storage"]
            tmpfs[path] = _mebibytes(size)
        elif "emptyDir" in volumes[name]:
            tmpfs[path] = _mebibytes((volumes[name]["emptyDir"] or {}).get("sizeLimit"))
        elif "configMap" in volumes[name]:
            files[path] = _data(manifests, "ConfigMap", volumes[name]["configMap"]["name"])
        else:
            raise ValueError(f"{obj['metadata']['name']}: a volume this runner lacks: {name}")

    ports = {p["name"]: p["containerPort"] for p in container.get("ports") or []}
    uid = security.get("runAsUser", pod_security.get("runAsUser"))
    gid = security.get("runAsGroup", pod_security.get("runAsGroup", uid))
    pre_stop = (container.get("lifecycle") or {}).get("preStop")
    return Workload(
        kind=obj["kind"],
        name=obj["metadata"]["name"],
        image=container["image"],
        args=[str(a) for a in container.get("args") or []],
        command=container.get("command"),
        env=env,
        user=f"{uid}:{gid}" if uid is not None else "",
        groups=[pod_security["fsGroup"]] if "fsGroup" in pod_security else [],
        read_only=bool(security.get("readOnlyRootFilesystem")),
        cap_drop=list((security.get("capabilities") or {}).get("drop") or []),
        no_new_privileges=security.get("allowPrivilegeEscalation") is False,
        tmpfs=tmpfs,
        files=files,
        memory=((container.get("resources") or {}).get("limits") or {}).get("memory"),
        ports=ports,
        startup=_probe(container.get("startupProbe"), ports),
        readiness=_probe(container.get("readinessProbe"), ports),
        liveness=_probe(container.get("livenessProbe"), ports),
        pre_stop=list(pre_stop["exec"]["command"]) if pre_stop else None,
        grace=int(pod.get("terminationGracePeriodSeconds", 30)),
        backoff=int(obj["spec"].get("backoffLimit", 0)) if obj["kind"] == "Job" else 0,
    )


def workloads(manifests: list[Manifest]) -> dict[str, Workload]:
    return {
        m["metadata"]["name"]: workload(manifests, m)
        for m in manifests
        if m["kind"] in {"Deployment", "StatefulSet", "Job"}
    }


def migrate_job(loads: dict[str, Workload], service: str) -> Workload:
    (job,) = [w for n, w in loads.items() if n.startswith(f"{RELEASE}-{service}-migrate")]
    return job


# ---------------------------------------------------------------- the run


class NotReady(RuntimeError):
    pass


class ContainerPlatform:
    """The platform's containers on a network of their own (`run` names
    both, so parallel runs never meet)."""

    def __init__(self, loads: dict[str, Workload], publish_gateway: int | None = None) -> None:
        self.engine, self.env = engine()
        if not self.engine:
            raise RuntimeError("neither docker nor podman is installed")
        self.loads = loads
        self.run_id = f"liaison-{uuid.uuid4().hex[:6]}"
        self.network = self.run_id
        self.publish_gateway = publish_gateway
        self.started: list[str] = []
        self.files_dir = Path(tempfile.mkdtemp(prefix=f"{self.run_id}-"))
        self.files_dir.chmod(0o755)  # the containers' users read the files below
        self.timings: dict[str, float] = {}

    # -- the engine

    def cli(self, *args: str, check: bool = True, timeout: float = 600) -> str:
        done = subprocess.run(
            [self.engine, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env,
            check=False,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"{self.engine} {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout.strip()

    def container(self, name: str) -> str:
        return f"{self.run_id}-{name}"

    def ip(self, name: str) -> str:
        out = self.cli(
            "inspect",
            "--format",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
            self.container(name),
        )
        return out.split()[0]

    def running(self, name: str) -> bool:
        out = self.cli(
            "inspect", "--format", "{{.State.Running}}", self.container(name), check=False
        )
        return out == "true"

    def logs(self, name: str, tail: int = 40) -> str:
        return self.cli("logs", "--tail", str(tail), self.container(name), check=False)

    def resolve(self, name: str, paths: Iterable[str]) -> list[str]:
        """These paths with their symbolic links resolved, in the container."""
        out = self.cli("exec", self.container(name), "readlink", "-f", *paths)
        return sorted(out.splitlines())

    def inspect(self, name: str) -> dict[str, Any]:
        """How the container runs: its engine's record and its first process."""
        (record,) = json.loads(self.cli("inspect", self.container(name)))
        host = record["HostConfig"]
        # The tmpfs mounts the process sees, but the engine's own (/dev, /sys, ...).
        mounts = self.cli("exec", self.container(name), "cat", "/proc/1/mounts").splitlines()
        tmpfs = {
            fields[1]
            for fields in (line.split() for line in mounts)
            if fields[2] == "tmpfs"
            and not fields[1].startswith(("/dev", "/sys", "/proc"))
            and fields[1] not in ENGINE_FILES
        }
        status = dict(
            line.split(":", 1)
            for line in self.cli("exec", self.container(name), "cat", "/proc/1/status").splitlines()
            if ":" in line
        )
        uid, gid = status["Uid"].split()[0], status["Gid"].split()[0]
        return {
            "user": f"{uid}:{gid}",
            "groups": sorted(int(g) for g in status["Groups"].split()),
            "effective_caps": int(status["CapEff"], 16),
            "bounding_caps": int(status["CapBnd"], 16),
            "no_new_privs": status["NoNewPrivs"].strip() == "1",
            "read_only": bool(host["ReadonlyRootfs"]),
            "tmpfs": sorted(tmpfs),
            "binds": sorted(
                m["Destination"] for m in record.get("Mounts") or [] if m.get("Type") == "bind"
            ),
            "args": list(record["Config"]["Cmd"] or []),
            "memory_mib": int(host.get("Memory") or 0) // (1024 * 1024),
        }

    def exit_code(self, name: str) -> int:
        return int(self.cli("inspect", "--format", "{{.State.ExitCode}}", self.container(name)))

    # -- containers as the chart declares them

    def run_argv(self, w: Workload, name: str, args: list[str] | None = None) -> list[str]:
        argv = ["run", "--name", self.container(name), "--network", self.network]
        argv += ["--network-alias", w.name, "--hostname", w.name]
        if w.user:
            argv += ["--user", w.user]
        for group in w.groups:
            argv += ["--group-add", str(group)]
        if w.read_only:
            argv.append("--read-only")
            if self.engine == "podman":
                # podman adds writable /tmp, /var/tmp and /run to a read-only
                # container unless told not to; Kubernetes adds nothing.
                argv.append("--read-only-tmpfs=false")
        for cap in w.cap_drop:
            argv += ["--cap-drop", cap]
        if w.no_new_privileges:
            argv += ["--security-opt", "no-new-privileges"]
        for path, size in w.tmpfs.items():
            # Writable by the pod's user, as an emptyDir is: docker takes the
            # mode; podman keeps the image directory's mode and owner unless
            # told to give it to the container's user (U).
            mount = f"type=tmpfs,destination={path},tmpfs-mode=1777"
            mount += f",tmpfs-size={size}m" if size else ""
            mount += ",U=true" if self.engine == "podman" else ""
            argv += ["--mount", mount]
        for path, contents in w.files.items():
            directory = self.files_dir / f"{name}-{len(argv)}"
            directory.mkdir(mode=0o755)
            for file, text in contents.items():
                (directory / file).write_text(text)
                (directory / file).chmod(0o644)
            argv += ["-v", f"{directory}:{path}:ro"]
        if w.memory:
            argv += ["--memory", f"{_mebibytes(w.memory)}m"]
        for key, value in sorted(w.env.items()):
            argv += ["-e", f"{key}={value}"]
        if w.name == f"{RELEASE}-gateway" and self.publish_gateway:
            argv += ["-p", f"127.0.0.1:{self.publish_gateway}:{w.ports['http']}"]
        if w.command:
            argv += ["--entrypoint", w.command[0]]
        argv.append(w.image)
        argv += (w.command or [])[1:] + (args if args is not None else w.args)
        return argv

    def run_job(self, w: Workload, name: str, args: list[str] | None = None) -> None:
        """A Job's container to completion, retried up to its backoffLimit."""
        for attempt in range(w.backoff + 1):
            container = f"{name}-{attempt}"
            self.started.append(container)
            started = time.monotonic()
            done = subprocess.run(
                [self.engine, *self.run_argv(w, container, args)],
                capture_output=True,
                text=True,
                env=self.env,
                timeout=600,
                check=False,
            )
            self.timings[name] = time.monotonic() - started
            if done.returncode == 0:
                return
            print(f"{name} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
            time.sleep(2**attempt)
        raise NotReady(f"{name} did not complete")

    def start(self, w: Workload) -> None:
        self.started.append(w.name)
        started = time.monotonic()
        argv = self.run_argv(w, w.name)
        self.cli(argv[0], "-d", *argv[1:])
        self.wait_ready(w)
        self.timings[w.name] = time.monotonic() - started

    # -- probes, as the kubelet runs them

    def probe(self, w: Workload, probe: Probe) -> bool:
        if probe.kind == "exec":
            return _ok_timeout(
                [self.engine, "exec", self.container(w.name), *probe.command],
                self.env,
                probe.timeout,
            )
        address = f"{self.ip(w.name)}:{probe.port}"
        if probe.kind == "httpGet":
            return http_ok(f"http://{address}{probe.path}", probe.timeout)
        return grpc_serving(address, probe.service, probe.timeout)

    def wait_probe(self, w: Workload, probe: Probe | None, failures: int | None = None) -> None:
        if probe is None:
            return
        allowed = failures if failures is not None else probe.failures
        for _ in range(allowed):
            if not self.running(w.name):
                raise NotReady(f"{w.name} exited:\n{self.logs(w.name)}")
            if self.probe(w, probe):
                return
            time.sleep(probe.period)
        raise NotReady(
            f"{w.name}: its {probe.kind} probe failed {allowed} times:\n{self.logs(w.name)}"
        )

    def wait_ready(self, w: Workload) -> None:
        self.wait_probe(w, w.startup)
        # Readiness has no failure budget at start: wait as long as a
        # startup probe would (Kubernetes keeps a pod out of its Service).
        budget = w.startup.failures * w.startup.period if w.startup else 60
        if w.readiness:
            self.wait_probe(w, w.readiness, max(1, int(budget / w.readiness.period)))

    def check_liveness(self) -> dict[str, bool]:
        return {
            name: self.probe(w, w.liveness)
            for name, w in self.loads.items()
            if w.kind != "Job" and w.liveness and name in self.started
        }

    # -- the whole platform

    def up(self) -> None:
        self.cli("network", "create", self.network)
        for name in (f"{RELEASE}-postgresql", f"{RELEASE}-rabbitmq"):
            if name in self.loads:
                self.start(self.loads[name])
        # Every migrate Job first, as the chart's pre-install hooks run before
        # any Deployment: a migrate that declares its worker's queues does so
        # before another service's demo publishes the events they hold.
        for service in service_names():
            self.run_job(migrate_job(self.loads, service), f"{service}-migrate")
        for service in service_names():
            api = self.loads[f"{RELEASE}-{service}-api"]
            self.run_job(api, f"{service}-demo", [f"{service}.cli", "load-demo", "--if-empty"])
            self.start(api)
            self.start(self.loads[f"{RELEASE}-{service}-worker"])
        self.start(self.loads[f"{RELEASE}-gateway"])

    def gateway_url(self) -> str:
        gateway = self.loads[f"{RELEASE}-gateway"]
        return f"http://{self.ip(gateway.name)}:{gateway.ports['http']}"

    def stop(self, name: str) -> tuple[float, int]:
        """Stop one container as the kubelet does: preStop, then SIGTERM,
        then SIGKILL at the end of the grace period. Seconds taken, exit code."""
        w = self.loads[name]
        started = time.monotonic()
        if w.pre_stop:
            _ok_timeout([self.engine, "exec", self.container(name), *w.pre_stop], self.env, w.grace)
        left = max(1, int(w.grace - (time.monotonic() - started)))
        self.cli("stop", "-t", str(left), self.container(name), timeout=w.grace + 30)
        return time.monotonic() - started, self.exit_code(name)

    def down(self) -> None:
        for name in reversed(self.started):
            self.cli("rm", "-f", "-t", "0", self.container(name), check=False)
        self.cli("network", "rm", "-f", self.network, check=False)
        shutil.rmtree(self.files_dir, ignore_errors=True)


def report(platform: ContainerPlatform) -> str:
    """Each image's size and each container's seconds from start to ready."""
    lines = ["image sizes (MB):"]
    for image in sorted({w.image for w in platform.loads.values()}):
        size = platform.cli("image", "inspect", "--format", "{{.Size}}", image)
        lines.append(f"  {image}: {int(size) / 1e6:.0f}")
    lines.append("seconds from start to ready (Jobs: to completion):")
    lines += [f"  {name}: {seconds:.1f}" for name, seconds in platform.timings.items()]
    return "\n".join(lines)


def _ok_timeout(argv: list[str], env: dict[str, str], seconds: float) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=seconds, env=env).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def http_ok(url: str, timeout: float = 2) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= int(response.status) < 400
    except OSError:
        return False


def grpc_serving(address: str, service: str = "", timeout: float = 2) -> bool:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


@contextlib.contextmanager
def running_platform(publish_gateway: int | None = None) -> Iterator[ContainerPlatform]:
    """Base images, the images, the rendered chart, the platform up; down at the end."""
    images = base_images()
    build_images()
    platform = ContainerPlatform(workloads(render(images)), publish_gateway)
    try:
        platform.up()
        yield platform
    finally:
        platform.down()


def main() -> int:
    if sys.argv[1:] != ["up"]:
        print(__doc__)
        return 2
    port = int(os.environ.get("LIAISON_CONTAINERS_GATEWAY_PORT", "8080"))
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with running_platform(publish_gateway=port) as platform:
        print(
            "\nThe platform is up in containers, as the chart runs it.\n"
            f"  Portal and API: http://127.0.0.1:{port}/  (in the network: {platform.gateway_url()})\n"
            f"  Containers:     {platform.engine} ps --filter name={platform.run_id}\n"
            f"  Start seconds:  {json.dumps({k: round(v, 1) for k, v in platform.timings.items()})}\n"
            "Ctrl-C stops everything.\n",
            flush=True,
        )
        while not stopping.wait(5):
            dead = [n for n in platform.loads if n in platform.started and not platform.running(n)]
            if dead:
                print(f"stopped by itself: {', '.join(dead)}")
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
