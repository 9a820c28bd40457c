"""Rules: which event tells whom, with which template, on which channels.

A `Rule` names an event type of the catalogue, an audience that applies to
it, a template, the channels it may use (preferences choose among them per
recipient), the preference kind it belongs to, whether it is urgent (sent in
quiet hours all the same), and optional conditions on the event's payload
(a letter's move is one event type with many kinds: "answered", "sent"...).
`check_rule` names every bad field at once.

The DEFAULT rule set and its zh-CN and en templates are below; the service
loads what of them it lacks (`RuleBook.load_defaults`, at migrate and by
`notifications load-defaults`) and never overwrites an admin's change.

Invitations and reminders: a deputy invited to an activity (a training is
one kind) is told by `activity_invited.deputies` (duties'
`activity_invitation_sent` names only those newly invited, so a deputy
invited again is not told twice); a report meeting tells its deputy and, by
`report_meeting_invitation.staff`, the station staff of its street, who
hand the ballot codes out at it (the street committee scheduled it; the
`street_committee` audience applies to it for a rule an admin adds); a
booker is reminded the day before the session by `booking_reminder.booker`
(reception's `booking_reminder_due`, once per booking holding a place).

Not covered: voters' invitations to a report meeting. Voters have no
accounts (ballot codes are handed out on paper at the meeting), so no
message can reach them; their invitation is the meeting's public notice
(the portal's public pages are meant to carry it: they have no page of
coming report meetings yet).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace

from kit.errors import FieldViolation
from notifications import audiences, catalog
from notifications.message_models import CHANNELS
from notifications.templates import TemplateText

KINDS = ("bookings", "sessions", "opinions", "letters", "duties", "conversations")
KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")
MAX_KEY = 100
MAX_LINK = 300
MAX_DESCRIPTION = 500


@dataclass(frozen=True)
class Rule:
    key: str
    event_type: str
    audience: str
    template_key: str
    channels: tuple[str, ...]
    kind: str
    urgent: bool = False
    enabled: bool = True
    # payload field -> the values (as text) it must have for the rule to apply
    conditions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    link: str = ""
    description: str = ""
    id: int | None = None
    is_default: bool = False

    def applies(self, payload: Mapping[str, object]) -> bool:
        """Whether the payload meets every condition."""
        return all(
            _as_text(payload.get(name)) in values for name, values in self.conditions.items()
        )


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def check_key(name: str, value: str) -> str | None:
    if not value:
        return "is required"
    if len(value) > MAX_KEY or not set(value) <= KEY_CHARS:
        return f"{value!r} is not a key: up to {MAX_KEY} of a-z, 0-9, '.', '_', '-'"
    return None


def check_rule(rule: Rule, template_keys: Collection[str]) -> list[FieldViolation]:
    """Every bad field of `rule`, each named, with what is wrong."""
    found: list[FieldViolation] = []

    def bad(name: str, description: str) -> None:
        found.append(FieldViolation(name, description))

    if problem := check_key("key", rule.key):
        bad("key", problem)
    event = None
    try:
        event = catalog.event_type(rule.event_type)
    except catalog.UnknownEventType as error:
        bad("event_type", str(error))
    if rule.audience not in audiences.AUDIENCES:
        bad(
            "audience",
            f"{rule.audience or '(empty)'} is not an audience: one of "
            + ", ".join(audiences.AUDIENCES),
        )
    elif event is not None and not audiences.AUDIENCES[rule.audience].applies_to(event.name):
        fitting = [a.name for a in audiences.audiences_for(event.name)]
        bad(
            "audience",
            f"{rule.audience} does not apply to {event.name}: "
            + (f"one of {', '.join(fitting)}" if fitting else "no audience applies to it yet"),
        )
    if rule.template_key not in template_keys:
        bad("template_key", f"{rule.template_key or '(empty)'} is not a template")
    if not rule.channels:
        bad("channels", f"at least one of {', '.join(CHANNELS)}")
    for channel in rule.channels:
        if channel not in CHANNELS:
            bad(
                "channels", f"{channel or '(empty)'} is not a channel: one of {', '.join(CHANNELS)}"
            )
    if len(set(rule.channels)) != len(rule.channels):
        bad("channels", "names a channel twice")
    if rule.kind not in KINDS:
        bad("kind", f"{rule.kind or '(empty)'} is not one of: {', '.join(KINDS)}")
    if len(rule.description) > MAX_DESCRIPTION:
        bad("description", f"is at most {MAX_DESCRIPTION} characters")
    if len(rule.link) > MAX_LINK:
        bad("link", f"is at most {MAX_LINK} characters")
    elif rule.link and not rule.link.startswith("/"):
        bad("link", "is a path of the portal or the console, starting with '/'")
    if event is not None:
        fields = {f.name for f in event.message.DESCRIPTOR.fields}
        for name, values in rule.conditions.items():
            if name not in fields:
                bad(
                    "conditions",
                    f"{name!r} is not a field of {event.name}: one of " + ", ".join(sorted(fields)),
                )
            elif not values:
                bad("conditions", f"{name}: at least one value")
    return found


def normalised(rule: Rule) -> Rule:
    """`rule` with its text fields trimmed."""
    return replace(
        rule,
        key=rule.key.strip(),
        event_type=rule.event_type.strip(),
        audience=rule.audience.strip(),
        template_key=rule.template_key.strip(),
        channels=tuple(c.strip() for c in rule.channels),
        kind=rule.kind.strip(),
        link=rule.link.strip(),
        description=rule.description.strip(),
    )


# ---------------------------------------------------------------- defaults

ALL = ("inbox", "email", "sms", "wechat")
INBOX_EMAIL = ("inbox", "email")
INBOX_EMAIL_SMS = ("inbox", "email", "sms")
PORTAL_TRACK = "/?track={{ opinion.tracking_code }}"
LETTER = "/console/#/letters/{{ letter.id }}"
LETTER_BY_ID = "/console/#/letters/{{ letter_id }}"


def _rule(
    key: str,
    event_type: str,
    audience: str,
    template_key: str,
    kind: str,
    *,
    channels: tuple[str, ...] = ALL,
    urgent: bool = False,
    when: Mapping[str, tuple[str, ...]] | None = None,
    link: str = "",
    description: str = "",
) -> Rule:
    return Rule(
        key=key,
        event_type=event_type,
        audience=audience,
        template_key=template_key,
        channels=channels,
        kind=kind,
        urgent=urgent,
        conditions=dict(when or {}),
        link=link,
        description=description,
        is_default=True,
    )


DEFAULT_RULES: tuple[Rule, ...] = (
    _rule(
        "booking_confirmed.booker",
        "reception.booking_confirmed",
        "booker",
        "booking_confirmed",
        "bookings",
        link="/",
        description="a constituent's place at a session is confirmed",
    ),
    _rule(
        "booking_promoted.booker",
        "reception.booking_promoted",
        "booker",
        "booking_promoted",
        "bookings",
        link="/",
        description="a waitlisted constituent got a place",
    ),
    _rule(
        "booking_reminder.booker",
        "reception.booking_reminder_due",
        "booker",
        "booking_reminder",
        "bookings",
        link="/",
        description="a constituent with a place at a session, the day before it",
    ),
    _rule(
        "rota_published.deputies",
        "reception.rota_published",
        "session_deputies",
        "rota_published",
        "sessions",
        link="/console/#/calendar",
        description="the deputies of a session's rota, once it is drawn",
    ),
    _rule(
        "rota_changed.deputies",
        "reception.rota_changed",
        "session_deputies",
        "rota_changed",
        "sessions",
        link="/console/#/calendar",
        description="the deputies of a session's rota after it changed (those on it now)",
    ),
    _rule(
        "opinion_recorded.raiser",
        "reception.opinion_recorded",
        "raiser",
        "opinion_received",
        "opinions",
        channels=INBOX_EMAIL,
        link=PORTAL_TRACK,
        description="the constituent who raised an opinion online: received, its tracking code",
    ),
    _rule(
        "opinion_handed_on.raiser",
        "reception.opinion_handed_on",
        "raiser",
        "opinion_handed_on",
        "opinions",
        channels=INBOX_EMAIL,
        link=PORTAL_TRACK,
        description="the constituent: their opinion is handed on for referral",
    ),
    _rule(
        "opinion_answered.raiser",
        "reception.opinion_answered",
        "raiser",
        "opinion_answered",
        "opinions",
        channels=INBOX_EMAIL,
        link=PORTAL_TRACK,
        description="the constituent: their opinion was answered on the spot",
    ),
    _rule(
        "letter_received.unit",
        "referral.letter_moved",
        "letter_unit",
        "letter_received",
        "letters",
        when={"kind": ("sent", "assigned")},
        link=LETTER,
        description="the unit a referral letter was sent or assigned to",
    ),
    _rule(
        "letter_due_soon.unit",
        "referral.letter_due_soon",
        "letter_unit",
        "letter_due_soon",
        "letters",
        when={"days_before": ("30", "7")},
        link=LETTER_BY_ID,
        description="the handling unit, 30 and 7 days before the legal deadline",
    ),
    _rule(
        "letter_due_tomorrow.unit",
        "referral.letter_due_soon",
        "letter_unit",
        "letter_due_soon",
        "letters",
        urgent=True,
        when={"days_before": ("1",)},
        link=LETTER_BY_ID,
        description="the handling unit, the day before the legal deadline",
    ),
    _rule(
        "letter_overdue.unit",
        "referral.letter_overdue",
        "letter_unit",
        "letter_overdue",
        "letters",
        urgent=True,
        link=LETTER_BY_ID,
        description="the handling unit of a letter past its legal deadline",
    ),
    _rule(
        "letter_overdue.supervisors",
        "referral.letter_overdue",
        "supervisors",
        "letter_overdue_supervision",
        "letters",
        link=LETTER_BY_ID,
        description="the supervising body of a letter past its legal deadline",
    ),
    _rule(
        "letter_answered.committee",
        "referral.letter_moved",
        "letter_unit",
        "letter_answered",
        "letters",
        when={"kind": ("answered",)},
        link=LETTER,
        description="the street committee that feeds a letter's answer back",
    ),
    _rule(
        "letter_answered.deputy",
        "referral.letter_moved",
        "deputy",
        "letter_answered",
        "letters",
        when={"kind": ("answered",)},
        link=LETTER,
        description="the deputy who took the opinion",
    ),
    _rule(
        "letter_answered.raiser",
        "referral.letter_moved",
        "raiser",
        "letter_answered_raiser",
        "opinions",
        channels=INBOX_EMAIL,
        when={"kind": ("answered",)},
        link="/?track={{ letter.tracking_code }}",
        description="the constituent who raised it online",
    ),
    _rule(
        "letter_rated.unit",
        "referral.letter_moved",
        "handling_unit",
        "letter_rated",
        "letters",
        channels=INBOX_EMAIL,
        when={"kind": ("rated",)},
        link=LETTER,
        description="the handling unit: its answer was rated",
    ),
    _rule(
        "letter_reopened.unit",
        "referral.letter_moved",
        "handling_unit",
        "letter_reopened",
        "letters",
        urgent=True,
        when={"kind": ("reopened",)},
        link=LETTER,
        description="the handling unit: a letter is reopened for a second round",
    ),
    _rule(
        "extension_decided.unit",
        "referral.letter_moved",
        "handling_unit",
        "extension_decided",
        "letters",
        when={"kind": ("extension_decided",)},
        link=LETTER,
        description="the handling unit: its request for more time was decided",
    ),
    _rule(
        "report_meeting_scheduled.deputy",
        "duties.report_meeting_scheduled",
        "deputy",
        "report_meeting_scheduled",
        "duties",
        link="/console/#/reports/{{ meeting.id }}",
        description="the deputy who reports to voters (and is rated by secret ballot)",
    ),
    _rule(
        "report_meeting_invitation.staff",
        "duties.report_meeting_scheduled",
        "station_staff",
        "report_meeting_invitation",
        "duties",
        link="/console/#/reports/{{ meeting.id }}",
        description="the station staff of the meeting's street, who hand the ballot codes out",
    ),
    _rule(
        "activity_invited.deputies",
        "duties.activity_invitation_sent",
        "invited_deputies",
        "activity_invited",
        "duties",
        channels=INBOX_EMAIL_SMS,
        link="/console/#/activities/{{ activity_id }}",
        description="the deputies invited to an activity (a training, an inspection...): "
        "those newly invited only",
    ),
    _rule(
        "deputy_rated.deputy",
        "duties.deputy_rated",
        "deputy",
        "deputy_rated",
        "duties",
        channels=INBOX_EMAIL,
        link="/#/deputies/{{ deputy_id }}/{{ year }}",
        description="the deputy: a constituent rated their duty record",
    ),
)


def _html(text: str) -> str:
    """An HTML body of a text body: a paragraph a line, the link at the end."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    body = "\n".join(f"<p>{line}</p>" for line in lines)
    return body + '\n{% if link %}<p><a href="{{ link }}">{{ link }}</a></p>{% endif %}'


def _words(subject: str, text: str) -> TemplateText:
    """The text body ends with the link too (the portal's address and the
    rule's path: `notifications.fanout`), for mail clients and texts."""
    return TemplateText(
        subject=subject,
        text=text.strip() + "\n{% if link %}{{ link }}\n{% endif %}",
        html=_html(text),
    )


DEFAULT_TEMPLATES: dict[str, dict[str, TemplateText]] = {
    "booking_confirmed": {
        "zh-CN": _words(
            "预约成功：人大代表接待",
            "您预约的人大代表接待已确认（预约号 {{ booking_id }}，场次 {{ session_id }}）。"
            "\n请按时到联络站，如不能前来请及时取消。",
        ),
        "en": _words(
            "Your booking is confirmed",
            "Your place at the deputies' reception is confirmed (booking {{ booking_id }}, "
            "session {{ session_id }}).\nPlease come on time, or cancel if you cannot.",
        ),
    },
    "booking_promoted": {
        "zh-CN": _words(
            "候补转正：您已获得接待名额",
            "有名额空出，您候补的接待预约（预约号 {{ booking_id }}）已转为正式预约。",
        ),
        "en": _words(
            "You have a place now",
            "A place was freed: your waitlisted booking {{ booking_id }} now holds a place.",
        ),
    },
    "booking_reminder": {
        "zh-CN": _words(
            "明天接待提醒：{{ local_date(session_date) }} {{ local_start }}",
            "提醒您：明天（{{ local_date(session_date) }}）{{ local_start }}—{{ local_end }}，"
            "您预约了联络站的人大代表接待（预约号 {{ booking_id }}，场次 {{ session_id }}）。"
            "\n请按时到联络站，如不能前来请及时取消。",
        ),
        "en": _words(
            "Reminder: your reception tomorrow, {{ local_date(session_date) }} at "
            "{{ local_start }}",
            "A reminder: tomorrow ({{ local_date(session_date) }}, {{ local_start }} to "
            "{{ local_end }}) you have a place at the deputies' reception (booking "
            "{{ booking_id }}, session {{ session_id }}).\nPlease come on time, or cancel if "
            "you cannot.",
        ),
    },
    "rota_published": {
        "zh-CN": _words(
            "接待排班：{{ local_date(rota.date) }}",
            "您已排入 {{ local_date(rota.date) }} 的接待（场次 {{ rota.session_id }}）。"
            "\n本场代表：{% for d in rota.deputies %}{{ d.name }}{% if d.lead %}（带班）"
            "{% endif %}{% if not loop.last %}、{% endif %}{% endfor %}",
        ),
        "en": _words(
            "Reception rota: {{ local_date(rota.date) }}",
            "You are on the rota of the reception on {{ local_date(rota.date) }} "
            "(session {{ rota.session_id }}).\nDeputies: {% for d in rota.deputies %}"
            "{{ d.name }}{% if d.lead %} (lead){% endif %}{% if not loop.last %}, {% endif %}"
            "{% endfor %}",
        ),
    },
    "rota_changed": {
        "zh-CN": _words(
            "接待排班变更：{{ local_date(rota.date) }}",
            "{{ local_date(rota.date) }} 的接待排班已调整，您在调整后的名单中。"
            "\n本场代表：{% for d in rota.deputies %}{{ d.name }}"
            "{% if not loop.last %}、{% endif %}{% endfor %}",
        ),
        "en": _words(
            "Reception rota changed: {{ local_date(rota.date) }}",
            "The rota of the reception on {{ local_date(rota.date) }} changed; you are on it."
            "\nDeputies: {% for d in rota.deputies %}{{ d.name }}"
            "{% if not loop.last %}, {% endif %}{% endfor %}",
        ),
    },
    "opinion_received": {
        "zh-CN": _words(
            "意见已收到：{{ opinion.tracking_code }}",
            "您反映的意见已登记，查询码 {{ opinion.tracking_code }}。"
            "\n凭查询码可随时查看办理进度。",
        ),
        "en": _words(
            "Your opinion is received: {{ opinion.tracking_code }}",
            "Your opinion is recorded; its tracking code is {{ opinion.tracking_code }}."
            "\nFollow it with that code at any time.",
        ),
    },
    "opinion_handed_on": {
        "zh-CN": _words(
            "意见已转办：{{ opinion.tracking_code }}",
            "您的意见（{{ opinion.tracking_code }}）已转交有关单位办理，办理单位须在三个月内书面答复。",
        ),
        "en": _words(
            "Your opinion is handed on: {{ opinion.tracking_code }}",
            "Your opinion {{ opinion.tracking_code }} is handed on to the unit that can "
            "handle it, which must answer in writing within three months.",
        ),
    },
    "opinion_answered": {
        "zh-CN": _words(
            "意见已答复：{{ opinion.tracking_code }}",
            "您的意见（{{ opinion.tracking_code }}）已答复：{{ answer }}",
        ),
        "en": _words(
            "Your opinion is answered: {{ opinion.tracking_code }}",
            "Your opinion {{ opinion.tracking_code }} was answered: {{ answer }}",
        ),
    },
    "letter_received": {
        "zh-CN": _words(
            "新转办函：{{ letter.tracking_code }}",
            "收到转办函 {{ letter.tracking_code }}（{{ letter.community_name }}），请及时签收办理。"
            "\n{{ letter.content }}",
        ),
        "en": _words(
            "A referral letter for you: {{ letter.tracking_code }}",
            "Referral letter {{ letter.tracking_code }} ({{ letter.community_name }}) is with "
            "you: please receive and handle it.\n{{ letter.content }}",
        ),
    },
    "letter_due_soon": {
        "zh-CN": _words(
            "督办提醒：{{ tracking_code }} 还有 {{ days_before }} 天到期",
            "转办函 {{ tracking_code }} 的法定答复期限为 {{ local_date(last_day) }}，"
            "还有 {{ days_before }} 天，请按时书面答复。",
        ),
        "en": _words(
            "Reminder: {{ tracking_code }} is due in {{ days_before }} days",
            "Referral letter {{ tracking_code }} must be answered in writing by "
            "{{ local_date(last_day) }}, in {{ days_before }} days.",
        ),
    },
    "letter_overdue": {
        "zh-CN": _words(
            "已超期：{{ tracking_code }}",
            "转办函 {{ tracking_code }} 已超过法定答复期限（{{ local_date(last_day) }}），"
            "请立即书面答复。",
        ),
        "en": _words(
            "Overdue: {{ tracking_code }}",
            "Referral letter {{ tracking_code }} is past its legal deadline "
            "({{ local_date(last_day) }}): answer it in writing now.",
        ),
    },
    "letter_overdue_supervision": {
        "zh-CN": _words(
            "督办：{{ tracking_code }} 超期未复",
            "{{ handler.label }} 办理的转办函 {{ tracking_code }} 已超过法定答复期限"
            "（{{ local_date(last_day) }}），超期等级 {{ level }}，请督办。",
        ),
        "en": _words(
            "To supervise: {{ tracking_code }} is overdue",
            "Referral letter {{ tracking_code }}, handled by {{ handler.label }}, is past its "
            "legal deadline ({{ local_date(last_day) }}), level {{ level }}: please supervise.",
        ),
    },
    "letter_answered": {
        "zh-CN": _words(
            "转办函已答复：{{ letter.tracking_code }}",
            "转办函 {{ letter.tracking_code }} 已由办理单位书面答复，请查看并反馈。",
        ),
        "en": _words(
            "Letter answered: {{ letter.tracking_code }}",
            "Referral letter {{ letter.tracking_code }} was answered in writing by its "
            "handling unit: read it and feed it back.",
        ),
    },
    "letter_answered_raiser": {
        "zh-CN": _words(
            "您的意见已有书面答复：{{ letter.tracking_code }}",
            "您反映的意见（{{ letter.tracking_code }}）办理单位已书面答复，欢迎查看并评价。",
        ),
        "en": _words(
            "Your opinion has a written answer: {{ letter.tracking_code }}",
            "The unit handling your opinion {{ letter.tracking_code }} answered in writing: "
            "read it and rate it.",
        ),
    },
    "letter_rated": {
        "zh-CN": _words(
            "答复已评价：{{ letter.tracking_code }}",
            "转办函 {{ letter.tracking_code }} 的答复已获评价（{{ detail }}）。",
        ),
        "en": _words(
            "Answer rated: {{ letter.tracking_code }}",
            "The answer to referral letter {{ letter.tracking_code }} was rated ({{ detail }}).",
        ),
    },
    "letter_reopened": {
        "zh-CN": _words(
            "转办函重新办理：{{ letter.tracking_code }}",
            "转办函 {{ letter.tracking_code }} 因不满意已重新交办（第 {{ letter.round }} 轮），"
            "请重新办理并书面答复。",
        ),
        "en": _words(
            "Letter reopened: {{ letter.tracking_code }}",
            "Referral letter {{ letter.tracking_code }} is reopened (round {{ letter.round }}): "
            "handle it again and answer in writing.",
        ),
    },
    "extension_decided": {
        "zh-CN": _words(
            "延期申请已决定：{{ letter.tracking_code }}",
            "转办函 {{ letter.tracking_code }} 的延期申请已决定：{{ detail }}",
        ),
        "en": _words(
            "Extension decided: {{ letter.tracking_code }}",
            "Your request for more time on referral letter {{ letter.tracking_code }} was "
            "decided: {{ detail }}",
        ),
    },
    "report_meeting_scheduled": {
        "zh-CN": _words(
            "履职报告会：{{ local_date(meeting.held_on) }}",
            "您的履职报告会定于 {{ local_date(meeting.held_on) }} 在{{ meeting.venue }}举行，"
            "会后由选民无记名投票测评（满意、基本满意、不满意）。",
        ),
        "en": _words(
            "Your duty report meeting: {{ local_date(meeting.held_on) }}",
            "You report on your work to voters on {{ local_date(meeting.held_on) }} at "
            "{{ meeting.venue }}; they then rate it by secret ballot.",
        ),
    },
    "report_meeting_invitation": {
        "zh-CN": _words(
            "履职报告会发码：{{ local_date(meeting.held_on) }}",
            "代表履职报告会定于 {{ local_date(meeting.held_on) }} 在{{ meeting.venue }}举行"
            "（报告会 {{ meeting.id }}）。\n请联络站工作人员到场，会后向到场选民每人发放一个"
            "一次性测评码（打印成纸条），并在投票结束后关闭测评。",
        ),
        "en": _words(
            "Ballot codes to hand out: report meeting on {{ local_date(meeting.held_on) }}",
            "A deputy's duty report meeting is held on {{ local_date(meeting.held_on) }} at "
            "{{ meeting.venue }} (meeting {{ meeting.id }}).\nPlease attend as the station's "
            "staff: after the report, hand each voter present one single-use ballot code "
            "(printed on a slip), and close the ballot once the voting is over.",
        ),
    },
    "activity_invited": {
        "zh-CN": _words(
            "活动邀请：{{ title }}",
            "您受邀参加{% if kind == 'ACTIVITY_KIND_TRAINING' %}集中学习培训{% else %}代表活动"
            "{% endif %}“{{ title }}”，时间 {{ local_date(starts_on) }}"
            "{% if ends_on and ends_on != starts_on %}至 {{ local_date(ends_on) }}{% endif %}。"
            "\n请在活动开始前报名；不能参加的请向组织单位请假。",
        ),
        "en": _words(
            "Invitation: {{ title }}",
            "You are invited to the {% if kind == 'ACTIVITY_KIND_TRAINING' %}training"
            '{% else %}deputies\' activity{% endif %} "{{ title }}" on '
            "{{ local_date(starts_on) }}{% if ends_on and ends_on != starts_on %} to "
            "{{ local_date(ends_on) }}{% endif %}.\nPlease sign up before it begins, or ask "
            "the organiser for leave if you cannot attend.",
        ),
    },
    "deputy_rated": {
        "zh-CN": _words(
            "收到群众评价",
            "有选民对您 {{ year }} 年的履职作出了评价{% if has_comment %}，并留有意见{% endif %}。",
        ),
        "en": _words(
            "A constituent rated your duties",
            "A constituent rated your duty record of {{ year }}"
            "{% if has_comment %}, with a comment{% endif %}.",
        ),
    },
}
