"""The read model of the registry converges to the registry's state, on real
PostgreSQL and RabbitMQ.

The registry and the reception service run as processes, with their demo
data (the reception's demo loads the registry's snapshot, then schedules
the district's calendar). Writes through the registry's gRPC API (a street
of the test's own, stations handed communities and taken them back,
deputies moved and retired, heads appointed and leaving, a venue changed, a
station closed) publish events on `registry.events`. Then:

- the events as the broker delivered them, each twice and all shuffled, go
  through kit's idempotent consumer into a read model of the test's own,
  loaded from the snapshot taken before the writes: it must equal a fresh
  snapshot of the registry;
- the reception worker, consuming the same events, brings the running
  service's read model to the same state.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from sqlalchemy import func, select

from kit.auth import Principal
from kit.db import Database
from kit.events import Envelope
from kit.grpc_client import channel, with_bearer
from kit.inbox import DeadLetterPublisher, Inbox
from kit.migrations import upgrade
from kit.tables import outbox_events
from kit.testrun import Broker, Platform, own_vhost, running_platform
from liaison.registry.v1 import registry_pb2 as rpb
from liaison.registry.v1 import registry_pb2_grpc as rpb_grpc
from reception import domain, models
from reception.bootstrap import MIGRATIONS
from reception.readmodel import APPLY, apply_event, apply_snapshot, load_from_registry
from reception.service import Reception
from registry.testing import Town, unique

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

SEED = 20261126
BY_TYPE = {message.DESCRIPTOR.full_name: message for message in APPLY}


@pytest.fixture(scope="module")
def vhost_uri(amqp_uri: str) -> Iterator[str]:
    """A broker of the module's own: the reception's durable queues hear no
    other test run's registry."""
    with own_vhost(amqp_uri) as uri:
        yield uri


@pytest.fixture(scope="module")
def platform(postgres_admin_url: str, vhost_uri: str) -> Iterator[Platform]:
    env = {"LIAISON_AMQP_URI": vhost_uri}
    with running_platform(["registry", "reception"], gateway=False, extra_env=env) as running:
        yield running


@pytest.fixture
def broker(vhost_uri: str) -> Iterator[Broker]:
    helper = Broker(vhost_uri)
    yield helper
    helper.cleanup()


def registry_stubs(platform: Platform) -> tuple[Any, Any]:
    ch = channel(platform.grpc_target("registry"))
    admin = rpb_grpc.RegistryServiceStub(with_bearer(ch, platform.token("admin")))
    return admin, rpb_grpc.RegistryServiceStub(ch)


def write(stub: Any) -> None:
    """Changes of every kind the read model follows."""
    town = Town(stub)
    c1 = town.add_community("测试一社区", [unique("路")])
    c2 = town.add_community("测试二社区", [unique("路")])
    one = town.station
    two = town.add_station(2, [c1.id])

    def update_station(station_id: int, **fields: Any) -> None:
        stub.UpdateStation(
            rpb.UpdateStationRequest(
                station=rpb.Station(id=station_id, **fields), update_mask=FieldMask(paths=[*fields])
            )
        )

    update_station(one.id, community_ids=[c2.id])
    update_station(two.id, community_ids=[])  # c1 leaves station two...
    update_station(one.id, community_ids=[c1.id, c2.id])  # ...for station one
    d1 = town.add_deputy(station=one)
    d2 = town.add_deputy(station=two)
    town.fill(rpb.POSITION_ROLE_STATION_HEAD, station_id=one.id, deputy_id=d1.id)
    deputy_head = town.fill(
        rpb.POSITION_ROLE_STATION_DEPUTY_HEAD, station_id=one.id, holder_name="居委会副主任"
    )
    town.fill(rpb.POSITION_ROLE_STATION_DEPUTY_HEAD, station_id=two.id, holder_name="居委会委员")
    stub.UpdateDeputy(
        rpb.UpdateDeputyRequest(
            deputy=rpb.Deputy(id=d2.id, station_id=one.id, expertise=["城建", "教育"]),
            update_mask=FieldMask(paths=["station_id", "expertise"]),
        )
    )
    stub.UpdateVenue(
        rpb.UpdateVenueRequest(
            venue=rpb.Venue(id=town.venue.id, opening_hours="每月15日 9:30-11:30", capacity=45),
            update_mask=FieldMask(paths=["opening_hours", "capacity"]),
        )
    )
    stub.VacatePosition(rpb.VacatePositionRequest(id=deputy_head.id, reason="换届"))
    stub.DeactivateDeputy(rpb.DeactivateRequest(id=d1.id, reason="调离"))  # and leaves the head
    stub.DeactivateStation(rpb.DeactivateRequest(id=two.id, reason="合并"))
    update_station(one.id, name=f"{one.name}（新址）")
    # And a record of the demo district.
    stub.UpdateStation(
        rpb.UpdateStationRequest(
            station=rpb.Station(id=1, name="林和街第一联络站（更名）"),
            update_mask=FieldMask(paths=["name"]),
        )
    )


# ---------------------------------------------------------------- the states compared


def expected(chunks: list[rpb.DirectoryChunk]) -> dict[str, dict[int, Any]]:
    """What the read model must hold, from a snapshot of the registry."""
    state: dict[str, dict[int, Any]] = {k: {} for k in ("stations", "venues", "communities",
                                                        "deputies", "heads")}  # fmt: skip
    levels = {v.number: v.name.removeprefix("DEPUTY_LEVEL_").lower()
              for v in rpb.DeputyLevel.DESCRIPTOR.values}  # fmt: skip
    roles = {v.number: v.name.removeprefix("POSITION_ROLE_").lower()
             for v in rpb.PositionRole.DESCRIPTOR.values}  # fmt: skip
    for c in chunks:
        for s in c.stations:
            state["stations"][s.id] = (
                s.name,
                s.street_id,
                s.venue_id,
                tuple(sorted(s.community_ids)),
            )
        for v in c.venues:
            state["venues"][v.id] = (v.name, v.address, v.capacity, v.opening_hours)
        for m in c.communities:
            state["communities"][m.id] = (m.name, m.street_id)
        for d in c.deputies:
            state["deputies"][d.id] = (d.name, d.station_id, levels[d.level], tuple(d.expertise))
        for h in [*c.station_heads, *c.deputy_heads]:
            state["heads"][h.position_id] = (roles[h.role], h.station_id, h.deputy_id)
    return state


def held(db: Database) -> dict[str, dict[int, Any]]:
    """What the read model holds as current."""
    with db.read() as session:

        def active(model: Any) -> list[Any]:
            return list(session.scalars(select(model).where(model.active.is_(True))))

        return {
            "stations": {
                s.id: (
                    s.name,
                    s.street_id,
                    s.venue_id or 0,
                    tuple(sorted(c.community_id for c in s.served)),
                )
                for s in active(models.RegistryStation)
            },  # fmt: skip
            "venues": {
                v.id: (v.name, v.address, v.capacity, v.opening_hours)
                for v in active(models.RegistryVenue)
            },
            "communities": {m.id: (m.name, m.street_id) for m in active(models.RegistryCommunity)},
            "deputies": {
                d.id: (d.name, d.station_id or 0, d.level, tuple(d.expertise))
                for d in active(models.RegistryDeputy)
            },
            "heads": {
                p.id: (p.role, p.station_id, p.deputy_id or 0)
                for p in session.scalars(
                    select(models.RegistryPosition).where(
                        models.RegistryPosition.ended_on.is_(None)
                    )
                )
            },
        }


def listen(broker: Broker) -> str:
    """A queue of the test's own on `registry.events`. Unlike
    `Broker.bind_events`, the exchange is not deleted after: the reception
    worker's queues stay bound to it."""
    queue = f"registry.test-{unique('q')}"
    broker.forget_later(queues=(queue,))
    broker.channel.exchange_declare(
        exchange="registry.events", type="topic", durable=True, auto_delete=False
    )
    broker.channel.queue_declare(queue=queue, durable=True, auto_delete=False)
    broker.channel.queue_bind(queue=queue, exchange="registry.events", routing_key="#")
    return queue


def published(platform: Platform, broker: Broker, queue: str) -> list[dict[str, Any]]:
    """Every event the registry has written, once its relay has sent them all."""
    registry_db = Database(platform.services["registry"].database_url, "registry")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with registry_db.read() as session:
                unsent = session.scalar(
                    select(func.count())
                    .select_from(outbox_events)
                    .where(outbox_events.c.sent_at.is_(None))
                )
            if not unsent:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the registry's relay did not send its events")
    finally:
        registry_db.dispose()
    return [json.loads(m.body) for m in broker.drain(queue, settle=1.0)]


def test_events_redelivered_and_out_of_order_converge(
    platform: Platform, broker: Broker, make_database: Any, vhost_uri: str
) -> None:
    admin, anonymous = registry_stubs(platform)
    queue = listen(broker)  # before the snapshot: no event is missed
    db = Database(make_database(), "reception")
    try:
        upgrade(db, MIGRATIONS)
        before = load_from_registry(db, anonymous)

        write(admin)
        bodies = [b for b in published(platform, broker, queue) if b["sequence"] > before]
        followed = [b for b in bodies if b["payload_type"] in BY_TYPE]
        assert len(followed) >= 20
        assert {b["type"] for b in followed} >= {
            "station_changed", "venue_changed", "community_changed", "deputy_registered",
            "deputy_updated", "deputy_reassigned", "deputy_deactivated", "position_filled",
            "position_vacated",
        }  # fmt: skip

        deliveries = [*bodies, *bodies]  # every event delivered twice...
        random.Random(SEED).shuffle(deliveries)  # ...and in no order
        assert [b["sequence"] for b in deliveries] != sorted(b["sequence"] for b in deliveries)
        inbox = Inbox(db, max_retries=3, dead_letters=DeadLetterPublisher(vhost_uri))
        outcomes = []
        for body in deliveries:

            def effect(uow: Any, envelope: Envelope) -> None:
                message = envelope.payload_as(BY_TYPE[envelope.payload_type])
                apply_event(uow.session, message, envelope.sequence)

            if body["payload_type"] in BY_TYPE:
                outcomes.append(
                    inbox.handle(body, handler=f"test.{body['type']}", queue=queue, effect=effect)
                )
        assert outcomes.count("duplicate") == len(followed)
        assert outcomes.count("handled") == len(followed)

        after = list(anonymous.StreamDirectory(rpb.StreamDirectoryRequest()))
        assert after[0].version >= max(b["sequence"] for b in bodies)
        assert held(db) == expected(after)

        # A snapshot older than what the events brought changes nothing.
        with db.unit_of_work() as uow:
            old = [rpb.DirectoryChunk(version=before, last=True)]
            apply_snapshot(uow.session, old)
        assert held(db) == expected(after)
    finally:
        db.dispose()


def test_the_worker_keeps_the_services_read_model_and_the_demo_calendar(
    platform: Platform,
) -> None:
    admin, anonymous = registry_stubs(platform)
    db = Database(platform.services["reception"].database_url, "reception")
    try:
        station = admin.GetStation(rpb.GetRequest(id=2))
        admin.UpdateStation(
            rpb.UpdateStationRequest(
                station=rpb.Station(id=2, name=f"{station.name}（新）"),
                update_mask=FieldMask(paths=["name"]),
            )
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            snapshot = expected(list(anonymous.StreamDirectory(rpb.StreamDirectoryRequest())))
            if held(db) == snapshot:
                break
            time.sleep(0.5)
        assert held(db) == snapshot
        assert held(db)["stations"][2][0].endswith("（新）")

        # The demo calendar: every active station's regular sessions from
        # January to three months ahead, each scheduled once.
        today = domain.today()
        stations = len(snapshot["stations"])
        assert stations >= 40
        with db.read() as session:
            regular = session.scalar(
                select(func.count())
                .select_from(models.ReceptionSession)
                .where(
                    models.ReceptionSession.kind == domain.REGULAR,
                    models.ReceptionSession.key_date >= date(today.year, 1, 1),
                )
            )
            extra = session.scalar(
                select(func.count())
                .select_from(models.ReceptionSession)
                .where(models.ReceptionSession.kind == domain.EXTRA)
            )
        # Stations added by the other test of this module get their sessions
        # from the worker's timer or not at all: at least the demo's.
        assert regular is not None and regular >= 40 * (today.month + 3)
        assert extra == 3
        again = Reception(db).schedule_ahead(Principal.system("test"))
        assert again.created == [] or all(s.station_id > 40 for s in again.created)
    finally:
        db.dispose()
