// The console's referral letters (转办函, #/letters): what the signed-in
// role must act on now, queue by queue — the street committee's
// jurisdiction decisions, feedback, ratings and extension requests, the
// sign-offs of the deputy, the deputy director and the director, the working
// body's review, the standing committee office's dispatch and extension
// requests, the government office's assignment, a handling unit's inbox with
// its deadlines — and one letter (#/letters/<id>) with its hops, sign-offs,
// answers, ratings and extensions, and only the actions its caller may take
// now. The referral service decides every action; what is offered here is
// its workflow (referral/routing.py) read from the letter and the token.
// Shared with the overdue board (letters-board.js) as LiaisonConsole.letters.
"use strict";

(function () {
  var C = window.LiaisonConsole;
  var t = C.t;
  var el = C.el;
  var api = C.api;

  var STAGES = [
    "jurisdiction",
    "deputy_sign_off",
    "deputy_director_sign_off",
    "director_sign_off",
    "review",
    "dispatch",
    "assignment",
    "awaiting_receipt",
    "in_hand",
    "answered",
    "fed_back",
    "closed",
  ];
  var DEPUTY_DIRECTOR = "street_full_time_deputy_director";
  var DIRECTOR = "street_director";
  var PAGE_SIZE = 100;
  // At most this many pages of one query are read for a queue.
  var MAX_PAGES = 10;

  C.addText({
    "zh-CN": {
      navLetters: "转办函",
      lettersTitle: "转办函",
      lTodo: "待办",
      lNothingToDo: "没有需要你处理的转办函。",
      lNoActions: "你的角色不办理转办函的流程，只能查看。",
      lLoadingQueues: "正在加载待办…",
      lCapped: "只显示了前 {count} 件。",
      lQueueTitle: "{title}（{count} 件）",
      qJurisdiction: "待决定管辖",
      qJurisdictionHint: "属于街道职权范围的，经代表、专职副主任、主任签署后转街道办事处办理；不属于的，报区人大工作机构审核后转区政府办公室交办。",
      qSignOff: "待你签署",
      qSignOffHint: "签署意见，或说明理由退回上一步。",
      qFeedBack: "待反馈",
      qFeedBackHint: "答复已到，向代表和选民反馈。",
      qRate: "待记录评价",
      qRateHint: "反馈后的满意度评价。",
      qExtensions: "待审批延期",
      qExtensionsHint: "承办单位申请延期，审批后生效。",
      qReview: "待审核",
      qReviewHint: "受理，或说明理由退回街道人大工委。",
      qDispatch: "待转交区政府办公室",
      qAssignment: "待交办",
      qAssignmentHint: "选定主办部门和协办部门。",
      qInbox: "收件箱",
      qInboxHint: "转给本单位办理的转办函：待签收的和办理中的，含答复期限和剩余天数。",
      qBrowse: "查阅转办函",
      lStage: "阶段",
      lAllStages: "全部阶段",
      lStreet: "街道",
      lAllStreets: "全区",
      lShow: "显示",
      lMore: "再显示 {count} 件",
      lNone: "没有符合条件的转办函。",
      lCode: "追踪码",
      lCategory: "类别",
      lOpened: "收到时间",
      lUpdated: "最近办理",
      lDue: "期限",
      lDaysLeft: "剩余天数",
      lHandler: "承办单位",
      lMyReceipt: "本单位签收",
      lNotReceived: "待签收",
      lReceived: "已签收",
      lDaysLeftN: "剩 {days} 天",
      lDueToday: "今天到期",
      lOverdueN: "已超期 {days} 天",
      lLetter: "转办函 {code}",
      lBack: "返回待办",
      lAwaits: "等待",
      lRoute: "管辖",
      lCommunity: "社区",
      lDeputy: "代表",
      lDeputyN: "{id} 号代表",
      lNote: "街道人大工委说明",
      lCoHandlers: "协办单位",
      lRound: "办理轮次",
      lRoundN: "第 {round} 轮（不满意后重新办理）",
      lStageDue: "本环节期限",
      lContent: "反映的内容",
      lDeadline: "答复期限",
      lReceivedAt: "承办单位签收",
      lLastDay: "最后一天",
      lExtended: "已延期",
      lHolidaysUnknown: "节假日安排尚未公布，期限按周末推算。",
      lNoDeadline: "承办单位签收后开始计算三个月的法定期限。",
      lHops: "流转",
      lFrom: "从",
      lTo: "到",
      lHopKind: "事由",
      lSent: "发出",
      lReceivedCol: "签收",
      lNoHops: "还没有流转。",
      lSignOffs: "签署意见",
      lRefused: "退回：{text}",
      lAnswers: "答复",
      lAnswerRound: "第 {round} 轮答复",
      lFiles: "附件",
      lRatings: "评价",
      lExtensions: "延期申请",
      lRequestedAt: "申请时间",
      lReason: "理由",
      lRequestedDay: "申请延至",
      lDecision: "审批",
      lPending: "待审批",
      lActions: "可以办理",
      lNoActionNow: "这件转办函现在不等你办理。",
      lClose: "收起",
      // actions
      aDecide: "决定管辖",
      aSignOff: "签署",
      aRefuse: "退回",
      aAccept: "受理",
      aReturn: "退回街道",
      aDispatch: "转区政府办公室",
      aAssign: "交办",
      aAcknowledge: "签收",
      aAnswer: "书面答复",
      aExtension: "申请延期",
      aDecideExtension: "审批延期",
      aFeedBack: "反馈",
      aRate: "记录评价",
      fRoute: "管辖",
      fRouteStreet: "属于街道职权范围",
      fRouteStreetHint: "依次由代表、街道人大工委专职副主任、主任签署意见，然后转街道办事处办理，由街道人大工委督办延期。",
      fRouteDistrict: "不属于街道职权范围，报区里",
      fRouteDistrictHint: "转区人大工作机构审核，受理后由常委会办公室转区政府办公室交办职能部门，由常委会办公室督办延期。",
      fComment: "签署意见（可不填）",
      fRefuseReason: "退回理由",
      fRefuseHint: "转办函退回上一步。",
      fAcceptComment: "说明（可不填）",
      fReturnReason: "退回理由",
      fDispatchText: "把这件转办函转交区政府办公室交办。",
      fLead: "主办部门",
      fCoHandlers: "协办部门（可多选）",
      fAcknowledgeText: "确认收到这件转办函。承办单位签收之日起计算三个月的答复期限。",
      fAnswerText: "答复内容",
      fAnswerHint: "答复送街道人大工委，抄送区人大常委会办公室。",
      fFiles: "附件（可不选）",
      fFilesHint: "文件先上传，答复按文件的 SHA-256 引用它们。",
      fExtensionReason: "延期理由",
      fLastDay: "申请延至（最后一天）",
      fLastDayHint: "自签收起最长六个月。",
      fApprove: "批准",
      fRefuseExtension: "不批准",
      fDecisionComment: "审批意见（不批准时必填）",
      fFeedBackComment: "反馈情况（可不填）",
      fRater: "评价人",
      fSatisfaction: "满意度",
      fReopen: "不满意，要求重新办理（每件转办函只能一次）",
      fSubmit: "提交",
      fUploading: "正在上传 {name}…",
      done: {
        decide: "转办函 {code} 已决定管辖。",
        sign_off: "转办函 {code} 已签署。",
        refuse: "转办函 {code} 已退回。",
        accept: "转办函 {code} 已受理。",
        return: "转办函 {code} 已退回街道人大工委。",
        dispatch: "转办函 {code} 已转区政府办公室。",
        assign: "转办函 {code} 已交办。",
        acknowledge: "转办函 {code} 已签收。",
        answer: "转办函 {code} 已答复。",
        extension: "转办函 {code} 已申请延期。",
        decide_extension: "转办函 {code} 的延期申请已审批。",
        feed_back: "转办函 {code} 已反馈。",
        rate: "转办函 {code} 的评价已记录。",
      },
      stages: {
        jurisdiction: "待决定管辖",
        deputy_sign_off: "待代表签署",
        deputy_director_sign_off: "待专职副主任签署",
        director_sign_off: "待主任签署",
        review: "待工作机构审核",
        dispatch: "待常委会办公室转交",
        assignment: "待区政府办公室交办",
        awaiting_receipt: "待承办单位签收",
        in_hand: "办理中",
        answered: "已答复，待反馈",
        fed_back: "已反馈，待评价",
        closed: "已办结",
      },
      awaitsStages: {
        jurisdiction: "街道人大工委决定是否属于街道职权范围",
        deputy_sign_off: "代表签署意见",
        deputy_director_sign_off: "街道人大工委专职副主任签署意见",
        director_sign_off: "街道人大工委主任签署意见",
        review: "区人大工作机构审核",
        dispatch: "区人大常委会办公室转交区政府办公室",
        assignment: "区政府办公室交办职能部门",
        awaiting_receipt: "承办单位签收",
        in_hand: "承办单位书面答复",
        answered: "街道人大工委向代表和选民反馈",
        fed_back: "代表和选民评价答复",
      },
      routes: { street: "街道职权范围", district: "报区里" },
      unitKinds: {
        street_committee: "{street}人大工委",
        street_office: "{street}街道办事处",
        working_body: "区人大工作机构",
        standing_committee_office: "区人大常委会办公室",
        government_office: "区政府办公室",
        department: "部门 {id}",
      },
      hopKinds: {
        to_street_office: "转街道办事处办理",
        to_review: "报工作机构审核",
        returned: "退回",
        to_dispatch: "转常委会办公室",
        to_government_office: "转区政府办公室",
        co_handling: "协办",
        to_lead_department: "主办",
        answer: "答复",
        reopened: "重新办理",
      },
      signers: { deputy: "代表", deputy_director: "专职副主任", director: "主任" },
      raters: { deputy: "代表", constituent: "选民" },
      satisfactions: { satisfied: "满意", basically_satisfied: "基本满意", dissatisfied: "不满意" },
      decisions: { approved: "批准", refused: "不批准", withdrawn: "已答复，申请撤回" },
    },
    en: {
      navLetters: "Referral letters",
      lettersTitle: "Referral letters",
      lTodo: "To do",
      lNothingToDo: "No referral letter awaits you.",
      lNoActions: "Your role takes no step of a referral letter; you may read them.",
      lLoadingQueues: "Loading what awaits you…",
      lCapped: "Only the first {count} are shown.",
      lQueueTitle: "{title} ({count})",
      qJurisdiction: "Jurisdiction to decide",
      qJurisdictionHint: "Within the street's powers: signed off by the deputy, the deputy director and the director, then handled by the street office. Not within them: reviewed by the district congress's working body, then assigned to departments by the government office.",
      qSignOff: "Awaiting your sign-off",
      qSignOffHint: "Sign off with a comment, or send it back one step with a reason.",
      qFeedBack: "Feedback to give",
      qFeedBackHint: "The answer is in: feed it back to the deputy and the constituent.",
      qRate: "Ratings to record",
      qRateHint: "How satisfied they are with the answer fed back.",
      qExtensions: "Extension requests to decide",
      qExtensionsHint: "The handling unit asks for more time.",
      qReview: "Letters to review",
      qReviewHint: "Accept, or return to the street committee with a reason.",
      qDispatch: "To send to the government office",
      qAssignment: "Letters to assign",
      qAssignmentHint: "Choose the lead department and any co-handling departments.",
      qInbox: "Inbox",
      qInboxHint: "Letters sent to your unit: awaiting receipt and in hand, with the deadline and the days left.",
      qBrowse: "Browse letters",
      lStage: "Stage",
      lAllStages: "Every stage",
      lStreet: "Street",
      lAllStreets: "The whole district",
      lShow: "Show",
      lMore: "Show {count} more",
      lNone: "No letter matches.",
      lCode: "Tracking code",
      lCategory: "Category",
      lOpened: "Opened",
      lUpdated: "Last step",
      lDue: "Due",
      lDaysLeft: "Days left",
      lHandler: "Handling unit",
      lMyReceipt: "Your receipt",
      lNotReceived: "Not acknowledged",
      lReceived: "Acknowledged",
      lDaysLeftN: "{days} days left",
      lDueToday: "Due today",
      lOverdueN: "{days} days overdue",
      lLetter: "Letter {code}",
      lBack: "Back to the queues",
      lAwaits: "Awaits",
      lRoute: "Jurisdiction",
      lCommunity: "Community",
      lDeputy: "Deputy",
      lDeputyN: "Deputy {id}",
      lNote: "Street committee's note",
      lCoHandlers: "Co-handling units",
      lRound: "Round",
      lRoundN: "Round {round} (reopened after a dissatisfied rating)",
      lStageDue: "This step is due",
      lContent: "What was raised",
      lDeadline: "Deadline to answer",
      lReceivedAt: "Acknowledged by the handling unit",
      lLastDay: "Last day",
      lExtended: "Extended",
      lHolidaysUnknown: "Next year's holidays are not published yet: the deadline counts weekends only.",
      lNoDeadline: "The three months run from the handling unit's receipt.",
      lHops: "Hops",
      lFrom: "From",
      lTo: "To",
      lHopKind: "Why",
      lSent: "Sent",
      lReceivedCol: "Acknowledged",
      lNoHops: "Not sent anywhere yet.",
      lSignOffs: "Sign-offs",
      lRefused: "Sent back: {text}",
      lAnswers: "Answers",
      lAnswerRound: "Answer of round {round}",
      lFiles: "Files",
      lRatings: "Ratings",
      lExtensions: "Extension requests",
      lRequestedAt: "Asked",
      lReason: "Reason",
      lRequestedDay: "Until",
      lDecision: "Decision",
      lPending: "Pending",
      lActions: "What you may do",
      lNoActionNow: "This letter does not await you now.",
      lClose: "Close",
      aDecide: "Decide jurisdiction",
      aSignOff: "Sign off",
      aRefuse: "Send back",
      aAccept: "Accept",
      aReturn: "Return to the street",
      aDispatch: "Send to the government office",
      aAssign: "Assign",
      aAcknowledge: "Acknowledge receipt",
      aAnswer: "Answer in writing",
      aExtension: "Ask for an extension",
      aDecideExtension: "Decide the extension",
      aFeedBack: "Feed back",
      aRate: "Record a rating",
      fRoute: "Jurisdiction",
      fRouteStreet: "Within the street's powers",
      fRouteStreetHint: "Signed off by the deputy, the street committee's deputy director and its director, then handled by the street office; the street committee decides extensions.",
      fRouteDistrict: "For the district",
      fRouteDistrictHint: "Reviewed by the district congress's working body; once accepted the standing committee office sends it to the government office, which assigns departments; the standing committee office decides extensions.",
      fComment: "Comment (optional)",
      fRefuseReason: "Reason for sending it back",
      fRefuseHint: "The letter goes back one step.",
      fAcceptComment: "Note (optional)",
      fReturnReason: "Reason for returning it",
      fDispatchText: "Send this letter to the district government office for assignment.",
      fLead: "Lead department",
      fCoHandlers: "Co-handling departments (any)",
      fAcknowledgeText: "Acknowledge receipt of this letter. The handling unit's receipt starts the three months to answer.",
      fAnswerText: "Answer",
      fAnswerHint: "It goes to the street committee, copied to the standing committee office.",
      fFiles: "Files (optional)",
      fFilesHint: "Uploaded first; the answer names them by SHA-256.",
      fExtensionReason: "Reason for the extension",
      fLastDay: "New last day",
      fLastDayHint: "At most six months from receipt.",
      fApprove: "Approve",
      fRefuseExtension: "Refuse",
      fDecisionComment: "Comment (required when refusing)",
      fFeedBackComment: "How it was fed back (optional)",
      fRater: "Rater",
      fSatisfaction: "Satisfaction",
      fReopen: "Dissatisfied: handle it again (once per letter)",
      fSubmit: "Submit",
      fUploading: "Uploading {name}…",
      done: {
        decide: "Letter {code}: jurisdiction decided.",
        sign_off: "Letter {code} is signed off.",
        refuse: "Letter {code} is sent back.",
        accept: "Letter {code} is accepted.",
        return: "Letter {code} is returned to the street committee.",
        dispatch: "Letter {code} is sent to the government office.",
        assign: "Letter {code} is assigned.",
        acknowledge: "Letter {code} is acknowledged.",
        answer: "Letter {code} is answered.",
        extension: "Letter {code}: an extension is requested.",
        decide_extension: "Letter {code}: the extension request is decided.",
        feed_back: "Letter {code} is fed back.",
        rate: "Letter {code}: the rating is recorded.",
      },
      stages: {
        jurisdiction: "Jurisdiction to decide",
        deputy_sign_off: "Deputy's sign-off",
        deputy_director_sign_off: "Deputy director's sign-off",
        director_sign_off: "Director's sign-off",
        review: "Working body's review",
        dispatch: "Standing committee office's dispatch",
        assignment: "Government office's assignment",
        awaiting_receipt: "Awaiting receipt",
        in_hand: "In hand",
        answered: "Answered, to feed back",
        fed_back: "Fed back, to rate",
        closed: "Closed",
      },
      awaitsStages: {
        jurisdiction: "The street committee's decision: within the street's powers or not",
        deputy_sign_off: "The deputy's sign-off",
        deputy_director_sign_off: "The street committee's deputy director's sign-off",
        director_sign_off: "The street committee's director's sign-off",
        review: "The district congress's working body's review",
        dispatch: "The standing committee office's dispatch to the government office",
        assignment: "The government office's assignment to departments",
        awaiting_receipt: "The handling unit's receipt",
        in_hand: "The handling unit's written answer",
        answered: "The street committee's feedback to the deputy and the constituent",
        fed_back: "The ratings of the answer",
      },
      routes: { street: "The street's powers", district: "For the district" },
      unitKinds: {
        street_committee: "Street committee of {street}",
        street_office: "Street office of {street}",
        working_body: "District congress's working body",
        standing_committee_office: "Standing committee office",
        government_office: "District government office",
        department: "Department {id}",
      },
      hopKinds: {
        to_street_office: "To the street office",
        to_review: "For review",
        returned: "Returned",
        to_dispatch: "To the standing committee office",
        to_government_office: "To the government office",
        co_handling: "Co-handling",
        to_lead_department: "Lead",
        answer: "Answer",
        reopened: "Reopened",
      },
      signers: { deputy: "Deputy", deputy_director: "Deputy director", director: "Director" },
      raters: { deputy: "Deputy", constituent: "Constituent" },
      satisfactions: { satisfied: "Satisfied", basically_satisfied: "Basically satisfied", dissatisfied: "Dissatisfied" },
      decisions: { approved: "Approved", refused: "Refused", withdrawn: "Withdrawn by the answer" },
    },
  });

  // ---------------------------------------------------------------- helpers

  function named(group, key) {
    return (t(group) || {})[key] || key;
  }

  var DATE_TIME = new Intl.DateTimeFormat("sv-SE", {
    timeZone: "Asia/Shanghai",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  });

  function when(iso) {
    return iso ? DATE_TIME.format(new Date(iso)) : "";
  }

  function timeNode(iso) {
    return iso ? el("time", { datetime: iso, text: when(iso) }) : el("span", { text: "—" });
  }

  // Whole days from `from` to `to`, both YYYY-MM-DD.
  function daysBetween(from, to) {
    return Math.round((Date.parse(to + "T00:00:00Z") - Date.parse(from + "T00:00:00Z")) / 86400000);
  }

  // The deadline's standing: {days, overdue, text}, or null before receipt.
  function standing(letter, now) {
    var deadline = letter.deadline;
    if (!deadline || !deadline.last_day) return null;
    var today = C.todayInShanghai();
    var overdue = deadline.ends_at ? Date.parse(deadline.ends_at) <= (now || Date.now()) : deadline.last_day < today;
    var days = daysBetween(today, deadline.last_day);
    var text = overdue ? t("lOverdueN", { days: Math.max(1, -days) }) : days === 0 ? t("lDueToday") : t("lDaysLeftN", { days: days });
    return { days: days, overdue: overdue, text: text };
  }

  // Names: streets and the registry's departments, read once.
  var names = { streets: {}, units: {}, departments: [], loaded: null };

  function loadNames() {
    if (names.loaded) return names.loaded;
    names.loaded = Promise.all([
      api("GET", "/api/v1/streets?page_size=100"),
      api("GET", "/api/v1/units?kind=department&page_size=500"),
    ]).then(function (replies) {
      if (replies[0].ok) {
        (replies[0].body.items || []).forEach(function (s) {
          names.streets[s.id] = s.name;
        });
      }
      if (replies[1].ok) {
        names.departments = replies[1].body.items || [];
        names.departments.forEach(function (u) {
          names.units[u.id] = u.name;
        });
      }
      if (!replies[0].ok || !replies[1].ok) names.loaded = null;
    });
    return names.loaded;
  }

  function streetName(id) {
    return names.streets[id] || t("street") + " " + id;
  }

  function unitName(unit) {
    if (!unit) return "";
    if (unit.kind === "department" && names.units[unit.id]) return names.units[unit.id];
    var pattern = named("unitKinds", unit.kind);
    return pattern.replace("{street}", unit.id ? streetName(unit.id) : "").replace("{id}", unit.id || "");
  }

  function sameUnit(a, b) {
    return !!a && !!b && a.kind === b.kind && (a.id || 0) === (b.id || 0);
  }

  // The unit the caller acts for, as the referral service sees it.
  function unitOf(claims) {
    switch (claims.role) {
      case "street_committee":
        return claims.street_id ? { kind: "street_committee", id: claims.street_id } : null;
      case "working_body":
      case "standing_committee_office":
      case "government_office":
        return { kind: claims.role };
      case "department":
        if (claims.unit_id) return { kind: "department", id: claims.unit_id };
        return claims.street_id ? { kind: "street_office", id: claims.street_id } : null;
      default:
        return null;
    }
  }

  function pendingExtension(letter) {
    var last = (letter.extensions || [])[(letter.extensions || []).length - 1];
    return last && !last.decision ? last : null;
  }

  function supervisorOf(letter) {
    if (letter.route === "street") return { kind: "street_committee", id: letter.street_id };
    if (letter.route === "district") return { kind: "standing_committee_office" };
    return null;
  }

  // The caller's latest hop to `unit`, received or not (null without one).
  function hopTo(letter, unit) {
    var hops = letter.hops || [];
    for (var i = hops.length - 1; i >= 0; i--) {
      if (sameUnit(hops[i].to_unit, unit)) return hops[i];
    }
    return null;
  }

  function rated(letter, rater) {
    return (letter.ratings || []).some(function (r) {
      return r.rater === rater && (r.round || 1) === (letter.round || 1);
    });
  }

  // What the caller may do to the letter now, by the workflow's rules.
  function actionsFor(letter, claims) {
    var me = unitOf(claims);
    var committee = claims.role === "street_committee" && claims.street_id === letter.street_id;
    var deputy = claims.role === "deputy" && !!letter.deputy_id && claims.deputy_id === letter.deputy_id;
    var actions = [];
    switch (letter.stage) {
      case "jurisdiction":
        if (committee) actions.push("decide");
        break;
      case "deputy_sign_off":
        if (deputy) actions.push("sign_off", "refuse");
        break;
      case "deputy_director_sign_off":
        if (committee && claims.position === DEPUTY_DIRECTOR) actions.push("sign_off", "refuse");
        break;
      case "director_sign_off":
        if (committee && claims.position === DIRECTOR) actions.push("sign_off", "refuse");
        break;
      case "review":
        if (claims.role === "working_body") actions.push("accept", "return");
        break;
      case "dispatch":
        if (claims.role === "standing_committee_office") actions.push("dispatch");
        break;
      case "assignment":
        if (claims.role === "government_office") actions.push("assign");
        break;
      case "answered":
        if (committee) actions.push("feed_back");
        break;
      case "fed_back":
        if ((committee && !rated(letter, "constituent")) || (deputy && !rated(letter, "deputy"))) actions.push("rate");
        break;
    }
    if (claims.role === "department" && (letter.stage === "awaiting_receipt" || letter.stage === "in_hand")) {
      var lead = sameUnit(letter.handler, me);
      var co = (letter.co_handlers || []).some(function (u) {
        return sameUnit(u, me);
      });
      var mine = hopTo(letter, me);
      if ((lead && letter.stage === "awaiting_receipt") || (co && !lead && mine && !mine.received_at)) actions.push("acknowledge");
      if (lead && letter.stage === "in_hand") {
        actions.push("answer");
        if (!pendingExtension(letter)) actions.push("extension");
      }
    }
    if (letter.stage === "in_hand" && pendingExtension(letter) && sameUnit(supervisorOf(letter), me)) {
      actions.push("decide_extension");
    }
    return actions;
  }

  // Every page of a list of letters, up to MAX_PAGES: {ok, items, capped} or the failed reply.
  function allLetters(params) {
    var items = [];
    function page(token, left) {
      var query = new URLSearchParams(params);
      query.set("page_size", String(PAGE_SIZE));
      if (token) query.set("page_token", token);
      return api("GET", "/api/v1/letters?" + query.toString()).then(function (reply) {
        if (!reply.ok) return reply;
        items = items.concat(reply.body.items || []);
        var next = reply.body.next_page_token;
        if (next && left > 1) return page(next, left - 1);
        return { ok: true, items: items, capped: !!next };
      });
    }
    return page(null, MAX_PAGES);
  }

  C.letters = {
    STAGES: STAGES,
    named: named,
    when: when,
    timeNode: timeNode,
    standing: standing,
    loadNames: loadNames,
    streetName: streetName,
    streetNames: function () {
      return names.streets;
    },
    unitName: unitName,
    allLetters: allLetters,
  };

  // ------------------------------------------------------------- the queues

  // The queues of the caller's role: {id, title, hint, stage, keep(letter)}.
  function queuesFor(claims) {
    var me = unitOf(claims);
    var queues = [];
    function add(id, title, hint, stage, keep) {
      queues.push({ id: id, title: t(title), hint: hint ? t(hint) : "", stage: stage, keep: keep });
    }
    var awaitsExtension = function (letter) {
      return !!pendingExtension(letter) && sameUnit(supervisorOf(letter), me);
    };
    switch (claims.role) {
      case "street_committee":
        if (claims.position === DEPUTY_DIRECTOR) add("sign-off", "qSignOff", "qSignOffHint", "deputy_director_sign_off");
        if (claims.position === DIRECTOR) add("sign-off", "qSignOff", "qSignOffHint", "director_sign_off");
        add("jurisdiction", "qJurisdiction", "qJurisdictionHint", "jurisdiction");
        add("extensions", "qExtensions", "qExtensionsHint", "in_hand", awaitsExtension);
        add("feed-back", "qFeedBack", "qFeedBackHint", "answered");
        add("rate", "qRate", "qRateHint", "fed_back", function (letter) {
          return !rated(letter, "constituent");
        });
        break;
      case "deputy":
        add("sign-off", "qSignOff", "qSignOffHint", "deputy_sign_off", function (letter) {
          return letter.deputy_id === claims.deputy_id;
        });
        add("rate", "qRate", "qRateHint", "fed_back", function (letter) {
          return letter.deputy_id === claims.deputy_id && !rated(letter, "deputy");
        });
        break;
      case "working_body":
        add("review", "qReview", "qReviewHint", "review");
        break;
      case "standing_committee_office":
        add("dispatch", "qDispatch", null, "dispatch");
        add("extensions", "qExtensions", "qExtensionsHint", "in_hand", awaitsExtension);
        break;
      case "government_office":
        add("assignment", "qAssignment", "qAssignmentHint", "assignment");
        break;
      case "department":
        add("inbox", "qInbox", "qInboxHint", ["awaiting_receipt", "in_hand"], function (letter) {
          return sameUnit(letter.handler, me) || !!hopTo(letter, me);
        });
        break;
    }
    return queues;
  }

  var browse = { stage: "", street: "", items: [], next: null };

  function lettersScreen(user) {
    var match = /^#\/letters\/(\d+)/.exec(location.hash);
    if (match) return letterScreen(user, Number(match[1]));
    var queues = el("div", { className: "letter-queues", id: "letter-queues", "aria-busy": "true" }, [
      el("p", { className: "note", text: t("lLoadingQueues") }),
    ]);
    var browsing = el("section", { className: "panel letters-browse", "aria-labelledby": "browse-title" });
    C.main.replaceChildren(
      el("h1", { id: "screen-title", tabindex: "-1", text: t("lettersTitle") }),
      el("section", { className: "panel", "aria-labelledby": "todo-title" }, [el("h2", { id: "todo-title", text: t("lTodo") }), queues]),
      browsing
    );
    loadNames().then(function () {
      showQueues(queues, user.claims);
      showBrowse(browsing, user.claims);
    });
  }

  function showQueues(container, claims) {
    var queues = queuesFor(claims);
    if (!queues.length) {
      container.setAttribute("aria-busy", "false");
      return container.replaceChildren(el("p", { className: "note", text: t("lNoActions") }));
    }
    // One read per stage, shared by the queues of that stage.
    var stages = {};
    queues.forEach(function (q) {
      [].concat(q.stage).forEach(function (s) {
        stages[s] = stages[s] || allLetters({ stage: s });
      });
    });
    Promise.all(
      queues.map(function (q) {
        return Promise.all(
          [].concat(q.stage).map(function (s) {
            return stages[s];
          })
        );
      })
    ).then(function (results) {
      container.setAttribute("aria-busy", "false");
      var children = [];
      var any = false;
      queues.forEach(function (q, index) {
        var failed = results[index].filter(function (r) {
          return !r.ok;
        })[0];
        var section = el("section", { className: "letter-queue", id: "queue-" + q.id, "aria-labelledby": "queue-" + q.id + "-title" });
        if (failed) {
          section.appendChild(el("h3", { id: "queue-" + q.id + "-title", text: q.title }));
          section.appendChild(C.problemBox(failed));
          children.push(section);
          return;
        }
        var letters = [];
        results[index].forEach(function (r) {
          letters = letters.concat(r.items);
        });
        letters = letters.filter(q.keep || function () {
          return true;
        });
        if (q.id === "inbox") {
          // The nearest deadline first; letters not acknowledged yet before.
          letters.sort(function (a, b) {
            var x = a.deadline ? a.deadline.last_day : "";
            var y = b.deadline ? b.deadline.last_day : "";
            return x === y ? a.id - b.id : x < y ? -1 : 1;
          });
        }
        any = any || letters.length > 0;
        section.appendChild(el("h3", { id: "queue-" + q.id + "-title", text: t("lQueueTitle", { title: q.title, count: letters.length }) }));
        if (q.hint) section.appendChild(el("p", { className: "hint", text: q.hint }));
        if (letters.length) section.appendChild(letterTable(letters, claims, q.id === "inbox"));
        if (results[index].some(function (r) { return r.capped; })) {
          section.appendChild(el("p", { className: "note", text: t("lCapped", { count: letters.length }) }));
        }
        children.push(section);
      });
      if (!any) children.unshift(el("p", { className: "note", id: "nothing-to-do", text: t("lNothingToDo") }));
      container.replaceChildren.apply(container, children);
    });
  }

  function letterTable(letters, claims, inbox) {
    var head = [t("lCode"), t("lCategory"), t("lStreet"), t("lStage"), t("lUpdated")];
    if (inbox) head.push(t("lMyReceipt"), t("lLastDay"), t("lDaysLeft"));
    else head.push(t("lDue"));
    var table = el("table", { className: "queue-table letters-table" }, [
      el("thead", {}, [
        el(
          "tr",
          {},
          head.map(function (h) {
            return el("th", { scope: "col", text: h });
          })
        ),
      ]),
    ]);
    var body = el("tbody");
    var me = unitOf(claims);
    letters.forEach(function (letter) {
      var cells = [
        el("th", { scope: "row" }, [el("a", { href: "#/letters/" + letter.id, text: letter.tracking_code })]),
        el("td", { text: named("categories", letter.category) }),
        el("td", { text: streetName(letter.street_id) }),
        el("td", { className: "status", text: named("stages", letter.stage) }),
        el("td", {}, [timeNode(letter.updated_at)]),
      ];
      var state = standing(letter);
      if (inbox) {
        var hop = hopTo(letter, me);
        cells.push(el("td", { text: hop && hop.received_at ? t("lReceived") : t("lNotReceived") }));
        cells.push(el("td", { text: letter.deadline ? letter.deadline.last_day : "—" }));
        cells.push(el("td", { className: state && state.overdue ? "overdue" : "", text: state ? state.text : "—" }));
      } else {
        cells.push(el("td", {}, [state ? el("span", { className: state.overdue ? "overdue" : "", text: state.text }) : timeNode(letter.stage_due_at)]));
      }
      body.appendChild(el("tr", { "data-letter": letter.id }, cells));
    });
    table.appendChild(body);
    return el("div", { className: "table-scroll" }, [table]);
  }

  // Every letter the caller may read, by stage (and street for the district).
  function showBrowse(section, claims) {
    var district = C.DISTRICT_ROLES.indexOf(claims.role) >= 0 || ["working_body", "government_office"].indexOf(claims.role) >= 0;
    var stage = el("select", { name: "stage" }, [el("option", { value: "", text: t("lAllStages") })]);
    STAGES.forEach(function (s) {
      stage.appendChild(el("option", { value: s, text: named("stages", s), selected: s === browse.stage }));
    });
    var row = el("div", { className: "field-row" }, [C.field("browse-stage", t("lStage"), stage)]);
    var street = null;
    if (district) {
      street = el("select", { name: "street_id" }, [el("option", { value: "", text: t("lAllStreets") })]);
      Object.keys(names.streets).forEach(function (id) {
        street.appendChild(el("option", { value: id, text: names.streets[id], selected: id === browse.street }));
      });
      row.appendChild(C.field("browse-street", t("lStreet"), street));
    }
    var list = el("div", { className: "browse-list" });
    var form = el(
      "form",
      {
        className: "browse-filters",
        novalidate: true,
        "aria-label": t("qBrowse"),
        onsubmit: function (event) {
          event.preventDefault();
          browse.stage = stage.value;
          browse.street = street ? street.value : "";
          loadBrowse(list, claims, false, form);
        },
      },
      [row, el("button", { type: "submit", text: t("lShow") })]
    );
    section.replaceChildren(el("h2", { id: "browse-title", text: t("qBrowse") }), form, list);
    loadBrowse(list, claims, false, form);
  }

  function loadBrowse(list, claims, more, form) {
    var query = new URLSearchParams({ page_size: "50" });
    if (browse.stage) query.set("stage", browse.stage);
    if (browse.street) query.set("street_id", browse.street);
    if (more && browse.next) query.set("page_token", browse.next);
    list.setAttribute("aria-busy", "true");
    api("GET", "/api/v1/letters?" + query.toString()).then(function (reply) {
      list.setAttribute("aria-busy", "false");
      if (!reply.ok) return list.replaceChildren(C.problemBox(reply, form));
      browse.items = (more ? browse.items : []).concat(reply.body.items || []);
      browse.next = reply.body.next_page_token || null;
      if (!browse.items.length) return list.replaceChildren(el("p", { className: "note", text: t("lNone") }));
      list.replaceChildren(letterTable(browse.items, claims, false));
      if (browse.next) {
        list.appendChild(
          el("button", {
            type: "button",
            className: "secondary",
            text: t("lMore", { count: 50 }),
            onclick: function () {
              loadBrowse(list, claims, true, form);
            },
          })
        );
      }
    });
  }

  // -------------------------------------------------------------- one letter

  function letterScreen(user, id) {
    var detail = el("section", { className: "letter-detail", id: "letter-detail", "aria-busy": "true" }, [
      el("p", { className: "note", text: t("loading") }),
    ]);
    C.main.replaceChildren(
      el("p", { className: "back" }, [el("a", { href: "#/letters", text: t("lBack") })]),
      el("h1", { id: "screen-title", tabindex: "-1", text: t("lLetter", { code: "" }).trim() }),
      detail
    );
    Promise.all([loadNames(), api("GET", "/api/v1/letters/" + id)]).then(function (results) {
      var reply = results[1];
      detail.setAttribute("aria-busy", "false");
      if (!reply.ok) return detail.replaceChildren(C.problemBox(reply));
      showLetter(reply.body, detail, user.claims);
    });
  }

  function fact(list, label, value) {
    if (value === null || value === undefined || value === "") return;
    list.appendChild(el("dt", { text: label }));
    list.appendChild(el("dd", {}, [typeof value === "string" ? document.createTextNode(value) : value]));
  }

  function table(className, head, rows) {
    var node = el("table", { className: "queue-table " + className }, [
      el("thead", {}, [
        el(
          "tr",
          {},
          head.map(function (h) {
            return el("th", { scope: "col", text: h });
          })
        ),
      ]),
    ]);
    var body = el("tbody");
    rows.forEach(function (cells) {
      body.appendChild(
        el(
          "tr",
          {},
          cells.map(function (c, index) {
            var cell = el(index === 0 ? "th" : "td", index === 0 ? { scope: "row" } : {});
            cell.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
            return cell;
          })
        )
      );
    });
    node.appendChild(body);
    return el("div", { className: "table-scroll" }, [node]);
  }

  function showLetter(letter, detail, claims, focusId) {
    var title = document.getElementById("screen-title");
    title.textContent = t("lLetter", { code: letter.tracking_code });
    var facts = el("dl", { className: "facts" });
    fact(facts, t("lStage"), named("stages", letter.stage));
    fact(facts, t("lAwaits"), letter.stage === "closed" ? "" : awaitsText(letter));
    fact(facts, t("lRoute"), letter.route ? named("routes", letter.route) : "");
    fact(facts, t("lStreet"), streetName(letter.street_id));
    fact(facts, t("lCommunity"), letter.community_name);
    fact(facts, t("lCategory"), named("categories", letter.category));
    fact(facts, t("lDeputy"), letter.deputy_id ? t("lDeputyN", { id: letter.deputy_id }) : "");
    fact(facts, t("lOpened"), timeNode(letter.opened_at));
    fact(facts, t("lHandler"), unitName(letter.handler));
    fact(
      facts,
      t("lCoHandlers"),
      (letter.co_handlers || []).map(unitName).join("、")
    );
    fact(facts, t("lRound"), (letter.round || 1) > 1 ? t("lRoundN", { round: letter.round }) : "");
    if (letter.stage_due_at && !letter.deadline) fact(facts, t("lStageDue"), timeNode(letter.stage_due_at));
    fact(facts, t("lNote"), letter.note);

    var children = [
      facts,
      el("h2", { text: t("lContent") }),
      el("p", { className: "opinion-content", text: letter.content }),
      deadlineBlock(letter),
      actionsPanel(letter, detail, claims),
      el("h2", { text: t("lHops") }),
    ];
    var hops = letter.hops || [];
    children.push(
      hops.length
        ? table(
            "hops-table",
            [t("lFrom"), t("lTo"), t("lHopKind"), t("lSent"), t("lReceivedCol")],
            hops.map(function (h) {
              return [unitName(h.from_unit), unitName(h.to_unit), named("hopKinds", h.kind), timeNode(h.sent_at), timeNode(h.received_at)];
            })
          )
        : el("p", { className: "note", text: t("lNoHops") })
    );
    if ((letter.sign_offs || []).length) {
      var signs = el("ol", { className: "timeline sign-offs" });
      letter.sign_offs.forEach(function (s) {
        signs.appendChild(
          el("li", { className: s.refused ? "refused" : "" }, [
            timeNode(s.at),
            " ",
            el("strong", { text: named("signers", s.signer) }),
            " ",
            el("span", { text: s.refused ? t("lRefused", { text: s.comment }) : s.comment }),
          ])
        );
      });
      children.push(el("h2", { text: t("lSignOffs") }), signs);
    }
    if ((letter.answers || []).length) {
      children.push(el("h2", { text: t("lAnswers") }));
      var files = {};
      (letter.attachments || []).forEach(function (a) {
        files[a.sha256] = a;
      });
      letter.answers.forEach(function (a) {
        var block = el("article", { className: "letter-answer" }, [
          el("h3", { text: t("lAnswerRound", { round: a.round || 1 }) + " · " + unitName(a.by) }),
          timeNode(a.at),
          el("p", { className: "opinion-content", text: a.text }),
        ]);
        if ((a.attachments || []).length) {
          var list = el("ul", { className: "answer-files", "aria-label": t("lFiles") });
          a.attachments.forEach(function (hash) {
            var meta = files[hash] || { filename: hash };
            list.appendChild(
              el("li", {}, [
                el("button", {
                  type: "button",
                  className: "link",
                  text: meta.filename,
                  "aria-describedby": "file-" + hash,
                  onclick: function () {
                    download(letter.id, meta);
                  },
                }),
                " ",
                el("code", { id: "file-" + hash, text: hash }),
              ])
            );
          });
          block.appendChild(list);
        }
        children.push(block);
      });
    }
    if ((letter.ratings || []).length) {
      children.push(
        el("h2", { text: t("lRatings") }),
        table(
          "ratings-table",
          [t("fRater"), t("fSatisfaction"), t("lRound"), t("lUpdated")],
          letter.ratings.map(function (r) {
            return [named("raters", r.rater), named("satisfactions", r.satisfaction), String(r.round || 1), timeNode(r.at)];
          })
        )
      );
    }
    if ((letter.extensions || []).length) {
      children.push(
        el("h2", { text: t("lExtensions") }),
        table(
          "extensions-table",
          [t("lRequestedAt"), t("lReason"), t("lRequestedDay"), t("lDecision"), t("fDecisionComment")],
          letter.extensions.map(function (x) {
            return [
              timeNode(x.requested_at),
              x.reason,
              x.requested_last_day,
              x.decision ? named("decisions", x.decision) : t("lPending"),
              x.comment || "",
            ];
          })
        )
      );
    }
    detail.replaceChildren.apply(detail, children);
    var focus = focusId && document.getElementById(focusId);
    if (focus) focus.focus();
  }

  // A file of the letter's answers, read with the caller's token and saved
  // under its name.
  function download(letterId, meta) {
    var user = C.currentUser();
    fetch("/api/v1/letters/" + letterId + "/attachments/" + meta.sha256, {
      headers: { Authorization: "Bearer " + (user ? user.token : "") },
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.blob();
      })
      .then(function (blob) {
        var url = URL.createObjectURL(blob);
        var link = el("a", { href: url, download: meta.filename });
        document.body.appendChild(link);
        link.click();
        link.remove();
        window.setTimeout(function () {
          URL.revokeObjectURL(url);
        }, 1000);
      })
      .catch(function (error) {
        C.announce(t("errorTitle") + ": " + (error.message || String(error)));
      });
  }

  function awaitsText(letter) {
    var pending = pendingExtension(letter);
    var text = named("awaitsStages", letter.stage);
    if (pending) text += "；" + t("qExtensions") + "（" + unitName(supervisorOf(letter)) + "）";
    return text;
  }

  function deadlineBlock(letter) {
    var block = el("section", { className: "letter-deadline", "aria-labelledby": "deadline-title" }, [
      el("h2", { id: "deadline-title", text: t("lDeadline") }),
    ]);
    var deadline = letter.deadline;
    if (!deadline || !deadline.last_day) {
      block.appendChild(el("p", { className: "note", text: t("lNoDeadline") }));
      return block;
    }
    var facts = el("dl", { className: "facts" });
    var state = standing(letter);
    fact(facts, t("lReceivedAt"), timeNode(deadline.received_at));
    fact(facts, t("lLastDay"), deadline.last_day + (deadline.extended ? "（" + t("lExtended") + "）" : ""));
    if (letter.stage === "in_hand" || letter.stage === "awaiting_receipt") {
      fact(facts, t("lDaysLeft"), el("span", { id: "days-left", className: state.overdue ? "overdue" : "", text: state.text }));
    }
    block.appendChild(facts);
    if (deadline.holidays_known === false) block.appendChild(el("p", { className: "note", text: t("lHolidaysUnknown") }));
    return block;
  }

  // ---------------------------------------------------------------- actions

  var ACTIONS = {
    decide: { path: "decide-jurisdiction", label: "aDecide" },
    sign_off: { path: "sign-off", label: "aSignOff" },
    refuse: { path: "refuse-sign-off", label: "aRefuse" },
    accept: { path: "review", label: "aAccept" },
    return: { path: "review", label: "aReturn" },
    dispatch: { path: "dispatch", label: "aDispatch" },
    assign: { path: "assign", label: "aAssign" },
    acknowledge: { path: "acknowledge", label: "aAcknowledge" },
    answer: { path: "answer", label: "aAnswer" },
    extension: { path: "request-extension", label: "aExtension" },
    decide_extension: { path: "decide-extension", label: "aDecideExtension" },
    feed_back: { path: "feed-back", label: "aFeedBack" },
    rate: { path: "rate", label: "aRate" },
  };

  function actionsPanel(letter, detail, claims) {
    var section = el("section", { className: "opinion-actions letter-actions", "aria-labelledby": "actions-title" }, [
      el("h2", { id: "actions-title", text: t("lActions") }),
    ]);
    var actions = actionsFor(letter, claims);
    if (!actions.length) {
      section.appendChild(el("p", { className: "note", id: "no-action", text: t("lNoActionNow") }));
      return section;
    }
    var panel = el("div", { id: "action-panel" });
    var bar = el("div", { className: "actions", role: "group", "aria-label": t("lActions") });
    actions.forEach(function (action) {
      var button = el("button", {
        type: "button",
        className: "secondary",
        id: "act-" + action.replace(/_/g, "-"),
        "aria-expanded": "false",
        "aria-controls": "action-panel",
        text: t(ACTIONS[action].label),
        onclick: function () {
          Array.prototype.forEach.call(bar.querySelectorAll("button"), function (b) {
            b.setAttribute("aria-expanded", String(b === button));
          });
          actionForm(action, letter, panel, button, detail, claims);
        },
      });
      bar.appendChild(button);
    });
    section.appendChild(bar);
    section.appendChild(panel);
    return section;
  }

  function textBox(name, required, max) {
    return el("textarea", { name: name, rows: "3", maxlength: String(max || 500), required: required });
  }

  // Radio buttons in a fieldset: [[value, label, hint]]; the first checked.
  function radios(name, legend, options, idPrefix) {
    var set = el("fieldset", { className: "choices" }, [el("legend", { text: legend })]);
    options.forEach(function (o, index) {
      var id = idPrefix + "-" + o[0];
      var input = el("input", { type: "radio", name: name, id: id, value: o[0], checked: index === 0 });
      var line = el("div", { className: "check" }, [input, el("label", { for: id, text: o[1] })]);
      if (o[2]) {
        input.setAttribute("aria-describedby", id + "-hint");
        line.appendChild(el("p", { className: "hint", id: id + "-hint", text: o[2] }));
      }
      set.appendChild(line);
    });
    return set;
  }

  function checked(form, name) {
    var picked = form.querySelector("input[name=" + name + "]:checked");
    return picked ? picked.value : "";
  }

  // The fields of one action: {nodes, focus, body(form) -> request body}.
  function fieldsOf(action, letter, claims) {
    var input;
    switch (action) {
      case "decide": {
        var route = radios("route", t("fRoute"), [["street", t("fRouteStreet"), t("fRouteStreetHint")], ["district", t("fRouteDistrict"), t("fRouteDistrictHint")]], "route");
        return { nodes: [route], focus: route.querySelector("input"), body: function (form) { return { route: checked(form, "route") }; } };
      }
      case "sign_off":
        input = textBox("comment", false);
        return { nodes: [C.field("sign-comment", t("fComment"), input)], focus: input, body: function () { return { comment: input.value.trim() }; } };
      case "refuse":
        input = textBox("reason", true);
        return { nodes: [C.field("refuse-reason", t("fRefuseReason"), input, t("fRefuseHint"))], focus: input, body: function () { return { reason: input.value.trim() }; } };
      case "accept":
        input = textBox("reason", false);
        return { nodes: [C.field("accept-reason", t("fAcceptComment"), input)], focus: input, body: function () { return { accept: true, reason: input.value.trim() }; } };
      case "return":
        input = textBox("reason", true);
        return { nodes: [C.field("return-reason", t("fReturnReason"), input)], focus: input, body: function () { return { accept: false, reason: input.value.trim() }; } };
      case "dispatch":
        return { nodes: [el("p", { text: t("fDispatchText") })], focus: null, body: function () { return {}; } };
      case "acknowledge":
        return { nodes: [el("p", { text: t("fAcknowledgeText") })], focus: null, body: function () { return {}; } };
      case "assign":
        return assignFields();
      case "answer": {
        input = textBox("text", true, 5000);
        input.rows = 6;
        var files = el("input", { type: "file", name: "attachments", multiple: true });
        return {
          nodes: [C.field("answer-text", t("fAnswerText"), input, t("fAnswerHint")), C.field("answer-files", t("fFiles"), files, t("fFilesHint"))],
          focus: input,
          files: files,
          body: function () { return { text: input.value.trim(), attachments: [] }; },
        };
      }
      case "extension": {
        input = textBox("reason", true);
        var day = el("input", { type: "date", name: "requested_last_day", required: true });
        if (letter.deadline && letter.deadline.last_day) day.min = letter.deadline.last_day;
        return {
          nodes: [C.field("extension-reason", t("fExtensionReason"), input), C.field("extension-day", t("fLastDay"), day, t("fLastDayHint"))],
          focus: input,
          body: function () { return { reason: input.value.trim(), requested_last_day: day.value || null }; },
        };
      }
      case "decide_extension": {
        var pending = pendingExtension(letter);
        var decision = radios("approve", t("aDecideExtension"), [["true", t("fApprove")], ["false", t("fRefuseExtension")]], "approve");
        input = textBox("comment", false);
        var summary = el("p", { text: t("lReason") + "：" + pending.reason + "；" + t("lRequestedDay") + "：" + pending.requested_last_day });
        return {
          nodes: [summary, decision, C.field("decision-comment", t("fDecisionComment"), input)],
          focus: decision.querySelector("input"),
          body: function (form) { return { approve: checked(form, "approve") === "true", comment: input.value.trim() }; },
        };
      }
      case "feed_back":
        input = textBox("comment", false);
        return { nodes: [C.field("feedback-comment", t("fFeedBackComment"), input)], focus: input, body: function () { return { comment: input.value.trim() }; } };
      case "rate": {
        var rater = claims.role === "deputy" ? "deputy" : "constituent";
        var satisfaction = radios(
          "satisfaction",
          t("fSatisfaction") + "（" + named("raters", rater) + "）",
          ["satisfied", "basically_satisfied", "dissatisfied"].map(function (s) { return [s, named("satisfactions", s)]; }),
          "satisfaction"
        );
        var reopen = el("input", { type: "checkbox", name: "reopen", id: "rate-reopen" });
        return {
          nodes: [satisfaction, el("div", { className: "check" }, [reopen, el("label", { for: "rate-reopen", text: t("fReopen") })])],
          focus: satisfaction.querySelector("input"),
          body: function (form) { return { rater: rater, satisfaction: checked(form, "satisfaction"), reopen: reopen.checked }; },
        };
      }
    }
    return null;
  }

  function assignFields() {
    var lead = el("select", { name: "lead_department_id", required: true });
    var co = el("fieldset", { className: "choices co-handlers" }, [el("legend", { text: t("fCoHandlers") })]);
    var boxes = el("div", { className: "deputy-boxes" });
    names.departments.forEach(function (u) {
      lead.appendChild(el("option", { value: u.id, text: u.name }));
      var id = "co-" + u.id;
      boxes.appendChild(el("div", { className: "check" }, [el("input", { type: "checkbox", name: "co_handler_ids", id: id, value: u.id }), el("label", { for: id, text: u.name })]));
    });
    co.appendChild(boxes);
    return {
      nodes: [C.field("assign-lead", t("fLead"), lead), co],
      focus: lead,
      body: function (form) {
        var ids = Array.prototype.map.call(form.querySelectorAll("input[name=co_handler_ids]:checked"), function (b) {
          return Number(b.value);
        });
        return { lead_department_id: Number(lead.value) || null, co_handler_ids: ids };
      },
    };
  }

  // One file to the letter's answer files: the same reply as api().
  function upload(letterId, file) {
    var user = C.currentUser();
    var data = new FormData();
    data.append("file", file, file.name);
    return fetch("/api/v1/letters/" + letterId + "/attachments", {
      method: "POST",
      headers: { Accept: "application/json", Authorization: "Bearer " + (user ? user.token : "") },
      body: data,
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (body) {
            return { ok: response.ok, status: response.status, body: body };
          });
      })
      .catch(function () {
        return { ok: false, status: 0, body: { detail: t("networkError") } };
      });
  }

  function uploadAll(letter, input, outcome) {
    var files = Array.prototype.slice.call((input && input.files) || []);
    var hashes = [];
    function next(index) {
      if (index >= files.length) return Promise.resolve({ ok: true, hashes: hashes });
      outcome.replaceChildren(el("p", { className: "note", role: "status", text: t("fUploading", { name: files[index].name }) }));
      return upload(letter.id, files[index]).then(function (reply) {
        if (!reply.ok) return reply;
        hashes.push(reply.body.sha256);
        return next(index + 1);
      });
    }
    return next(0);
  }

  function actionForm(action, letter, panel, button, detail, claims) {
    var spec = fieldsOf(action, letter, claims);
    var outcome = el("div", { className: "form-outcome" });
    var form = el(
      "form",
      {
        id: "action-form",
        className: "action-form",
        novalidate: true,
        "aria-label": t(ACTIONS[action].label) + " " + letter.tracking_code,
        onsubmit: function (event) {
          event.preventDefault();
          C.clearFieldErrors(form);
          outcome.replaceChildren();
          var body = spec.body(form);
          var ready = spec.files ? uploadAll(letter, spec.files, outcome) : Promise.resolve({ ok: true });
          ready
            .then(function (uploaded) {
              if (!uploaded.ok) return uploaded;
              outcome.replaceChildren();
              if (uploaded.hashes) body.attachments = uploaded.hashes;
              return api("POST", "/api/v1/letters/" + letter.id + ":" + ACTIONS[action].path, body);
            })
            .then(function (reply) {
              if (!reply.ok) return failed(reply);
              // A step answers with the letter; its files' names come with a read of it.
              return api("GET", "/api/v1/letters/" + letter.id).then(function (again) {
                showLetter(again.ok ? again.body : reply.body, detail, claims, "screen-title");
                C.announce(t("done")[action].replace("{code}", reply.body.tracking_code));
              });
            });
        },
      },
      [
        el("div", {}, spec.nodes),
        el("div", { className: "actions" }, [
          el("button", { type: "submit", id: "action-submit", text: t(ACTIONS[action].label) }),
          el("button", {
            type: "button",
            className: "secondary",
            text: t("lClose"),
            onclick: function () {
              panel.replaceChildren();
              button.setAttribute("aria-expanded", "false");
              button.focus();
            },
          }),
        ]),
        outcome,
      ]
    );

    function failed(reply) {
      outcome.replaceChildren(C.problemBox(reply, form));
      var invalid = form.querySelector("[aria-invalid=true]");
      if (invalid) return invalid.focus();
      var alert = outcome.querySelector("[role=alert]");
      alert.setAttribute("tabindex", "-1");
      alert.focus();
    }

    panel.replaceChildren(form);
    (spec.focus || form.querySelector("#action-submit")).focus();
  }

  C.screen("letters", lettersScreen);
})();
