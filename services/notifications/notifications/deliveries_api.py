"""The notifications service's DeliveryService: each RPC a thin translation
onto `notifications.deliveries_service.Deliveries`, passing the verified
caller; the use cases check the role."""

from __future__ import annotations

from typing import TypeAlias

import grpc

from kit.auth import current_principal
from liaison.notifications.v1 import deliveries_pb2 as pb
from liaison.notifications.v1 import deliveries_pb2_grpc as pb_grpc
from notifications.deliveries_service import Deliveries

Ctx: TypeAlias = grpc.ServicerContext
DELIVERY_SERVICE_NAME = pb.DESCRIPTOR.services_by_name["DeliveryService"].full_name


class DeliveryServicer(pb_grpc.DeliveryServiceServicer):
    def __init__(self, deliveries: Deliveries) -> None:
        self.deliveries = deliveries

    def ListDeliveries(
        self, request: pb.ListDeliveriesRequest, context: Ctx
    ) -> pb.ListDeliveriesResponse:
        found, info = self.deliveries.list(request, current_principal())
        return pb.ListDeliveriesResponse(deliveries=found, page=info)

    def GetDelivery(self, request: pb.GetDeliveryRequest, context: Ctx) -> pb.DeliveryRecord:
        return self.deliveries.get(request, current_principal())

    def RetryDelivery(self, request: pb.RetryDeliveryRequest, context: Ctx) -> pb.DeliveryRecord:
        return self.deliveries.retry(request, current_principal())


def with_deliveries(server: grpc.Server, deliveries: Deliveries) -> grpc.Server:
    """Add the servicer to a server built for the notifications service."""
    pb_grpc.add_DeliveryServiceServicer_to_server(DeliveryServicer(deliveries), server)
    return server
