"""The benchmark's baseline: find-station as a plain monolith would serve it.

A FastAPI app over SQLAlchemy (asyncio, psycopg 3, a connection pool per
worker), run with uvicorn and two workers, answering
`GET /api/v1/find-station?address=…` from PostgreSQL on every request:
no cache, no in-memory model. It reads the registry's own tables.

Per request, three queries:

1. which community the address names: every active community's address
   keywords, its name and its name without 社区 / 居委会 / 社区居委会, kept
   where the address contains them; the longest term wins, and equally long
   matches of several communities are ambiguous (409), as the registry's
   rule says. The match is the address containing a term, which no index
   serves: PostgreSQL reads the few hundred terms of a district each time.
2. the community, the station serving it (the active one of highest id,
   should two serve it, as the registry's model picks), its venue and
   street: one join over primary keys, the station's communities and the
   community's keywords as arrays;
3. the deputies to show: those of the station and the community's contact
   deputies, with their profile fields (street and station names, expertise,
   contact communities, whether they head the station), over the
   registry's indexes on deputies.station_id, deputy_contact_communities
   and positions.station_id.

The answer is the API's FindStationResult (the pydantic models of
`gateway.schemas`, validated and serialised by FastAPI on every request, as
a plain app does with its own models). `GET /api/v1/find-station-prepared`
answers the bytes of the file named by BASELINE_PREPARED_BODY whatever the
query: the same app and server with no work at all, the machine's ceiling.

| variable                | meaning                                      |
|-------------------------|----------------------------------------------|
| BASELINE_DATABASE_URL   | the registry's database (postgresql://…)     |
| BASELINE_PREPARED_BODY  | a file whose bytes the prepared route sends  |
| BASELINE_POOL_SIZE      | connections per worker (default 10, +5 more) |
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request, Response
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from gateway.schemas import (
    Community,
    DeputyProfile,
    FindStationResult,
    Station,
    StationDeputy,
    Street,
    Venue,
)

LEVELS = ("national", "provincial", "city", "district")

MATCH = text(
    """
    SELECT t.community_id, max(char_length(t.term)) AS length
    FROM (
        SELECT community_id, keyword AS term FROM community_keywords
        UNION ALL SELECT id, name FROM communities
        UNION ALL SELECT id, left(name, -2) FROM communities
            WHERE name LIKE '%社区' AND char_length(name) > 3
        UNION ALL SELECT id, left(name, -3) FROM communities
            WHERE name LIKE '%居委会' AND char_length(name) > 4
        UNION ALL SELECT id, left(name, -5) FROM communities
            WHERE name LIKE '%社区居委会' AND char_length(name) > 6
    ) AS t
    JOIN communities AS c ON c.id = t.community_id AND c.active
    WHERE t.term <> '' AND strpos(:address, t.term) > 0
    GROUP BY t.community_id
    ORDER BY length DESC, t.community_id
    LIMIT 20
    """
)

PLACE = text(
    """
    SELECT
        c.id AS c_id, c.code AS c_code, c.name AS c_name, c.street_id AS c_street_id,
        c.area_id AS c_area_id, c.active AS c_active,
        c.created_at AS c_created_at, c.updated_at AS c_updated_at,
        ARRAY(SELECT k.keyword FROM community_keywords AS k
              WHERE k.community_id = c.id ORDER BY k.id) AS c_keywords,
        s.id AS s_id, s.code AS s_code, s.name AS s_name, s.area_id AS s_area_id,
        s.street_id AS s_street_id, s.venue_id AS s_venue_id, s.opened_on AS s_opened_on,
        s.active AS s_active, s.created_at AS s_created_at, s.updated_at AS s_updated_at,
        ARRAY(SELECT x.community_id FROM station_communities AS x
              WHERE x.station_id = s.id ORDER BY x.community_id) AS s_communities,
        v.id AS v_id, v.code AS v_code, v.name AS v_name, v.address AS v_address,
        v.street_id AS v_street_id, v.capacity AS v_capacity,
        v.opening_hours AS v_opening_hours, v.active AS v_active,
        v.created_at AS v_created_at, v.updated_at AS v_updated_at,
        st.id AS st_id, st.code AS st_code, st.name AS st_name, st.active AS st_active,
        st.created_at AS st_created_at, st.updated_at AS st_updated_at
    FROM communities AS c
    LEFT JOIN station_communities AS sc ON sc.community_id = c.id
        AND sc.station_id IN (SELECT id FROM stations WHERE active)
    LEFT JOIN stations AS s ON s.id = sc.station_id
    LEFT JOIN venues AS v ON v.id = s.venue_id AND v.active
    LEFT JOIN streets AS st ON st.id = s.street_id AND st.active
    WHERE c.id = :community_id
    ORDER BY s.id DESC NULLS LAST
    LIMIT 1
    """
)

DEPUTIES = text(
    """
    SELECT
        d.id, d.code, d.name, d.gender, d.level, d.term, d.street_id,
        coalesce(dst.name, '') AS street_name, d.station_id,
        coalesce(ds.name, '') AS station_name, d.profession, d.biography, d.active,
        ARRAY(SELECT e.tag FROM deputy_expertise AS e
              WHERE e.deputy_id = d.id ORDER BY e.id) AS expertise,
        ARRAY(SELECT x.community_id FROM deputy_contact_communities AS x
              WHERE x.deputy_id = d.id ORDER BY x.community_id) AS contact_community_ids,
        d.station_id IS NOT DISTINCT FROM :station_id AS at_station,
        EXISTS(SELECT 1 FROM deputy_contact_communities AS x
               WHERE x.deputy_id = d.id AND x.community_id = :community_id) AS is_contact,
        EXISTS(SELECT 1 FROM positions AS p
               WHERE p.station_id = :station_id AND p.deputy_id = d.id
                 AND p.role = 'station_head' AND p.ended_on IS NULL) AS is_station_head
    FROM deputies AS d
    LEFT JOIN streets AS dst ON dst.id = d.street_id
    LEFT JOIN stations AS ds ON ds.id = d.station_id
    WHERE d.active AND (
        d.station_id = :station_id
        OR d.id IN (SELECT deputy_id FROM deputy_contact_communities
                    WHERE community_id = :community_id)
    )
    ORDER BY d.code
    """
)


# -- the question


def _columns(row: Any, prefix: str) -> dict[str, Any]:
    return {k[len(prefix) :]: v for k, v in row._mapping.items() if k.startswith(prefix)}


async def find_station(conn: AsyncConnection, address: str) -> FindStationResult:
    """The station for an address, read from the registry's tables; HTTPException
    404 / 409 / 422 as the registry answers."""
    address = "".join(address.split())
    if len(address) < 2:
        raise HTTPException(422, "give at least a road, estate or community name")
    matches = (await conn.execute(MATCH, {"address": address})).all()
    if not matches:
        raise HTTPException(404, "no community of the district is named in the address")
    top = [m.community_id for m in matches if m.length == matches[0].length]
    if len(top) > 1:
        raise HTTPException(409, "the address could be in several communities")
    community_id = top[0]
    place = (await conn.execute(PLACE, {"community_id": community_id})).one()
    if place.s_id is None:
        raise HTTPException(404, "no active liaison station serves this community yet")
    rows = (
        await conn.execute(DEPUTIES, {"station_id": place.s_id, "community_id": community_id})
    ).all()
    c, s, v, st = (_columns(place, p) for p in ("c_", "s_", "v_", "st_"))
    profiles = [(row, DeputyProfile.model_validate(dict(row._mapping))) for row in rows]
    at_station = sorted(
        ((row, p) for row, p in profiles if row.at_station),
        key=lambda rp: (LEVELS.index(rp[0].level), rp[0].code),
    )
    return FindStationResult(
        community=Community.model_validate({**c, "address_keywords": c["keywords"]}),
        station=Station.model_validate({**s, "community_ids": s["communities"]}),
        venue=Venue.model_validate(v) if v["id"] is not None else None,
        street=Street.model_validate(st) if st["id"] is not None else None,
        deputies=[
            StationDeputy(deputy=p, is_station_head=row.is_station_head) for row, p in at_station
        ],
        contact_deputies=[p for row, p in profiles if row.is_contact],
    )


def engine_for(database_url: str, pool_size: int = 10) -> AsyncEngine:
    url = make_url(database_url).set(drivername="postgresql+psycopg")
    return create_async_engine(url, pool_size=pool_size, max_overflow=5, pool_pre_ping=False)


def create_app() -> FastAPI:
    database_url = os.environ["BASELINE_DATABASE_URL"]
    pool_size = int(os.environ.get("BASELINE_POOL_SIZE", "10"))
    prepared_path = os.environ.get("BASELINE_PREPARED_BODY")
    prepared = Path(prepared_path).read_bytes() if prepared_path else b"{}"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = engine_for(database_url, pool_size)
        yield
        await app.state.engine.dispose()

    app = FastAPI(title="find-station baseline", lifespan=lifespan)

    @app.get("/api/v1/find-station", response_model=FindStationResult)
    async def find(
        request: Request, address: Annotated[str, Query(min_length=2, max_length=300)]
    ) -> FindStationResult:
        async with request.app.state.engine.connect() as conn:
            return await find_station(conn, address)

    @app.get("/api/v1/find-station-prepared")
    async def find_prepared(
        address: Annotated[str, Query(min_length=2, max_length=300)],
    ) -> Response:
        return Response(prepared, media_type="application/json")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
