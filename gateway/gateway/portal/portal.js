// The public portal: find my liaison station and my deputies; book a place
// at a session; raise an opinion online and follow it by its tracking code,
// with its referral letter (转办函) once handed on. Constituents may sign in
// (/shared/signin.js, the console's sign-in too): what they raise online is
// theirs, and "my letters" rates the answers fed back to them.
// Calls the gateway's API; errors are RFC 9457 problem details. Everything
// is rendered with textContent. zh-CN, with an English switch in the header
// (kept in localStorage).
"use strict";

(function () {
  var LANG_KEY = "liaison.portal.lang";
  var TEXT = {
    "zh-CN": {
      title: "找到我的人大代表联络站 · 人大代表联络平台",
      description: "查找您所在社区的人大代表联络站和人大代表，了解每月15日代表接待选民的时间地点。",
      skip: "跳到主要内容",
      siteName: "人大代表联络平台",
      heading: "找到我的人大代表联络站",
      lede: "每个社区都有人大代表联络站。每月15日，代表在联络站面对面接待选民，听取您的意见和建议。",
      addressLabel: "输入您的住址、小区或社区名称",
      addressHint: "例如：林和东路、某某花园、某某社区。写上路名或小区名即可，不必写门牌号。",
      search: "查找",
      searching: "正在查找…",
      footer: "本页只公开代表的姓名、职业、专长和所在联络站。有意见或建议，欢迎在每月15日到联络站当面反映。",
      level_national: "全国人大代表",
      level_provincial: "省人大代表",
      level_city: "市人大代表",
      level_district: "区人大代表",
      weekdays: ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
      date: "{year}年{month}月{day}日",
      place: "地点",
      address: "地址",
      hours: "开放时间",
      noVenue: "暂未公布，请向所在社区居委会咨询",
      yourStation: "为您服务的联络站",
      nextDay: "下次代表接待日",
      today: "就是今天",
      tomorrow: "就是明天",
      inDays: "还有 {days} 天",
      receptionNote: "每月15日，联络站的人大代表在站接待选民，欢迎当面反映意见和建议。",
      head: "站长",
      headTitle: "联络站站长",
      expertise: "专长",
      biography: "简介",
      stationDeputies: "联络站的人大代表",
      count: "共 {n} 位",
      noDeputies: "这个联络站暂未登记代表。",
      otherDeputies: "其他代表",
      contacts: "本社区的定点联系代表",
      contactsNote: "这些代表固定联系{community}，平时也可以通过社区居委会联系他们。",
      extra: "增加接待",
      cancelled: "已取消",
      cancelReason: "取消原因：{reason}",
      sessions: "近期接待安排",
      sessionsLoading: "正在查询接待安排…",
      subscribe: "订阅联络站接待日历（iCalendar）",
      noSessions: "未来三个月暂无接待安排，请留意联络站通知。",
      sessionsFailed: "暂时无法查询接待安排，请稍后再试。",
      rotaTitle: "接待代表",
      levelOne: {national: "全国人大代表", provincial: "省人大代表", city: "市人大代表", district: "区人大代表"},
      rotaLead: "带班",
      rotaLeadTitle: "带班的站长或副站长",
      rotaLoading: "正在查询接待代表…",
      rotaNone: "接待代表尚未排定，请留意联络站通知。",
      rotaGaps: "部分接待代表尚待补充。",
      rotaFailed: "暂时无法查询接待代表。",
      listSeparator: "，",
      venueAddress: "{venue}（{address}）",
      found: "已找到您的社区{street}，由{station}服务。",
      foundStreet: "（{street}）",
      yourCommunity: "您的社区",
      notFoundTitle: "没有找到这个地址所在的社区",
      notFoundText: "我们没有在本区找到“{address}”对应的社区。请检查输入，或改用路名、小区名或社区名称再试。",
      ambiguousTitle: "请把地址写得更具体一些",
      ambiguousNamed: "这个地址可能属于以下几个社区：{names}。请加上小区名或社区名称再查找。",
      ambiguous: "这个地址可能属于几个社区。请加上小区名或社区名称再查找。",
      invalidTitle: "请检查输入的地址",
      tooLong: "地址太长了，请只输入路名、小区或社区名称（300字以内）。",
      tooShort: "请至少输入两个字的路名、小区或社区名称。",
      busyTitle: "查询太频繁了",
      busyText: "请稍等片刻再试。",
      failedTitle: "暂时无法查询",
      failedText: "服务暂时不可用，请稍后再试。",
      requestId: "（查询编号：{id}）",
      emptyTitle: "请输入地址",
      emptyText: "请输入您的住址、小区或社区名称。",
      networkTitle: "网络连接失败",
      networkText: "请检查网络连接后再试。",
      book: "预约这次接待",
      bookTitle: "预约接待",
      slot: "时段",
      slotFree: "{label} {start}–{end}（剩余 {n} 个名额）",
      slotFull: "{label} {start}–{end}（已满，可排队候补）",
      slotClosed: "{label} {start}–{end}（已截止）",
      name: "姓名",
      phone: "联系电话",
      phoneHint: "手机号或带区号的固定电话，例如 13800138000。",
      community: "所在社区",
      topic: "想反映的事项",
      waitlist: "名额已满时排队候补",
      submitBooking: "提交预约",
      booked: "预约成功",
      waitlisted: "已加入候补队列（第 {n} 位）",
      waitlistNote: "有人取消预约时，按候补顺序自动递补。",
      cancelCode: "取消码",
      cancelCodeNote: "取消码只显示这一次，请记下或截图保存。如需取消，在下方输入取消码。",
      cancelBooking: "取消预约",
      cancelled_ok: "预约已取消。",
      fullTitle: "这个时段已满",
      fullText: "可以勾选“名额已满时排队候补”后再次提交。",
      checkFields: "请检查标出的内容。",
      bookFailed: "预约没有成功：{detail}",
      opinionTitle: "网上反映意见建议",
      opinionNote: "意见建议由为本社区服务的联络站受理，提交后会给您一个查询码。",
      category: "类别",
      content: "意见建议内容",
      raiserName: "您的姓名",
      raiserPhone: "联系电话",
      raiserContact: "其他联系方式（可不填）",
      submitOpinion: "提交意见",
      opinionDone: "已收到您的意见",
      trackingCode: "查询码",
      trackingNote: "请记下查询码，可随时在本页“查询办理进度”中查看。",
      trackTitle: "查询意见办理进度",
      trackSubmit: "查询",
      trackStatus: "办理状态",
      trackStation: "受理联络站",
      status_recorded: "已登记",
      status_answered_on_the_spot: "已当场答复",
      status_handed_on: "已转交办理",
      status_merged: "已合并办理",
      status_declined: "不予受理",
      status_in_progress: "办理中",
      status_done: "已办结",
      signIn: "选民登录",
      signInHint: "登录后，网上反映的意见记在您的账号下，可以查看转办情况并评价答复。不登录也可以使用本页其他功能。",
      signOut: "退出登录",
      signedInAs: "已登录：",
      signInBusy: "正在登录…",
      signInFailed: "登录没有完成：{reason}",
      signInNotConfigured: "暂未开通选民登录。",
      opinionSignedIn: "您已登录，这条意见记在您的账号下；转交办理后，可以在“我的意见转办情况”中查看并评价答复。",
      followLink: "查看办理进度",
      letterTitle: "转办函办理情况",
      letterLoading: "正在查询转办函…",
      letterFailed: "暂时无法查询转办函，请稍后再试。",
      letterStage: "当前环节",
      letterRound: "第{n}轮办理（不满意后重新办理）",
      handler: "承办单位",
      coHandlers: "协办单位",
      noHandler: "尚未确定",
      deadline: "法定答复期限",
      deadlineNote: "承办单位自签收之日起三个月内书面答复。",
      lastDay: "最后一天：{day}",
      daysLeft: "还有 {n} 天",
      lastDayToday: "今天是最后一天",
      overdue: "已超期 {n} 天",
      answeredInTime: "已按期答复",
      answeredLate: "答复超过期限",
      extended: "已批准延期",
      deadlinePending: "承办单位签收后开始计算",
      hops: "流转经过",
      hopSent: "发出",
      hopReceived: "签收",
      hopNotReceived: "尚未签收",
      arrow: "→",
      signOffs: "签署",
      signOffRefused: "退回",
      signOffDone: "已签署",
      answers: "书面答复",
      answerBy: "第{round}轮答复 · {unit}",
      ratings: "评价",
      ratingRound: "第{round}轮",
      noYet: "暂无",
      stages: {
        jurisdiction: "等待街道人大工委确定由街道还是区里办理",
        deputy_sign_off: "等待代表签署意见",
        deputy_director_sign_off: "等待街道人大工委专职副主任签署",
        director_sign_off: "等待街道人大工委主任签署",
        review: "等待区人大常委会工作机构审查",
        dispatch: "等待区人大常委会办公室转送区政府办公室",
        assignment: "等待区政府办公室交办职能部门",
        awaiting_receipt: "等待承办单位签收",
        in_hand: "承办单位办理中，等待书面答复",
        answered: "已书面答复，等待街道人大工委反馈",
        fed_back: "答复已反馈，等待评价",
        closed: "已办结",
      },
      hopKinds: {
        to_street_office: "交街道办事处办理",
        to_review: "报送审查",
        returned: "退回街道",
        to_dispatch: "转送区人大常委会办公室",
        to_government_office: "转送区政府办公室",
        co_handling: "交协办单位",
        to_lead_department: "交承办单位",
        answer: "书面答复",
        reopened: "重新办理",
      },
      unitKinds: {
        street_committee: "街道人大工委",
        street_office: "街道办事处",
        working_body: "区人大常委会工作机构",
        standing_committee_office: "区人大常委会办公室",
        government_office: "区政府办公室",
        department: "区职能部门",
      },
      signers: {deputy: "代表", deputy_director: "街道人大工委专职副主任", director: "街道人大工委主任"},
      raters: {deputy: "代表", constituent: "选民"},
      satisfaction: {satisfied: "满意", basically_satisfied: "基本满意", dissatisfied: "不满意"},
      mineTitle: "我的意见转办情况",
      mineNote: "您登录后在网上反映、已转交办理的意见。",
      mineLoading: "正在查询…",
      mineEmpty: "暂时没有转交办理的意见。",
      mineFailed: "暂时无法查询，请稍后再试。",
      mineNotConstituent: "这个账号不是选民账号，没有可以评价的转办函。",
      yourOpinion: "您反映的内容",
      rateTitle: "评价这次答复",
      rateQuestion: "您对答复是否满意？",
      reopen: "申请重新办理",
      reopenHint: "不满意时，可以申请由承办单位重新办理、再次答复。每件转办函只能申请一次。",
      reopenUsed: "这件转办函已经重新办理过一次，不能再申请。",
      submitRating: "提交评价",
      rated: "已收到您的评价：{satisfaction}。",
      reopened: "已申请重新办理：承办单位将重新签收，并在新的期限内书面答复。",
      rateRefused: "评价没有成功：{detail}",
      rateConflict: "这件转办函现在不能评价（可能已经评价过），请重新查询。",
      dutyRecordLink: "履职档案和选民评价",
      dutyRecordOf: "{name}的履职档案和选民评价",
      categories: {urban_planning:"城市规划",transport:"交通出行",environment:"生态环境",education:"教育",health:"医疗卫生",elderly_care:"养老服务",employment:"就业创业",property:"物业管理",public_safety:"公共安全",legal:"法律服务",economy:"经济发展",culture_sports:"文化体育",community:"社区治理",other:"其他"},
    },
    en: {
      title: "Find my deputies' liaison station · Deputy Liaison Platform",
      description: "Find the people's congress deputies' liaison station of your community and your deputies, and when they receive constituents.",
      skip: "Skip to main content",
      siteName: "Deputy Liaison Platform",
      heading: "Find my deputies' liaison station",
      lede: "Every community has a liaison station of the people's congress deputies. On the 15th of each month the deputies receive constituents there in person, to hear your views and suggestions.",
      addressLabel: "Enter your address, housing estate or community",
      addressHint: "For example: 林和东路, a housing estate or a community's name. A road or estate name is enough; no house number is needed.",
      search: "Search",
      searching: "Searching…",
      footer: "This page shows only the deputies' names, occupations, fields of expertise and stations. Bring your views to the station on the 15th of each month.",
      level_national: "National People's Congress deputies",
      level_provincial: "Provincial deputies",
      level_city: "City deputies",
      level_district: "District deputies",
      weekdays: ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
      date: "{monthName} {day}, {year}",
      place: "Venue",
      address: "Address",
      hours: "Opening hours",
      noVenue: "Not announced yet; please ask your residents' committee",
      yourStation: "Your liaison station",
      nextDay: "Next reception day",
      today: "Today",
      tomorrow: "Tomorrow",
      inDays: "In {days} days",
      receptionNote: "On the 15th of each month the station's deputies receive constituents; you are welcome to bring your views in person.",
      head: "Head",
      headTitle: "Head of the liaison station",
      expertise: "Expertise",
      biography: "About",
      stationDeputies: "The station's deputies",
      count: "{n} in all",
      noDeputies: "No deputies are registered at this station yet.",
      otherDeputies: "Other deputies",
      contacts: "This community's contact deputies",
      contactsNote: "These deputies are the fixed contacts of {community}; you can also reach them through the residents' committee.",
      extra: "Extra session",
      cancelled: "Cancelled",
      cancelReason: "Cancelled: {reason}",
      sessions: "Coming reception sessions",
      sessionsLoading: "Looking up the sessions…",
      subscribe: "Subscribe to the station's reception calendar (iCalendar)",
      noSessions: "No sessions in the next three months; watch for the station's notices.",
      sessionsFailed: "The sessions cannot be looked up now; please try again later.",
      rotaTitle: "Deputies receiving",
      levelOne: {national: "NPC deputy", provincial: "Provincial deputy", city: "City deputy", district: "District deputy"},
      rotaLead: "Leads",
      rotaLeadTitle: "The station head or deputy head leading the session",
      rotaLoading: "Looking up who receives…",
      rotaNone: "Who receives is not decided yet; watch for the station's notices.",
      rotaGaps: "Some places on the rota are still to be filled.",
      rotaFailed: "Who receives cannot be looked up now.",
      listSeparator: ", ",
      venueAddress: "{venue} ({address})",
      found: "Your community is found{street}; it is served by {station}.",
      foundStreet: " ({street})",
      yourCommunity: "Your community",
      notFoundTitle: "No community found for this address",
      notFoundText: "We found no community of the district for “{address}”. Please check it, or try a road, housing estate or community name.",
      ambiguousTitle: "Please give a more precise address",
      ambiguousNamed: "This address could be in these communities: {names}. Please add a housing estate or community name.",
      ambiguous: "This address could be in several communities. Please add a housing estate or community name.",
      invalidTitle: "Please check the address",
      tooLong: "The address is too long: give only a road, housing estate or community name (300 characters at most).",
      tooShort: "Please enter at least two characters of a road, housing estate or community name.",
      busyTitle: "Too many searches",
      busyText: "Please wait a moment and try again.",
      failedTitle: "The search is not available",
      failedText: "The service is unavailable for now; please try again later.",
      requestId: " (request id: {id})",
      emptyTitle: "Please enter an address",
      emptyText: "Please enter your address, housing estate or community.",
      networkTitle: "The network connection failed",
      networkText: "Please check your connection and try again.",
      book: "Book a place at this session",
      bookTitle: "Book a place",
      slot: "Time slot",
      slotFree: "{label} {start}–{end} ({n} places left)",
      slotFull: "{label} {start}–{end} (full; join the waitlist)",
      slotClosed: "{label} {start}–{end} (closed)",
      name: "Name",
      phone: "Phone",
      phoneHint: "A mobile, or a landline with its area code, e.g. 13800138000.",
      community: "Community",
      topic: "What you want to raise",
      waitlist: "Join the waitlist when the slot is full",
      submitBooking: "Book",
      booked: "Booked",
      waitlisted: "On the waitlist (number {n})",
      waitlistNote: "When someone cancels, the first on the waitlist takes the place.",
      cancelCode: "Cancel code",
      cancelCodeNote: "The cancel code is shown only this once; note it down. To cancel, enter it below.",
      cancelBooking: "Cancel the booking",
      cancelled_ok: "The booking is cancelled.",
      fullTitle: "This slot is full",
      fullText: "Tick “Join the waitlist when the slot is full” and send again.",
      checkFields: "Please check the marked fields.",
      bookFailed: "The booking failed: {detail}",
      opinionTitle: "Raise a view or suggestion online",
      opinionNote: "The station serving your community takes it; you get a tracking code.",
      category: "Category",
      content: "Your view or suggestion",
      raiserName: "Your name",
      raiserPhone: "Phone",
      raiserContact: "Other contact (optional)",
      submitOpinion: "Send",
      opinionDone: "Your view is received",
      trackingCode: "Tracking code",
      trackingNote: "Note the tracking code; follow it any time under “Follow a view”.",
      trackTitle: "Follow a view by its tracking code",
      trackSubmit: "Follow",
      trackStatus: "Status",
      trackStation: "Station",
      status_recorded: "Recorded",
      status_answered_on_the_spot: "Answered on the spot",
      status_handed_on: "Handed on",
      status_merged: "Merged",
      status_declined: "Declined",
      status_in_progress: "In progress",
      status_done: "Done",
      signIn: "Constituent sign-in",
      signInHint: "Signed in, what you raise online is kept under your account: you can follow its referral and rate the answer. Everything else works without.",
      signOut: "Sign out",
      signedInAs: "Signed in: ",
      signInBusy: "Signing in…",
      signInFailed: "Sign-in did not complete: {reason}",
      signInNotConfigured: "Constituent sign-in is not available.",
      opinionSignedIn: "You are signed in: this view is kept under your account; once handed on, follow it and rate the answer under “My referred views”.",
      followLink: "Follow it",
      letterTitle: "Its referral letter",
      letterLoading: "Looking up the referral letter…",
      letterFailed: "The referral letter cannot be looked up now; please try again later.",
      letterStage: "Now",
      letterRound: "Round {n} (handled again after a dissatisfied rating)",
      handler: "Handling unit",
      coHandlers: "Co-handling units",
      noHandler: "Not decided yet",
      deadline: "Legal deadline to answer",
      deadlineNote: "The handling unit answers in writing within three months of receiving it.",
      lastDay: "Last day: {day}",
      daysLeft: "{n} days left",
      lastDayToday: "Today is the last day",
      overdue: "Overdue by {n} days",
      answeredInTime: "Answered in time",
      answeredLate: "Answered after the deadline",
      extended: "Extension approved",
      deadlinePending: "Runs from the handling unit's receipt",
      hops: "Its way",
      hopSent: "Sent",
      hopReceived: "Received",
      hopNotReceived: "Not yet received",
      arrow: "→",
      signOffs: "Sign-offs",
      signOffRefused: "Sent back",
      signOffDone: "Signed off",
      answers: "Written answers",
      answerBy: "Answer of round {round} · {unit}",
      ratings: "Ratings",
      ratingRound: "Round {round}",
      noYet: "None yet",
      stages: {
        jurisdiction: "Awaiting the street committee's decision: the street's or the district's",
        deputy_sign_off: "Awaiting the deputy's sign-off",
        deputy_director_sign_off: "Awaiting the street committee's deputy director's sign-off",
        director_sign_off: "Awaiting the street committee's director's sign-off",
        review: "Awaiting the working body's review",
        dispatch: "Awaiting the standing committee office's dispatch to the government office",
        assignment: "Awaiting the government office's assignment to a department",
        awaiting_receipt: "Awaiting the handling unit's receipt",
        in_hand: "In hand: awaiting the handling unit's written answer",
        answered: "Answered: awaiting the street committee's feedback",
        fed_back: "The answer is fed back: awaiting the ratings",
        closed: "Closed",
      },
      hopKinds: {
        to_street_office: "To the street office to handle",
        to_review: "For review",
        returned: "Returned to the street",
        to_dispatch: "To the standing committee office",
        to_government_office: "To the government office",
        co_handling: "To a co-handling unit",
        to_lead_department: "To the handling unit",
        answer: "Written answer",
        reopened: "Handled again",
      },
      unitKinds: {
        street_committee: "Street committee",
        street_office: "Street office",
        working_body: "District congress working body",
        standing_committee_office: "Standing committee office",
        government_office: "District government office",
        department: "District department",
      },
      signers: {deputy: "Deputy", deputy_director: "Deputy director", director: "Director"},
      raters: {deputy: "Deputy", constituent: "Constituent"},
      satisfaction: {satisfied: "Satisfied", basically_satisfied: "Basically satisfied", dissatisfied: "Dissatisfied"},
      mineTitle: "My referred views",
      mineNote: "What you raised online signed in and was handed on.",
      mineLoading: "Looking up…",
      mineEmpty: "Nothing handed on yet.",
      mineFailed: "This cannot be looked up now; please try again later.",
      mineNotConstituent: "This account is not a constituent's: it has no letters to rate.",
      yourOpinion: "What you raised",
      rateTitle: "Rate the answer",
      rateQuestion: "Are you satisfied with the answer?",
      reopen: "Ask for it to be handled again",
      reopenHint: "When dissatisfied, you may ask the handling unit to handle it again and answer anew. Once per letter.",
      reopenUsed: "This letter was handled again once already; it cannot be asked again.",
      submitRating: "Send the rating",
      rated: "Your rating is received: {satisfaction}.",
      reopened: "Asked to handle it again: the handling unit receives it anew and answers in writing within a new deadline.",
      rateRefused: "The rating failed: {detail}",
      rateConflict: "This letter cannot be rated now (it may have been rated already); please look it up again.",
      dutyRecordLink: "Duty record and ratings",
      dutyRecordOf: "{name}: duty record and constituents' ratings",
      categories: {urban_planning:"Urban planning",transport:"Transport",environment:"Environment",education:"Education",health:"Health",elderly_care:"Elderly care",employment:"Employment",property:"Property management",public_safety:"Public safety",legal:"Legal services",economy:"Economy",culture_sports:"Culture and sports",community:"Community affairs",other:"Other"},
    },
  };
  var LEVELS = ["national", "provincial", "city", "district"];
  var lang = localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh-CN";

  function t(key, vars) {
    var text = TEXT[lang][key];
    if (typeof text !== "string") return text;
    return text.replace(/\{(\w+)\}/g, function (_, name) {
      return vars && vars[name] !== undefined ? String(vars[name]) : "";
    });
  }

  function dateText(year, month, day) {
    var monthName = new Intl.DateTimeFormat("en", { month: "long", timeZone: "UTC" }).format(
      new Date(Date.UTC(year, month - 1, 1))
    );
    return t("date", { year: year, month: month, day: day, monthName: monthName });
  }

  function weekday(year, month, day) {
    return t("weekdays")[new Date(Date.UTC(year, month - 1, day)).getUTCDay()];
  }
  var RECEPTION_DAY = 15;
  var DAY_MS = 24 * 60 * 60 * 1000;

  var form = document.getElementById("search");
  var input = document.getElementById("address");
  var button = document.getElementById("submit");
  var outcome = document.getElementById("outcome");
  var pending = null;
  // What the outcome shows, rendered again when the language changes.
  var shown = null;
  var langButton = document.getElementById("lang");

  // -------------------------------------------------------------- helpers

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function append(parent, children) {
    children.forEach(function (child) {
      if (child) parent.appendChild(child);
    });
    return parent;
  }

  // GET a JSON resource for `body`: busy meanwhile, `render(json)` when it
  // arrives, the `failed` text in `body` when it does not.
  function loadInto(body, url, render, failed) {
    body.setAttribute("aria-busy", "true");
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : Promise.reject(response.status);
      })
      .then(render)
      .catch(function () {
        body.replaceChildren(el("p", "note", failed));
      })
      .finally(function () {
        body.setAttribute("aria-busy", "false");
      });
  }

  // Today's date in Guangzhou, whatever the visitor's clock zone.
  function todayInShanghai() {
    var parts = new Intl.DateTimeFormat("en-US", {
      timeZone: "Asia/Shanghai",
      year: "numeric",
      month: "numeric",
      day: "numeric",
    }).formatToParts(new Date());
    var value = {};
    parts.forEach(function (part) {
      value[part.type] = Number(part.value);
    });
    return { year: value.year, month: value.month, day: value.day };
  }

  // The next reception day (the 15th), today included.
  function nextReceptionDay(today) {
    var year = today.year;
    var month = today.month;
    if (today.day > RECEPTION_DAY) {
      month += 1;
      if (month > 12) {
        month = 1;
        year += 1;
      }
    }
    var utc = Date.UTC(year, month - 1, RECEPTION_DAY);
    var days = Math.round((utc - Date.UTC(today.year, today.month - 1, today.day)) / DAY_MS);
    return {
      iso: year + "-" + String(month).padStart(2, "0") + "-" + RECEPTION_DAY,
      text: dateText(year, month, RECEPTION_DAY),
      weekday: weekday(year, month, RECEPTION_DAY),
      days: days,
    };
  }

  // ------------------------------------------------------------- rendering

  function field(list, term, value) {
    if (!value) return;
    append(list, [el("dt", null, term), el("dd", null, value)]);
  }

  function stationCard(result) {
    var card = el("section", "card station");
    card.setAttribute("aria-labelledby", "station-name");
    var heading = el("h3", null, result.station.name);
    heading.id = "station-name";
    var facts = el("dl", "facts");
    var venue = result.venue;
    if (venue) {
      field(facts, t("place"), venue.name);
      field(facts, t("address"), venue.address);
      field(facts, t("hours"), venue.opening_hours);
    } else {
      field(facts, t("place"), t("noVenue"));
    }
    return append(card, [el("p", "eyebrow", t("yourStation")), heading, facts]);
  }

  function receptionCard() {
    var next = nextReceptionDay(todayInShanghai());
    var card = el("section", "card reception");
    card.setAttribute("aria-labelledby", "reception-title");
    var heading = el("h3", null, t("nextDay"));
    heading.id = "reception-title";
    var date = el("p", "reception-date");
    var time = el("time", null, next.text);
    time.setAttribute("datetime", next.iso);
    append(date, [time, el("span", "weekday", next.weekday)]);
    var when =
      next.days === 0 ? t("today") : next.days === 1 ? t("tomorrow") : t("inDays", { days: next.days });
    return append(card, [
      heading,
      date,
      el("p", "reception-when", when),
      el("p", "note", t("receptionNote")),
    ]);
  }

  function deputyItem(deputy, isHead, showLevel) {
    var item = el("li", "deputy");
    var name = el("p", "deputy-name");
    append(name, [el("span", null, deputy.name)]);
    if (isHead) {
      var badge = el("span", "badge", t("head"));
      badge.setAttribute("title", t("headTitle"));
      name.appendChild(badge);
    }
    item.appendChild(name);
    var record = el("a", "deputy-record-link", t("dutyRecordLink"));
    record.href = "#/deputies/" + deputy.id;
    record.setAttribute("aria-label", t("dutyRecordOf", { name: deputy.name }));
    var about = [];
    if (showLevel && LEVELS.indexOf(deputy.level) >= 0) about.push(t("level_" + deputy.level));
    if (deputy.profession) about.push(deputy.profession);
    if (about.length) item.appendChild(el("p", "deputy-profession", about.join(" · ")));
    var expertise = deputy.expertise || [];
    if (expertise.length) {
      var tags = el("ul", "tags");
      tags.setAttribute("aria-label", t("expertise"));
      expertise.forEach(function (tag) {
        tags.appendChild(el("li", "tag", tag));
      });
      item.appendChild(tags);
    }
    if (deputy.biography) {
      var more = el("details", "bio");
      append(more, [el("summary", null, t("biography")), el("p", null, deputy.biography)]);
      item.appendChild(more);
    }
    item.appendChild(append(el("p", "deputy-record"), [record]));
    return item;
  }

  function deputiesSection(result) {
    var section = el("section", "deputies");
    section.setAttribute("aria-labelledby", "deputies-title");
    var rows = result.deputies || [];
    var heading = el("h3", null, t("stationDeputies"));
    heading.id = "deputies-title";
    if (rows.length) heading.appendChild(el("span", "count", t("count", { n: rows.length })));
    section.appendChild(heading);
    if (!rows.length) {
      section.appendChild(el("p", "note", t("noDeputies")));
      return section;
    }
    var groups = LEVELS.map(function (level) {
      return { level: level, title: t("level_" + level), rows: [] };
    });
    var other = { level: "", title: t("otherDeputies"), rows: [] };
    rows.forEach(function (row) {
      var group = groups.filter(function (g) {
        return g.level === row.deputy.level;
      })[0];
      (group || other).rows.push(row);
    });
    groups.concat([other]).forEach(function (group) {
      if (!group.rows.length) return;
      // The station head first within the group; otherwise the API's order.
      group.rows.sort(function (a, b) {
        return Number(Boolean(b.is_station_head)) - Number(Boolean(a.is_station_head));
      });
      var block = el("div", "level-group");
      block.setAttribute("data-level", group.level);
      var title = el("h4", null, group.title);
      var list = el("ul", "deputy-list");
      group.rows.forEach(function (row) {
        list.appendChild(deputyItem(row.deputy, row.is_station_head, false));
      });
      section.appendChild(append(block, [title, list]));
    });
    return section;
  }

  function contactSection(result) {
    var rows = result.contact_deputies || [];
    if (!rows.length) return null;
    var section = el("section", "deputies contacts");
    section.setAttribute("aria-labelledby", "contacts-title");
    var heading = el("h3", null, t("contacts"));
    heading.id = "contacts-title";
    var list = el("ul", "deputy-list");
    rows.forEach(function (deputy) {
      list.appendChild(deputyItem(deputy, false, true));
    });
    return append(section, [
      heading,
      el("p", "note", t("contactsNote", { community: result.community.name })),
      list,
    ]);
  }

  // ------------------------------------------------------ next sessions

  // The day three months after `today` ({year, month, day}), as YYYY-MM-DD;
  // a day the month lacks is its last day.
  function threeMonthsOn(today) {
    var month = today.month + 3;
    var year = today.year + Math.floor((month - 1) / 12);
    month = ((month - 1) % 12) + 1;
    var last = new Date(Date.UTC(year, month, 0)).getUTCDate();
    return isoDay(year, month, Math.min(today.day, last));
  }

  function isoDay(year, month, day) {
    return year + "-" + String(month).padStart(2, "0") + "-" + String(day).padStart(2, "0");
  }

  function sessionItem(session) {
    var parts = session.date.split("-").map(Number);
    var item = el("li", "session " + session.status);
    item.setAttribute("data-session", String(session.id));
    var when = el("p", "session-date");
    var time = el("time", null, dateText(parts[0], parts[1], parts[2]));
    time.setAttribute("datetime", session.date);
    append(when, [time, el("span", "weekday", weekday(parts[0], parts[1], parts[2]))]);
    if (session.kind === "extra") when.appendChild(el("span", "badge", t("extra")));
    if (session.status === "cancelled") when.appendChild(el("span", "badge cancelled", t("cancelled")));
    item.appendChild(when);
    var slots = (session.slots || []).map(function (slot) {
      return (slot.label ? slot.label + " " : "") + slot.local_start + "–" + slot.local_end;
    });
    if (slots.length) item.appendChild(el("p", "session-slots", slots.join(t("listSeparator"))));
    if (session.venue_name) {
      var venue = session.venue_address
        ? t("venueAddress", { venue: session.venue_name, address: session.venue_address })
        : session.venue_name;
      item.appendChild(el("p", "session-venue", venue));
    }
    if (session.status === "cancelled" && session.cancellation_reason) {
      item.appendChild(el("p", "note", t("cancelReason", { reason: session.cancellation_reason })));
    } else if (session.kind === "extra" && session.reason) {
      item.appendChild(el("p", "note", session.reason));
    }
    if (session.status !== "cancelled") {
      item.appendChild(rotaBlock(session));
      if (currentCommunity) item.appendChild(bookingPanel(session));
    }
    return item;
  }

  // Who receives at a session: the deputies on its public rota (names and
  // levels, the lead first), filled in when the rota arrives.
  function rotaBlock(session) {
    var block = el("div", "session-rota");
    var titleId = "rota-title-" + session.id;
    var title = el("p", "rota-title", t("rotaTitle"));
    title.id = titleId;
    var body = el("div", "rota-body");
    body.appendChild(el("p", "note", t("rotaLoading")));
    append(block, [title, body]);
    loadInto(body, "/api/v1/sessions/" + session.id + "/rota", function (rota) {
      var deputies = rota.deputies || [];
      if (!deputies.length) {
        body.replaceChildren(el("p", "note", t("rotaNone")));
        return;
      }
      var list = el("ul", "rota-list");
      list.setAttribute("aria-labelledby", titleId);
      deputies.forEach(function (deputy) {
        var item = el("li", "rota-deputy");
        item.setAttribute("data-deputy", String(deputy.deputy_id));
        item.appendChild(el("span", "rota-name", deputy.name));
        var level = t("levelOne")[deputy.level];
        if (level) item.appendChild(el("span", "rota-level", level));
        if (deputy.lead) {
          var badge = el("span", "badge", t("rotaLead"));
          badge.setAttribute("title", t("rotaLeadTitle"));
          item.appendChild(badge);
        }
        list.appendChild(item);
      });
      body.replaceChildren(list);
      if (rota.status === "gaps") body.appendChild(el("p", "note", t("rotaGaps")));
    }, t("rotaFailed"));
    return block;
  }

  // The station's sessions from today to three months on, filled in when
  // they arrive; the rest of the answer is shown meanwhile.
  function sessionsSection(result) {
    var section = el("section", "card sessions");
    section.setAttribute("aria-labelledby", "sessions-title");
    var heading = el("h3", null, t("sessions"));
    heading.id = "sessions-title";
    var body = el("div", "sessions-body");
    body.appendChild(el("p", "note", t("sessionsLoading")));
    var stationId = result.station.id;
    var ics = el("a", "calendar-link", t("subscribe"));
    ics.href = "/api/v1/stations/" + stationId + "/calendar.ics";
    ics.setAttribute("type", "text/calendar");
    append(section, [heading, body, append(el("p"), [ics])]);

    var today = todayInShanghai();
    var url =
      "/api/v1/stations/" + stationId + "/sessions?from=" +
      isoDay(today.year, today.month, today.day) + "&to=" + threeMonthsOn(today);
    loadInto(body, url, function (body_) {
      var items = body_.items || [];
      if (!items.length) {
        body.replaceChildren(el("p", "note", t("noSessions")));
      } else {
        var list = el("ul", "session-list");
        items.forEach(function (session) {
          list.appendChild(sessionItem(session));
        });
        body.replaceChildren(list);
      }
    }, t("sessionsFailed"));
    return section;
  }

  // ------------------------------------------------------------ booking

  // The community found for the address: a booking is for it.
  var currentCommunity = null;
  var formCount = 0;

  // A labelled field; `hint` is tied by aria-describedby and a field error
  // from a problem's `errors` is shown in the element of class field-error.
  function formField(form, name, label, control, hint) {
    formCount += 1;
    var id = "f" + formCount + "-" + name;
    control.id = id;
    control.name = name;
    var wrap = el("div", "field");
    wrap.setAttribute("data-field", name);
    var lab = el("label", null, label);
    lab.htmlFor = id;
    var error = el("p", "field-error");
    error.id = id + "-error";
    error.hidden = true;
    var described = [error.id];
    append(wrap, [lab]);
    if (hint) {
      var h = el("p", "hint", hint);
      h.id = id + "-hint";
      described.unshift(h.id);
      wrap.appendChild(h);
    }
    control.setAttribute("aria-describedby", described.join(" "));
    append(wrap, [control, error]);
    form.appendChild(wrap);
    return control;
  }

  // Shows a problem's field errors next to their fields; the rest in `status`.
  function showProblem(form, status, problem, fallback) {
    Array.prototype.forEach.call(form.querySelectorAll(".field-error"), function (node) {
      node.hidden = true;
      node.textContent = "";
    });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (node) {
      node.removeAttribute("aria-invalid");
    });
    var first = null;
    var unplaced = [];
    ((problem && problem.errors) || []).forEach(function (e) {
      if (!e.field) return;
      var name = e.field.split(".").pop();
      var wrap = form.querySelector('[data-field="' + name + '"]');
      if (!wrap) {
        unplaced.push(e.message);
        return;
      }
      var error = wrap.querySelector(".field-error");
      error.textContent = e.message;
      error.hidden = false;
      var control = wrap.querySelector("input, select, textarea");
      control.setAttribute("aria-invalid", "true");
      if (!first) first = control;
    });
    var text = first && !unplaced.length ? t("checkFields") : fallback(problem, unplaced);
    status.replaceChildren(el("p", "form-error", text));
    status.setAttribute("role", "alert");
    if (first) first.focus();
  }

  // A reply as {status, ok, body}; body is null when it is not JSON.
  function readReply(response) {
    return response
      .json()
      .catch(function () {
        return null;
      })
      .then(function (json) {
        return { status: response.status, ok: response.ok, body: json };
      });
  }

  function postJson(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }).then(readReply);
  }

  // A call with the signed-in constituent's token (none when signed out);
  // a 401 means the sign-in has lapsed: the page shows it signed out.
  function authorized(method, url, body) {
    return signin.call(method, url, body).then(function (reply) {
      if (reply.status === 401) renderAccount();
      return reply;
    });
  }

  // A form's submit button and its live status line, appended to the form;
  // `onSubmit` runs instead of the browser's submission.
  function submitRow(form, label, className, onSubmit) {
    var submit = el("button", className, label);
    submit.type = "submit";
    var status = el("div", "form-status");
    status.setAttribute("aria-live", "polite");
    append(form, [submit, status]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      onSubmit(submit, status);
    });
    return submit;
  }

  function failedText(problem, unplaced, code) {
    return t("bookFailed", {
      detail: unplaced.join("; ") || (problem && (problem.detail || problem.title)) || code,
    });
  }

  // The community found, the one a booking or an opinion is for.
  function communityField(form) {
    var community = formField(form, "community_id", t("community"), el("select"));
    var option = el("option", null, currentCommunity.name);
    option.value = String(currentCommunity.id);
    community.appendChild(option);
    return community;
  }

  function slotText(slot) {
    var vars = { label: slot.label, start: slot.local_start, end: slot.local_end, n: slot.available };
    if (!slot.open) return t("slotClosed", vars);
    return slot.available > 0 ? t("slotFree", vars) : t("slotFull", vars);
  }

  // A session's "book" button and, when pressed, its form: the slots with
  // their places left, name, phone, community and topic; a full slot offers
  // the waitlist; the answer shows the cancel code once and cancels with it.
  function bookingPanel(session) {
    var panel = el("div", "booking");
    var toggle = el("button", "secondary", t("book"));
    toggle.type = "button";
    toggle.setAttribute("aria-expanded", "false");
    var body = el("div", "booking-body");
    body.hidden = true;
    formCount += 1;
    body.id = "booking-" + session.id + "-" + formCount;
    toggle.setAttribute("aria-controls", body.id);
    toggle.addEventListener("click", function () {
      var open = body.hidden;
      body.hidden = !open;
      toggle.setAttribute("aria-expanded", String(open));
      if (open && !body.firstChild) loadBooking(session, body);
    });
    return append(panel, [toggle, body]);
  }

  function loadBooking(session, body) {
    loadInto(body, "/api/v1/sessions/" + session.id + "/availability", function (availability) {
      body.replaceChildren(bookingForm(session, availability, body));
    }, t("sessionsFailed"));
  }

  function bookingForm(session, availability, body) {
    var form = el("form", "booking-form");
    form.noValidate = true;
    form.setAttribute("aria-label", t("bookTitle"));
    var slot = formField(form, "slot_id", t("slot"), el("select"));
    availability.slots.forEach(function (s) {
      var option = el("option", null, slotText(s));
      option.value = String(s.slot_id);
      option.disabled = !s.open;
      slot.appendChild(option);
    });
    var firstOpen = availability.slots.filter(function (s) {
      return s.open;
    })[0];
    if (firstOpen) slot.value = String(firstOpen.slot_id);
    var name = formField(form, "name", t("name"), el("input"));
    name.autocomplete = "name";
    name.maxLength = 50;
    var phone = formField(form, "phone", t("phone"), el("input"), t("phoneHint"));
    phone.type = "tel";
    phone.autocomplete = "tel";
    var community = communityField(form);
    var topic = formField(form, "topic", t("topic"), el("textarea"));
    topic.maxLength = 500;
    topic.rows = 3;
    var waitWrap = el("div", "field check");
    waitWrap.setAttribute("data-field", "waitlist");
    var wait = el("input");
    wait.type = "checkbox";
    formCount += 1;
    wait.id = "f" + formCount + "-waitlist";
    var waitLabel = el("label", null, t("waitlist"));
    waitLabel.htmlFor = wait.id;
    append(waitWrap, [wait, waitLabel]);
    form.appendChild(waitWrap);
    submitRow(form, t("submitBooking"), null, function (submit, status) {
      // Not `disabled`: a disabled button loses the focus the answer moves.
      if (submit.getAttribute("aria-disabled") === "true") return;
      submit.setAttribute("aria-disabled", "true");
      postJson("/api/v1/sessions/" + session.id + "/bookings", {
        slot_id: Number(slot.value),
        name: name.value.trim(),
        phone: phone.value.trim(),
        community_id: Number(community.value),
        topic: topic.value.trim(),
        waitlist: wait.checked,
      })
        .then(function (reply) {
          if (reply.ok) {
            body.replaceChildren(bookingDone(reply.body));
            body.querySelector("h4").focus();
            return;
          }
          showProblem(form, status, reply.body, function (problem, unplaced) {
            if (reply.status === 409 && /waitlist/.test((problem && problem.detail) || "")) {
              wait.focus();
              return t("fullTitle") + "。" + t("fullText");
            }
            return failedText(problem, unplaced, reply.status);
          });
        })
        .catch(function () {
          status.replaceChildren(el("p", "form-error", t("networkText")));
        })
        .finally(function () {
          submit.removeAttribute("aria-disabled");
        });
    });
    return form;
  }

  function bookingDone(created) {
    var booking = created.booking;
    var box = el("div", "booking-done");
    var heading = el(
      "h4",
      null,
      booking.status === "waitlisted" ? t("waitlisted", { n: booking.waitlist_position }) : t("booked")
    );
    heading.tabIndex = -1;
    var facts = el("dl", "facts");
    field(facts, t("name"), booking.name);
    field(facts, t("topic"), booking.topic);
    field(facts, t("cancelCode"), created.cancel_code);
    facts.lastChild.className = "cancel-code";
    append(box, [heading, facts, el("p", "note", t("cancelCodeNote"))]);
    if (booking.status === "waitlisted") box.insertBefore(el("p", "note waitlist-note", t("waitlistNote")), facts);
    var form = el("form", "cancel-form");
    form.noValidate = true;
    var code = formField(form, "cancel_code", t("cancelCode"), el("input"));
    code.autocomplete = "off";
    submitRow(form, t("cancelBooking"), "secondary", function (submit, status) {
      postJson("/api/v1/bookings/" + booking.id + ":cancel", { cancel_code: code.value.trim() }).then(
        function (reply) {
          if (reply.ok) {
            status.removeAttribute("role");
            status.replaceChildren(el("p", "form-ok", t("cancelled_ok")));
            submit.disabled = true;
            return;
          }
          showProblem(form, status, reply.body, function (problem, unplaced) {
            return failedText(problem, unplaced, reply.status);
          });
        }
      );
    });
    box.appendChild(form);
    return box;
  }

  // ------------------------------------------------------------ opinions

  // A card section named `name` labelled by its heading (text `<name>Title`),
  // and its form (class `<name>-form`), not yet joined: [section, heading, form].
  function formCard(name, headingTag) {
    var section = el("section", "card " + name);
    section.setAttribute("aria-labelledby", name + "-title");
    var heading = el(headingTag, null, t(name + "Title"));
    heading.id = name + "-title";
    var form = el("form", name + "-form");
    form.noValidate = true;
    return [section, heading, form];
  }

  // The online opinion form of the community found: category, content,
  // name and an optional contact; the answer shows its tracking code.
  function opinionSection() {
    var parts = formCard("opinion", "h3");
    var section = parts[0];
    var heading = parts[1];
    var form = parts[2];
    var category = formField(form, "category", t("category"), el("select"));
    var names = t("categories");
    Object.keys(names).forEach(function (key) {
      var option = el("option", null, names[key]);
      option.value = key;
      category.appendChild(option);
    });
    var community = communityField(form);
    var content = formField(form, "content", t("content"), el("textarea"));
    content.rows = 4;
    content.maxLength = 2000;
    var name = formField(form, "raiser_name", t("raiserName"), el("input"));
    name.autocomplete = "name";
    var phone = formField(form, "raiser_phone", t("raiserPhone"), el("input"));
    phone.type = "tel";
    phone.autocomplete = "tel";
    var contact = formField(form, "raiser_contact", t("raiserContact"), el("input"));
    submitRow(form, t("submitOpinion"), null, function (submit, status) {
      if (submit.getAttribute("aria-disabled") === "true") return;
      submit.setAttribute("aria-disabled", "true");
      var body = {
        source: "online",
        category: category.value,
        community_id: Number(community.value),
        content: content.value.trim(),
        raiser_name: name.value.trim(),
      };
      if (phone.value.trim()) body.raiser_phone = phone.value.trim();
      if (contact.value.trim()) body.raiser_contact = contact.value.trim();
      authorized("POST", "/api/v1/opinions", body)
        .then(function (reply) {
          if (reply.ok) {
            var done = el("div", "opinion-done");
            var title = el("h4", null, t("opinionDone"));
            title.tabIndex = -1;
            var facts = el("dl", "facts");
            field(facts, t("trackingCode"), reply.body.tracking_code);
            facts.lastChild.className = "tracking-code";
            var follow = el("a", "follow-link", t("followLink"));
            follow.href = "?track=" + encodeURIComponent(reply.body.tracking_code);
            append(done, [title, facts, el("p", "note", t("trackingNote")), append(el("p"), [follow])]);
            form.replaceWith(done);
            title.focus();
            return;
          }
          showProblem(form, status, reply.body, function (problem, unplaced) {
            return failedText(problem, unplaced, reply.status);
          });
        })
        .catch(function () {
          status.replaceChildren(el("p", "form-error", t("networkText")));
        })
        .finally(function () {
          submit.removeAttribute("aria-disabled");
        });
    });
    var user = signin.user();
    var signedIn = user && user.claims.role === "constituent" ? el("p", "note signed-in-note", t("opinionSignedIn")) : null;
    return append(section, [heading, el("p", "note", t("opinionNote")), signedIn, form]);
  }

  // Following an opinion by its tracking code: its status and public timeline.
  function trackSection(initialCode) {
    var parts = formCard("track", "h2");
    var section = parts[0];
    var heading = parts[1];
    var form = parts[2];
    var code = formField(form, "code", t("trackingCode"), el("input"));
    code.autocomplete = "off";
    code.placeholder = "TH-2026-000123";
    var answer = el("div", "track-answer");
    answer.setAttribute("aria-live", "polite");
    submitRow(form, t("trackSubmit"), null, function (submit, status) {
      var value = code.value.trim().toUpperCase();
      followedCode = value;
      fetch("/api/v1/opinions/track/" + encodeURIComponent(value), { headers: { Accept: "application/json" } })
        .then(readReply)
        .then(function (reply) {
          var body = reply.body;
          if (!reply.ok) {
            answer.replaceChildren();
            showProblem(form, status, body, function (problem, unplaced) {
              return failedText(problem, unplaced, reply.status);
            });
            return;
          }
          status.replaceChildren();
          var facts = el("dl", "facts");
          field(facts, t("trackingCode"), body.tracking_code);
          field(facts, t("category"), t("categories")[body.category] || body.category_name);
          field(facts, t("trackStatus"), t("status_" + body.status));
          field(facts, t("trackStation"), body.station_name);
          var list = el("ol", "timeline");
          (body.timeline || []).forEach(function (entry) {
            var item = el("li");
            if (entry.at) {
              var time = el("time", null, entry.at.slice(0, 10));
              time.setAttribute("datetime", entry.at);
              item.appendChild(time);
            }
            item.appendChild(el("span", null, " " + (entry.text || entry.kind)));
            list.appendChild(item);
          });
          answer.replaceChildren(facts, list);
          if (body.status === "handed_on") answer.appendChild(trackedLetter(body.tracking_code));
        })
        .catch(function () {
          status.replaceChildren(el("p", "form-error", t("networkText")));
        });
    });
    if (initialCode) {
      code.value = initialCode;
      // Once the section is on the page.
      window.setTimeout(function () {
        form.requestSubmit();
      }, 0);
    }
    return append(section, [heading, form, answer]);
  }

  // ------------------------------------------------------ referral letters

  // A time of the API (an ISO instant) as Guangzhou's wall clock,
  // "2026-03-05 09:30" (Sweden's locale writes ISO dates).
  var DATE_TIME = new Intl.DateTimeFormat("sv-SE", {
    timeZone: "Asia/Shanghai",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  });

  function localTime(iso) {
    return DATE_TIME.format(new Date(iso));
  }

  function timeNode(iso, className) {
    var node = el("time", className, localTime(iso));
    node.setAttribute("datetime", iso);
    return node;
  }

  // Days from today (Guangzhou) to `day` (YYYY-MM-DD): negative once past.
  function daysUntil(day) {
    var today = todayInShanghai();
    var parts = day.split("-").map(Number);
    return Math.round(
      (Date.UTC(parts[0], parts[1] - 1, parts[2]) - Date.UTC(today.year, today.month - 1, today.day)) / DAY_MS
    );
  }

  // The registry's units, once per page: letters name units by kind and id.
  var unitsLoaded = null;
  function loadUnits() {
    if (!unitsLoaded) {
      unitsLoaded = fetch("/api/v1/units?page_size=500", { headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : { items: [] };
        })
        .then(function (page) {
          return page.items || [];
        })
        .catch(function () {
          unitsLoaded = null;
          return [];
        });
    }
    return unitsLoaded;
  }

  // A letter's unit ({kind, id, label}) by its registry name: a street's
  // committee or office by the street, a department by its id, a district
  // office by its kind when the district has one.
  function unitName(unit, units) {
    if (!unit) return t("noHandler");
    var kind = unit.kind;
    var byStreet = kind === "street_committee" || kind === "street_office";
    var matches = units.filter(function (u) {
      if (u.kind !== kind) return false;
      if (byStreet) return u.street_id === unit.id;
      return unit.id ? u.id === unit.id : true;
    });
    if (matches.length === 1 || (matches.length && unit.id)) return matches[0].name;
    var generic = t("unitKinds")[kind] || kind;
    return kind === "department" && unit.id ? generic + " " + unit.id : generic;
  }

  function subHeading(text) {
    return el("h4", null, text);
  }

  // The legal deadline: its last day and, while in hand, the days left or
  // overdue; once answered, whether in time.
  function deadlineText(letter) {
    var deadline = letter.deadline;
    if (!deadline || !deadline.last_day) return t("deadlinePending");
    var words = [t("lastDay", { day: deadline.last_day })];
    var answer = (letter.answers || []).filter(function (a) {
      return a.round === letter.round;
    })[0];
    if (answer && answer.at) {
      words.push(localTime(answer.at).slice(0, 10) <= deadline.last_day ? t("answeredInTime") : t("answeredLate"));
    } else {
      var days = daysUntil(deadline.last_day);
      words.push(days > 0 ? t("daysLeft", { n: days }) : days === 0 ? t("lastDayToday") : t("overdue", { n: -days }));
    }
    if (deadline.extended) words.push(t("extended"));
    return words.join(t("listSeparator"));
  }

  function deadlineState(letter) {
    var deadline = letter.deadline;
    if (!deadline || !deadline.last_day) return "pending";
    var answered = (letter.answers || []).some(function (a) {
      return a.round === letter.round;
    });
    if (answered) return "answered";
    return daysUntil(deadline.last_day) < 0 ? "overdue" : "due";
  }

  // One hop of the letter's way: from → to, why, sent and received.
  function hopItem(hop, units) {
    var received = Boolean(hop.received_at);
    var item = el("li", "hop " + (received ? "received" : "pending"));
    item.setAttribute("data-kind", hop.kind);
    var route = el("p", "hop-route");
    append(route, [
      el("span", "hop-from", unitName(hop.from_unit, units)),
      el("span", "hop-arrow", " " + t("arrow") + " "),
      el("span", "hop-to", unitName(hop.to_unit, units)),
    ]);
    var kind = el("p", "hop-kind", t("hopKinds")[hop.kind] || hop.kind);
    var times = el("p", "hop-times");
    if (hop.sent_at) append(times, [el("span", "label", t("hopSent") + " "), timeNode(hop.sent_at, "hop-sent")]);
    var got = el("span", "hop-received");
    if (received) append(got, [el("span", "label", t("hopReceived") + " "), timeNode(hop.received_at)]);
    else got.textContent = t("hopNotReceived");
    append(times, [got]);
    return append(item, [route, kind, times]);
  }

  // A referral letter as its constituent follows it: the stage in words,
  // the handling unit, the legal deadline, every hop, the sign-offs (never
  // their comments), the answers and the ratings.
  function letterView(letter, units, headingTag) {
    var section = el("section", "letter");
    section.setAttribute("data-stage", letter.stage);
    formCount += 1;
    var titleId = "letter-title-" + formCount;
    section.setAttribute("aria-labelledby", titleId);
    var heading = el(headingTag || "h3", null, t("letterTitle"));
    heading.id = titleId;
    section.appendChild(heading);
    if (letter.round > 1) section.appendChild(el("p", "badge round", t("letterRound", { n: letter.round })));
    var facts = el("dl", "facts letter-facts");
    field(facts, t("letterStage"), t("stages")[letter.stage] || letter.stage);
    facts.lastChild.className = "letter-stage";
    field(facts, t("handler"), letter.handler ? unitName(letter.handler, units) : t("noHandler"));
    facts.lastChild.className = "letter-handler";
    if ((letter.co_handlers || []).length) {
      field(
        facts,
        t("coHandlers"),
        letter.co_handlers
          .map(function (u) {
            return unitName(u, units);
          })
          .join(t("listSeparator"))
      );
    }
    field(facts, t("deadline"), deadlineText(letter));
    facts.lastChild.className = "letter-deadline";
    facts.lastChild.setAttribute("data-state", deadlineState(letter));
    append(section, [facts, el("p", "note", t("deadlineNote"))]);

    var hops = el("ol", "hops");
    hops.setAttribute("aria-label", t("hops"));
    (letter.hops || []).forEach(function (hop) {
      hops.appendChild(hopItem(hop, units));
    });
    append(section, [subHeading(t("hops")), hops]);

    if ((letter.sign_offs || []).length) {
      var signs = el("ul", "sign-offs");
      letter.sign_offs.forEach(function (sign) {
        var item = el("li", sign.refused ? "refused" : null);
        item.appendChild(el("span", null, (t("signers")[sign.signer] || sign.signer) + " "));
        item.appendChild(el("span", "badge", sign.refused ? t("signOffRefused") : t("signOffDone")));
        if (sign.at) append(item, [el("span", null, " "), timeNode(sign.at)]);
        signs.appendChild(item);
      });
      append(section, [subHeading(t("signOffs")), signs]);
    }

    var answers = el("div", "answers");
    (letter.answers || []).forEach(function (answer) {
      var block = el("div", "answer");
      var meta = el("p", "answer-meta", t("answerBy", { round: answer.round, unit: unitName(answer.by, units) }) + " ");
      if (answer.at) meta.appendChild(timeNode(answer.at));
      append(block, [meta, el("p", "answer-text", answer.text)]);
      answers.appendChild(block);
    });
    if (!answers.firstChild) answers.appendChild(el("p", "note", t("noYet")));
    append(section, [subHeading(t("answers")), answers]);

    if ((letter.ratings || []).length) {
      var ratings = el("ul", "ratings");
      letter.ratings.forEach(function (rating) {
        var item = el("li", "rating");
        item.setAttribute("data-satisfaction", rating.satisfaction);
        item.textContent =
          t("ratingRound", { round: rating.round }) + " · " + (t("raters")[rating.rater] || rating.rater) + "：" +
          (t("satisfaction")[rating.satisfaction] || rating.satisfaction) + " ";
        if (rating.at) item.appendChild(timeNode(rating.at));
        ratings.appendChild(item);
      });
      append(section, [subHeading(t("ratings")), ratings]);
    }
    return section;
  }

  // A reply ({status, ok, body}, promised) and the registry's units for
  // `body`: busy meanwhile, `render(json, units)` when both arrive, the
  // `failed` text in `body` when they do not.
  function loadWithUnits(body, replied, render, failed) {
    body.setAttribute("aria-busy", "true");
    Promise.all([replied, loadUnits()])
      .then(function (got) {
        if (!got[0].ok) throw new Error(String(got[0].status));
        render(got[0].body, got[1]);
      })
      .catch(function () {
        body.replaceChildren(el("p", "note", failed));
      })
      .finally(function () {
        body.setAttribute("aria-busy", "false");
      });
  }

  // An opinion handed on: its letter, filled in when it arrives.
  function trackedLetter(code) {
    var slot = el("div", "letter-slot");
    slot.appendChild(el("p", "note", t("letterLoading")));
    var url = "/api/v1/opinions/track/" + encodeURIComponent(code) + "/letter";
    loadWithUnits(
      slot,
      fetch(url, { headers: { Accept: "application/json" } }).then(readReply),
      function (letter, units) {
        slot.replaceChildren(letterView(letter, units, "h3"));
      },
      t("letterFailed")
    );
    return slot;
  }

  // ----------------------------------------------------- my letters, rated

  // The signed-in constituent's letters: what they raised online, signed
  // in, and was handed on; the rate form when one awaits their rating.
  function mineSection(user) {
    var parts = formCard("mine", "h2");
    var section = parts[0];
    if (!user) return append(section, [parts[1], el("p", "note", t("signInHint")), signInRow(null)]);
    var body = el("div", "mine-body");
    body.setAttribute("aria-live", "polite");
    append(section, [parts[1], el("p", "note", t("mineNote")), signInRow(user), body]);
    if (user.claims.role !== "constituent") {
      body.appendChild(el("p", "note", t("mineNotConstituent")));
      return section;
    }
    body.appendChild(el("p", "note", t("mineLoading")));
    loadWithUnits(
      body,
      authorized("GET", "/api/v1/letters?page_size=100"),
      function (page, units) {
        var letters = page.items || [];
        if (!letters.length) {
          body.replaceChildren(el("p", "note", t("mineEmpty")));
          return;
        }
        var list = el("ul", "mine-list");
        letters.forEach(function (letter) {
          list.appendChild(mineItem(letter, units));
        });
        body.replaceChildren(list);
      },
      t("mineFailed")
    );
    return section;
  }

  function awaitsMyRating(letter) {
    return (
      letter.stage === "fed_back" &&
      !(letter.ratings || []).some(function (r) {
        return r.rater === "constituent" && r.round === letter.round;
      })
    );
  }

  function mineItem(letter, units, outcomeText) {
    var item = el("li", "mine-letter");
    item.setAttribute("data-letter", String(letter.id));
    item.setAttribute("data-code", letter.tracking_code);
    var title = el("h3", null, letter.tracking_code + " · " + (t("categories")[letter.category] || letter.category));
    title.tabIndex = -1;
    var facts = el("dl", "facts");
    field(facts, t("yourOpinion"), letter.content);
    append(item, [title, facts]);
    if (outcomeText) {
      var done = el("p", "form-ok rate-outcome", outcomeText);
      done.setAttribute("role", "status");
      item.appendChild(done);
    }
    item.appendChild(letterView(letter, units, "h4"));
    if (awaitsMyRating(letter)) item.appendChild(rateForm(letter, units, item));
    return item;
  }

  // A radio group of `labels`' keys (each labelled by its value) under
  // `legend`: a fieldset of class "field choice" for `field`, so that a
  // problem's error on it is shown in it; its radios are named `radioName`.
  // Appended to `form`; returns the fieldset.
  function choiceGroup(form, field, legend, radioName, labels) {
    var group = el("fieldset", "field choice");
    group.setAttribute("data-field", field);
    group.appendChild(el("legend", null, legend));
    Object.keys(labels).forEach(function (value) {
      var wrap = el("div", "choice-option");
      var radio = el("input");
      radio.type = "radio";
      radio.name = radioName;
      radio.value = value;
      radio.id = radioName + "-" + value;
      var label = el("label", null, labels[value]);
      label.htmlFor = radio.id;
      group.appendChild(append(wrap, [radio, label]));
    });
    var groupError = el("p", "field-error");
    groupError.hidden = true;
    group.appendChild(groupError);
    form.appendChild(group);
    return group;
  }

  // Satisfied, basically satisfied or dissatisfied; with dissatisfied (and
  // only then) the letter may be handed back to be handled again, once.
  function rateForm(letter, units, item) {
    var form = el("form", "rate-form");
    form.noValidate = true;
    form.setAttribute("aria-label", t("rateTitle"));
    form.appendChild(el("h4", null, t("rateTitle")));
    formCount += 1;
    var radioName = "satisfaction-" + letter.id + "-" + formCount;
    var group = choiceGroup(form, "satisfaction", t("rateQuestion"), radioName, t("satisfaction"));

    var reopenWrap = el("div", "field check reopen");
    reopenWrap.setAttribute("data-field", "reopen");
    reopenWrap.hidden = true;
    var reopen = el("input");
    reopen.type = "checkbox";
    reopen.id = radioName + "-reopen";
    var reopenLabel = el("label", null, t("reopen"));
    reopenLabel.htmlFor = reopen.id;
    var reopenHint = el("p", "hint", letter.round > 1 ? t("reopenUsed") : t("reopenHint"));
    reopenHint.id = reopen.id + "-hint";
    reopen.setAttribute("aria-describedby", reopenHint.id);
    reopen.disabled = letter.round > 1;
    var reopenError = el("p", "field-error");
    reopenError.hidden = true;
    append(reopenWrap, [reopen, reopenLabel, reopenHint, reopenError]);
    form.appendChild(reopenWrap);

    function chosen() {
      var picked = form.querySelector('input[type="radio"]:checked');
      return picked ? picked.value : "";
    }
    group.addEventListener("change", function () {
      var dissatisfied = chosen() === "dissatisfied";
      reopenWrap.hidden = !dissatisfied;
      if (!dissatisfied) reopen.checked = false;
    });

    submitRow(form, t("submitRating"), null, function (submit, status) {
      if (submit.getAttribute("aria-disabled") === "true") return;
      submit.setAttribute("aria-disabled", "true");
      var body = { rater: "constituent", reopen: reopen.checked };
      if (chosen()) body.satisfaction = chosen();
      authorized("POST", "/api/v1/letters/" + letter.id + ":rate", body)
        .then(function (reply) {
          if (reply.ok) {
            var text = body.reopen
              ? t("reopened")
              : t("rated", { satisfaction: t("satisfaction")[body.satisfaction] });
            var fresh = mineItem(reply.body, units, text);
            item.replaceWith(fresh);
            fresh.querySelector("h3").focus();
            return;
          }
          showProblem(form, status, reply.body, function (problem, unplaced) {
            var detail = unplaced.join("; ") || (problem && (problem.detail || problem.title)) || reply.status;
            if (reply.status === 409) return t("rateConflict") + "（" + detail + "）";
            return t("rateRefused", { detail: detail });
          });
        })
        .catch(function () {
          status.replaceChildren(el("p", "form-error", t("networkText")));
        })
        .finally(function () {
          submit.removeAttribute("aria-disabled");
        });
    });
    return form;
  }

  function renderResult(result) {
    currentCommunity = result.community;
    var wrapper = el("article", "result");
    wrapper.setAttribute("aria-labelledby", "community-name");
    var heading = el("h2", null, result.community.name);
    heading.id = "community-name";
    var street = result.street && result.street.name;
    var summary =
      t("found", { street: street ? t("foundStreet", { street: street }) : "", station: result.station.name });
    append(wrapper, [
      el("p", "eyebrow", t("yourCommunity")),
      heading,
      el("p", "summary", summary),
      append(el("div", "cards"), [stationCard(result), receptionCard()]),
      sessionsSection(result),
      opinionSection(),
      deputiesSection(result),
      contactSection(result),
    ]);
    return wrapper;
  }

  // What a problem detail means, in plain words.
  function problemMessage(status, problem, address) {
    var detail = (problem && problem.detail) || "";
    if (status === 404) {
      return {
        title: t("notFoundTitle"),
        text: t("notFoundText", { address: address }),
      };
    }
    if (status === 409) {
      var names = /could be in (.+?):/.exec(detail);
      return {
        title: t("ambiguousTitle"),
        text: names ? t("ambiguousNamed", { names: names[1] }) : t("ambiguous"),
      };
    }
    if (status === 422) {
      return {
        title: t("invalidTitle"),
        text: address.length > 300 ? t("tooLong") : t("tooShort"),
      };
    }
    if (status === 429) {
      return { title: t("busyTitle"), text: t("busyText") };
    }
    return {
      title: t("failedTitle"),
      text:
        t("failedText") + (problem && problem.request_id ? t("requestId", { id: problem.request_id }) : ""),
    };
  }

  function renderError(message) {
    var box = el("div", "error");
    return append(box, [el("h2", null, message.title), el("p", null, message.text)]);
  }

  function show(node) {
    outcome.replaceChildren(node);
    outcome.setAttribute("aria-busy", "false");
    button.disabled = false;
    button.textContent = t("search");
  }

  // ---------------------------------------------------------------- search

  function search(address) {
    if (pending) pending.abort();
    if (!address) {
      shown = function () {
        return renderError({ title: t("emptyTitle"), text: t("emptyText") });
      };
      show(shown());
      input.focus();
      return;
    }
    var controller = new AbortController();
    pending = controller;
    outcome.setAttribute("aria-busy", "true");
    button.disabled = true;
    button.textContent = t("searching");
    var url = "/api/v1/find-station?address=" + encodeURIComponent(address);
    fetch(url, { headers: { Accept: "application/json" }, signal: controller.signal })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (body) {
            shown =
              response.ok && body
                ? function () {
                    return renderResult(body);
                  }
                : function () {
                    return renderError(problemMessage(response.status, body, address));
                  };
            show(shown());
          });
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") return;
        shown = function () {
          return renderError({ title: t("networkTitle"), text: t("networkText") });
        };
        show(shown());
      })
      .finally(function () {
        if (pending === controller) pending = null;
      });
  }

  // ------------------------------------------------------------ language

  function applyLanguage() {
    document.documentElement.lang = lang;
    document.title = t("title");
    document.querySelector("meta[name=description]").setAttribute("content", t("description"));
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (node) {
      node.textContent = t(node.getAttribute("data-i18n"));
    });
    if (!pending) button.textContent = t("search");
    // The switch names the other language, in that language.
    langButton.textContent = lang === "en" ? "中文" : "English";
    langButton.setAttribute("lang", lang === "en" ? "zh-CN" : "en");
  }

  // ------------------------------------------------------------ sign-in

  // Optional, for constituents: /shared/signin.js, as the console signs in.
  var signin = window.LiaisonSignIn.create({
    config: "/portal/config.json",
    key: "liaison.portal",
    notConfigured: function () {
      return t("signInNotConfigured");
    },
  });
  var accountBox = document.getElementById("account");
  var signInFailure = "";
  var mine = null;

  // Who is signed in, in the header; below the tracking, "my letters":
  // signed out, what signing in gives and its button (after the search and
  // the tracking, which need none); signed in, the letters and signing out.
  function renderAccount() {
    var user = signin.user();
    accountBox.replaceChildren();
    if (user) {
      append(accountBox, [
        el("span", "visually-hidden", t("signedInAs")),
        el("span", "who-name", user.claims.name || user.claims.sub),
      ]);
    }
    var fresh = mineSection(user);
    if (mine) mine.remove();
    mine = fresh;
    track.after(mine);
    changed();
  }

  function signInRow(user) {
    var row = el("div", "sign-in-row");
    var button = el("button", "secondary", user ? t("signOut") : t("signIn"));
    button.type = "button";
    button.id = user ? "sign-out" : "sign-in";
    button.addEventListener("click", function () {
      if (!user) {
        signin.begin(window.location.search + window.location.hash).catch(function (error) {
          signInFailure = error.message || String(error);
          renderAccount();
        });
        return;
      }
      signin.forget();
      signInFailure = "";
      renderAccount();
      if (shown && !pending) outcome.replaceChildren(shown());
      document.getElementById("sign-in").focus();
    });
    row.appendChild(button);
    if (signInFailure) {
      var failed = el("p", "form-error sign-in-error", t("signInFailed", { reason: signInFailure }));
      failed.setAttribute("role", "alert");
      row.appendChild(failed);
    }
    return row;
  }

  // ---------------------------------------------- for the other pages' scripts

  // What portal.js lends the portal's other pages (duties.js: a deputy's
  // public page, the ballot): the language, the helpers above, the sign-in,
  // and `onChange(fn)`, called when the language or the account changes.
  var listeners = [];

  function changed() {
    listeners.forEach(function (fn) {
      fn();
    });
  }

  function portalApi() {
    return {
      lang: function () {
        return lang;
      },
      text: t,
      el: el,
      append: append,
      field: field,
      formField: formField,
      choiceGroup: choiceGroup,
      showProblem: showProblem,
      submitRow: submitRow,
      readReply: readReply,
      postJson: postJson,
      authorized: authorized,
      localTime: localTime,
      timeNode: timeNode,
      signin: signin,
      onChange: function (fn) {
        listeners.push(fn);
      },
    };
  }

  // Back from the provider with ?code=…&state=… (or ?error=…): the token
  // is kept, and the address is the page's again.
  var params = new URLSearchParams(window.location.search);
  var finishing = null;
  if (params.get("code") || params.get("error")) {
    finishing = signin.finish(params);
    history.replaceState(null, "", window.location.pathname + finishing.back);
    params = new URLSearchParams(finishing.back.split("#")[0]);
  }

  // The code followed last, followed again in the other language; a link
  // such as /?track=TH-2026-000123 follows it at once.
  var followedCode = "";
  var track = trackSection((params.get("track") || "").trim().toUpperCase());
  outcome.after(track);

  langButton.addEventListener("click", function () {
    lang = lang === "en" ? "zh-CN" : "en";
    localStorage.setItem(LANG_KEY, lang);
    applyLanguage();
    var fresh = trackSection(followedCode);
    track.replaceWith(fresh);
    track = fresh;
    renderAccount();
    if (shown && !pending) outcome.replaceChildren(shown());
  });
  applyLanguage();
  window.LiaisonPortal = portalApi();

  if (finishing) {
    accountBox.replaceChildren(el("p", "note", t("signInBusy")));
    finishing.done
      .then(
        function () {
          signInFailure = "";
        },
        function (error) {
          signInFailure = error.message || String(error);
        }
      )
      .then(function () {
        renderAccount();
        if (shown && !pending) outcome.replaceChildren(shown());
      });
  } else {
    renderAccount();
  }

  // A shared link such as /?address=林和东路 searches at once.
  var initial = params.get("address");
  if (initial && initial.trim()) {
    input.value = initial.trim();
    search(input.value);
  }
})();
