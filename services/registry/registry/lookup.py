"""Which community a FindStation request names: by id, by code, or by an
address naming it. One rule, used where the registry answers and where the
gateway's public directory answers in its place, so both answer alike."""

from __future__ import annotations

from collections.abc import Iterable

from kit.errors import FailedPrecondition, NotFound, invalid
from liaison.registry.v1 import registry_pb2 as pb
from registry import domain


class CommunityIndex:
    """The active communities, as a request can name them."""

    def __init__(self, communities: Iterable[tuple[int, str, str, Iterable[str]]]) -> None:
        """`communities`: (id, code, name, address keywords) of each active one."""
        self.names: dict[int, str] = {}
        self.by_code: dict[str, int] = {}
        self.terms: list[domain.CommunityTerms] = []
        for cid, code, name, keywords in communities:
            self.names[cid] = name
            self.by_code[code] = cid
            self.terms.append(domain.CommunityTerms(cid, name, tuple(keywords)))

    def community_for(self, request: pb.FindStationRequest) -> int:
        by = request.WhichOneof("by")
        if by == "community_id":
            if request.community_id not in self.names:
                raise NotFound(f"no active community has id {request.community_id}")
            return request.community_id
        if by == "community_code":
            found = self.by_code.get(request.community_code)
            if found is None:
                raise NotFound(f"no active community has code {request.community_code!r}")
            return found
        if by == "address":
            address = request.address.strip()
            if len(address) < 2:
                raise invalid("address", "give at least a road, estate or community name")
            matches = domain.match_community(address, self.terms)
            if not matches:
                raise NotFound("no community of the district is named in the address")
            if len(matches) > 1:
                names = "、".join(self.names[c] for c in matches)
                raise FailedPrecondition(
                    f"the address could be in {names}: add the community or estate name"
                )
            return matches[0]
        raise invalid("by", "give community_id, community_code or address")
