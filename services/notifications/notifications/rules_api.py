"""The notifications service's RuleService and TemplateService: each RPC a
thin translation onto `notifications.rules_service.RuleBook`, passing the
verified caller; the use cases check the role."""

from __future__ import annotations

from typing import TypeAlias

import grpc

from kit.auth import current_principal
from liaison.notifications.v1 import rules_pb2 as pb
from liaison.notifications.v1 import rules_pb2_grpc as pb_grpc
from notifications.rules_service import RuleBook

Ctx: TypeAlias = grpc.ServicerContext
RULE_SERVICE_NAME = pb.DESCRIPTOR.services_by_name["RuleService"].full_name
TEMPLATE_SERVICE_NAME = pb.DESCRIPTOR.services_by_name["TemplateService"].full_name


class RuleServicer(pb_grpc.RuleServiceServicer):
    def __init__(self, book: RuleBook) -> None:
        self.book = book

    def ListRules(self, request: pb.ListRulesRequest, context: Ctx) -> pb.ListRulesResponse:
        return pb.ListRulesResponse(rules=self.book.list_rules(request, current_principal()))

    def GetRule(self, request: pb.GetRuleRequest, context: Ctx) -> pb.Rule:
        return self.book.get_rule(request.key, current_principal())

    def CreateRule(self, request: pb.CreateRuleRequest, context: Ctx) -> pb.Rule:
        return self.book.create_rule(request.rule, current_principal())

    def UpdateRule(self, request: pb.UpdateRuleRequest, context: Ctx) -> pb.Rule:
        return self.book.update_rule(request.rule, current_principal())

    def DisableRule(self, request: pb.DisableRuleRequest, context: Ctx) -> pb.Rule:
        return self.book.disable_rule(request.key, current_principal())

    def ListEventTypes(
        self, request: pb.ListEventTypesRequest, context: Ctx
    ) -> pb.ListEventTypesResponse:
        return pb.ListEventTypesResponse(event_types=self.book.event_types(current_principal()))


class TemplateServicer(pb_grpc.TemplateServiceServicer):
    def __init__(self, book: RuleBook) -> None:
        self.book = book

    def ListTemplates(
        self, request: pb.ListTemplatesRequest, context: Ctx
    ) -> pb.ListTemplatesResponse:
        return pb.ListTemplatesResponse(
            templates=self.book.list_templates(request, current_principal())
        )

    def GetTemplate(self, request: pb.GetTemplateRequest, context: Ctx) -> pb.Template:
        return self.book.get_template(request.key, request.locale, current_principal())

    def CreateTemplate(self, request: pb.CreateTemplateRequest, context: Ctx) -> pb.Template:
        return self.book.create_template(request.template, current_principal())

    def UpdateTemplate(self, request: pb.UpdateTemplateRequest, context: Ctx) -> pb.Template:
        return self.book.update_template(request.template, current_principal())

    def PreviewTemplate(
        self, request: pb.PreviewTemplateRequest, context: Ctx
    ) -> pb.RenderedMessage:
        return self.book.preview(request, current_principal())


def with_rules(server: grpc.Server, book: RuleBook) -> grpc.Server:
    """Add both servicers to a server built for the notifications service."""
    pb_grpc.add_RuleServiceServicer_to_server(RuleServicer(book), server)
    pb_grpc.add_TemplateServiceServicer_to_server(TemplateServicer(book), server)
    return server
