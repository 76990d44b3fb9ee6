// The page's script (plain browser JavaScript, served as /app.js). Every value from the server is
// put on the page as a text node or a property — never parsed as HTML — so an attacker's argv,
// path or hostname shows as the characters it is. Written without template literals so that it
// can live in this String.raw.

export const PAGE_JS = String.raw`"use strict";
(function () {
  var state = { csrf: null, view: "fleet", username: null };
  var view = document.getElementById("view");
  var nav = document.getElementById("nav");
  var who = document.getElementById("who");

  // el("td", { className: "x" }, "text", child): text children become text nodes.
  function el(tag, props) {
    var node = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        if (k === "dataset") Object.keys(props.dataset).forEach(function (d) { node.dataset[d] = props.dataset[d]; });
        else node[k] = props[k];
      });
    }
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }
  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
  function show() {
    while (view.firstChild) view.removeChild(view.firstChild);
    for (var i = 0; i < arguments.length; i++) append(view, arguments[i]);
  }
  function fmtTime(ms) { return ms === null || ms === undefined ? "—" : new Date(ms).toISOString().replace("T", " ").replace("Z", ""); }
  function ago(ms) { var s = Math.round((Date.now() - ms) / 1000); return s < 60 ? s + " s ago" : s < 3600 ? Math.round(s / 60) + " min ago" : Math.round(s / 3600) + " h ago"; }

  function api(method, path, body) {
    var headers = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (method !== "GET" && state.csrf) headers["x-csrf-token"] = state.csrf;
    return fetch(path, { method: method, headers: headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (res) {
        if (res.status === 204) return { status: 204, data: null };
        return res.json().then(function (data) { return { status: res.status, data: data }; }, function () { return { status: res.status, data: null }; });
      });
  }
  function errorText(r) { return (r.data && r.data.error) || ("HTTP " + r.status); }

  // ---- sign-in and first-run setup ----
  function authForm(setup) {
    var user = el("input", { name: "username", autocomplete: "username", required: true });
    var pass = el("input", { name: "password", type: "password", autocomplete: setup ? "new-password" : "current-password", required: true });
    var code = el("input", { name: "setupCode", autocomplete: "off" });
    var msg = el("p", { className: "error", id: "auth-error" });
    var form = el("form", { className: "inline", id: setup ? "setup-form" : "login-form" },
      el("label", null, "Username", user), el("label", null, "Password", pass),
      setup ? el("label", null, "Setup code (in the console's log)", code) : null,
      el("button", { type: "submit" }, setup ? "Create admin" : "Sign in"));
    form.onsubmit = function (e) {
      e.preventDefault();
      var body = { username: user.value, password: pass.value };
      if (setup) body.setupCode = code.value;
      api("POST", setup ? "/api/admin/setup" : "/api/admin/login", body).then(function (r) {
        if (r.status === 200 || r.status === 201) { signedIn(r.data); } else { msg.textContent = errorText(r); }
      });
    };
    show(el("h1", null, setup ? "First-run setup: create the admin account" : "Sign in"), form, msg);
  }
  function signedIn(data) {
    state.csrf = data.csrfToken; state.username = data.username;
    nav.hidden = false;
    while (who.firstChild) who.removeChild(who.firstChild);
    var out = el("button", { type: "button" }, "Sign out");
    out.onclick = function () { api("POST", "/api/admin/logout").then(function () { location.reload(); }); };
    append(who, [state.username + " ", out]);
    go(state.view);
  }
  function boot() {
    api("GET", "/api/admin/setup").then(function (r) {
      if (r.data && r.data.needed) return authForm(true);
      return api("GET", "/api/admin/session").then(function (s) { if (s.status === 200) signedIn(s.data); else authForm(false); });
    });
  }
  Array.prototype.forEach.call(nav.querySelectorAll("button"), function (b) { b.onclick = function () { go(b.dataset.view); }; });
  function go(name) {
    state.view = name;
    Array.prototype.forEach.call(nav.querySelectorAll("button"), function (b) { b.classList.toggle("active", b.dataset.view === name); });
    ({ fleet: fleetView, events: eventsView, policies: policiesView, tokens: tokensView, settings: settingsView })[name]();
  }

  // ---- fleet ----
  function fleetView() {
    api("GET", "/api/admin/enforcers").then(function (r) {
      if (r.status !== 200) return show(el("p", { className: "error" }, errorText(r)));
      var rows = r.data.enforcers.map(function (e) {
        return el("tr", null,
          el("td", null, e.group), el("td", null, e.container || "—"), el("td", { className: "argv" }, e.taskArn || "—"),
          el("td", { className: "argv" }, e.image || "—"), el("td", null, e.version + " " + e.arch),
          el("td", null, e.policyName || (e.policyDigest ? e.policyDigest.slice(0, 12) : "none"), e.policyCurrent ? "" : " (update pending)"),
          el("td", { className: "protection-" + e.protection }, e.protection),
          el("td", { title: fmtTime(e.lastSeen) }, ago(e.lastSeen)), el("td", null, String(e.gaps)));
      });
      show(el("h1", null, "Fleet"), rows.length === 0 ? el("p", null, "No enforcer has registered yet. Create a token, give it to the enforcer as VIGIL_TOKEN.") :
        el("table", { id: "fleet" }, el("thead", null, el("tr", null, ["Group", "Container", "Task", "Image", "Version", "Policy", "Status", "Last seen", "Gaps"].map(function (h) { return el("th", null, h); }))), el("tbody", null, rows)));
    });
  }

  // ---- events ----
  var filters = { workload: "", kind: "", verdict: "", from: "", to: "" };
  function query(extra) {
    var p = new URLSearchParams();
    Object.keys(filters).forEach(function (k) {
      var v = filters[k]; if (!v) return;
      if (k === "from" || k === "to") v = String(new Date(v).getTime());
      p.set(k, v);
    });
    Object.keys(extra || {}).forEach(function (k) { p.set(k, extra[k]); });
    return p.toString();
  }
  function select(name, options) {
    var s = el("select", { name: name }, el("option", { value: "" }, "any " + name));
    options.forEach(function (o) { append(s, el("option", { value: o, selected: filters[name] === o }, o)); });
    return s;
  }
  function eventsView() {
    var workload = el("input", { name: "workload", placeholder: "group, container or task ARN", value: filters.workload });
    var kind = select("kind", ["exec", "file", "connect", "listen", "self", "lifecycle", "dropped"]);
    var verdict = select("verdict", ["blocked", "alert", "allowed"]);
    var from = el("input", { name: "from", type: "datetime-local", value: filters.from });
    var to = el("input", { name: "to", type: "datetime-local", value: filters.to });
    var form = el("form", { className: "inline", id: "event-filters" },
      el("label", null, "Workload", workload), el("label", null, "Kind", kind), el("label", null, "Verdict", verdict),
      el("label", null, "From", from), el("label", null, "To", to), el("button", { type: "submit" }, "Filter"));
    form.onsubmit = function (e) {
      e.preventDefault();
      filters = { workload: workload.value.trim(), kind: kind.value, verdict: verdict.value, from: from.value, to: to.value };
      eventsView();
    };
    var chart = el("div", { id: "chart" });
    var list = el("div", { id: "event-list" }, "Loading…");
    show(el("h1", null, "Events"), form, chart, list);
    Promise.all([api("GET", "/api/admin/events?" + query({ limit: "200" })), api("GET", "/api/admin/events/counts?" + query({ bucket: String(bucketFor()) }))]).then(function (rs) {
      var r = rs[0], c = rs[1];
      if (c.status === 200) append(chart, drawChart(c.data));
      list.textContent = "";
      if (r.status !== 200) return append(list, el("p", { className: "error" }, errorText(r)));
      append(list, el("p", null, r.data.total + " events" + (r.data.total > r.data.events.length ? " (newest " + r.data.events.length + " shown)" : "")));
      append(list, el("table", { id: "events" },
        el("thead", null, el("tr", null, ["Time", "Workload", "Kind", "Verdict", "Executable", "Arguments", "Rule"].map(function (h) { return el("th", null, h); }))),
        el("tbody", null, r.data.events.map(eventRow))));
    });
  }
  function range() {
    var to = filters.to ? new Date(filters.to).getTime() : Date.now();
    var from = filters.from ? new Date(filters.from).getTime() : to - 24 * 3600 * 1000;
    return { from: from, to: to };
  }
  function bucketFor() { var r = range(); return Math.max(60000, Math.ceil((r.to - r.from) / 60 / 60000) * 60000); }
  function subject(ev) { return ev.path || (ev.address ? ev.address + ":" + ev.port : "") || ""; }
  function eventRow(s) {
    var ev = s.event;
    var tr = el("tr", { className: "clickable", dataset: { enforcer: s.enforcerId, seq: String(s.seq) } },
      el("td", null, ev.time), el("td", null, s.group + (s.container ? " / " + s.container : "")), el("td", null, ev.kind + (ev.event ? " " + ev.event : "")),
      el("td", { className: "verdict-" + (ev.verdict || "none") }, ev.verdict || "—"),
      el("td", { className: "argv" }, ev.exe || ""), el("td", { className: "argv" }, (ev.argv || []).join(" "), subject(ev) ? " → " + subject(ev) : ""),
      el("td", null, ev.rule || "—"));
    tr.onclick = function () { detailView(s.enforcerId, s.seq); };
    return tr;
  }
  var SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) { var n = document.createElementNS(SVG, tag); Object.keys(attrs).forEach(function (k) { n.setAttribute(k, String(attrs[k])); }); return n; }
  function drawChart(data) {
    var W = 1000, H = 120, buckets = data.buckets;
    var root = svg("svg", { "class": "chart", viewBox: "0 0 " + W + " " + (H + 20), preserveAspectRatio: "none", role: "img", "aria-label": "blocked and alert events over time" });
    if (buckets.length === 0) { var t = svg("text", { x: 10, y: 20 }); t.textContent = "no blocked or alert events in range"; root.appendChild(t); return root; }
    var r = range();
    var start = Math.min(Math.floor(r.from / data.bucketMs) * data.bucketMs, buckets[0].start);
    var end = Math.max(r.to, buckets[buckets.length - 1].start + data.bucketMs);
    var max = Math.max.apply(null, buckets.map(function (b) { return b.blocked + b.alert; }).concat([1]));
    var bw = Math.max(3, W * data.bucketMs / Math.max(data.bucketMs, end - start) - 1);
    buckets.forEach(function (b) {
      var x = (b.start - start) / (end - start) * W;
      var hb = b.blocked / max * H, ha = b.alert / max * H;
      var r1 = svg("rect", { "class": "blocked", x: x, y: H - hb, width: bw, height: hb }); var tt = svg("title", {}); tt.textContent = fmtTime(b.start) + ": " + b.blocked + " blocked"; r1.appendChild(tt); root.appendChild(r1);
      var r2 = svg("rect", { "class": "alert", x: x, y: H - hb - ha, width: bw, height: ha }); var t2 = svg("title", {}); t2.textContent = fmtTime(b.start) + ": " + b.alert + " alert"; r2.appendChild(t2); root.appendChild(r2);
    });
    var label = svg("text", { x: 4, y: H + 16, "font-size": 12 }); label.textContent = fmtTime(start) + " — " + fmtTime(end) + "   red: blocked, orange: alert (max " + max + " per bucket)"; root.appendChild(label);
    return root;
  }
  function detailView(enforcer, seq) {
    api("GET", "/api/admin/events/" + encodeURIComponent(enforcer) + "/" + encodeURIComponent(seq)).then(function (r) {
      if (r.status !== 200) return show(el("p", { className: "error" }, errorText(r)));
      var s = r.data, ev = s.event;
      var back = el("button", { type: "button" }, "← Events"); back.onclick = eventsView;
      var fields = [["Time", ev.time], ["Workload", s.group + (s.container ? " / " + s.container : "")], ["Task", s.taskArn || "—"], ["Kind", ev.kind], ["Verdict", ev.verdict || "—"],
        ["Rule", ev.rule || "—"], ["Pattern", ev.pattern || "—"], ["Executable", ev.exe || "—"], ["Working directory", ev.cwd || "—"], ["PID / PPID / UID", [ev.pid, ev.ppid, ev.uid].join(" / ")]];
      if (ev.path) fields.push(["Path", ev.path]);
      if (ev.address) fields.push(["Address", ev.address + ":" + ev.port]);
      var argv = el("ol", { id: "argv", className: "argv" }, (ev.argv || []).map(function (a) { return el("li", null, a); }));
      var chain = [{ event: ev, me: true }].concat(s.ancestry.map(function (a) { return { event: a.event }; }));
      var anc = el("ol", { id: "ancestry", className: "argv" }, chain.map(function (c) {
        return el("li", null, (c.me ? "this process: " : "") + "pid " + c.event.pid + " " + (c.event.exe || "") + "  " + (c.event.argv || []).join(" "));
      }));
      show(back, el("h1", null, "Event " + s.seq + " from " + s.enforcerId),
        el("dl", { className: "detail" }, fields.map(function (f) { return [el("dt", null, f[0]), el("dd", { className: "argv" }, f[1])]; })),
        el("h2", null, "Arguments"), argv, ev.argvTruncated ? el("p", null, "(truncated)") : null,
        el("h2", null, "Process ancestry (from ppid chains, newest first)"), anc,
        el("h2", null, "Raw event"), el("pre", { className: "argv" }, JSON.stringify(ev, null, 2)));
    });
  }

  // ---- policies ----
  var STARTER = "apiVersion: vigil/v1\nkind: Policy\nmetadata: { name: web }\nspec:\n  mode: enforce\n  exec:\n    allow: [\"/usr/sbin/nginx\", \"/bin/*\"]\n";
  function policiesView(selected) {
    Promise.all([api("GET", "/api/admin/policies"), api("GET", "/api/admin/groups")]).then(function (rs) {
      var r = rs[0], g = rs[1];
      if (r.status !== 200) return show(el("p", { className: "error" }, errorText(r)));
      var list = el("ul", { id: "policy-list" }, r.data.policies.map(function (p) {
        var b = el("button", { type: "button" }, p.name + " v" + p.currentVersion); b.onclick = function () { policiesView(p.name); };
        return el("li", null, b, p.groups.length ? " → " + p.groups.join(", ") : "");
      }));
      var newBtn = el("button", { type: "button", id: "new-policy" }, "New policy"); newBtn.onclick = function () { policiesView(null); };
      var pane = el("div", { id: "policy-pane" });
      var groups = el("table", { id: "groups" }, el("thead", null, el("tr", null, el("th", null, "Workload group"), el("th", null, "Policy"))),
        el("tbody", null, (g.data ? g.data.groups : []).map(function (x) { return el("tr", null, el("td", null, x.group), el("td", null, x.policy || "none (enforcers keep their own)")); })));
      show(el("h1", null, "Policies"), el("div", { className: "cols" }, el("div", null, list, newBtn, el("h2", null, "Groups"), groups), pane));
      if (selected === undefined && r.data.policies.length > 0) selected = r.data.policies[0].name;
      if (selected) api("GET", "/api/admin/policies/" + encodeURIComponent(selected)).then(function (p) { append(pane, editor(p.data)); });
      else append(pane, editor(null));
    });
  }
  function editor(policy) {
    var name = el("input", { name: "name", value: policy ? policy.name : "", disabled: !!policy, placeholder: "policy name" });
    var text = el("textarea", { id: "policy-source", spellcheck: false, value: policy ? policy.source : STARTER });
    var diag = el("div", { id: "diagnostics", "aria-live": "polite" });
    var msg = el("p", { id: "policy-message" });
    var comment = el("input", { name: "comment", placeholder: "what changed" });
    var save = el("button", { type: "button", id: "save-policy" }, policy ? "Save new version" : "Create");
    var timer = null, seqNo = 0;
    function validate() {
      var mine = ++seqNo;
      api("POST", "/api/admin/policies/validate", { name: name.value || "policy", source: text.value }).then(function (r) {
        if (mine !== seqNo) return;
        diag.textContent = "";
        if (r.status !== 200) return append(diag, el("pre", { className: "diag" }, errorText(r)));
        if (r.data.diagnostics.length === 0) append(diag, el("pre", { className: "ok" }, "no problems · digest " + r.data.digest.slice(0, 16)));
        r.data.diagnostics.forEach(function (d) { append(diag, el("pre", { className: "diag " + d.severity }, d.rendered)); });
        save.disabled = !r.data.ok;
      });
    }
    text.oninput = function () { clearTimeout(timer); timer = setTimeout(validate, 250); };
    name.oninput = text.oninput;
    save.onclick = function () {
      var req = policy ? api("PUT", "/api/admin/policies/" + encodeURIComponent(policy.name), { source: text.value, comment: comment.value || "edited" })
        : api("POST", "/api/admin/policies", { name: name.value, source: text.value, comment: comment.value || "created" });
      req.then(function (r) {
        if (r.status === 200 || r.status === 201) policiesView(r.data.name);
        else { msg.className = "error"; msg.textContent = errorText(r); }
      });
    };
    validate();
    var parts = [el("h2", null, policy ? policy.name + " (version " + policy.version + ", digest " + policy.digest.slice(0, 12) + ")" : "New policy"),
      policy ? null : el("label", null, "Name", name), text, diag, el("div", { className: "inline" }, comment, save), msg];
    if (policy) {
      var group = el("input", { name: "group", placeholder: "workload group" });
      var assign = el("button", { type: "button", id: "assign-policy" }, "Assign to group");
      assign.onclick = function () {
        api("PUT", "/api/admin/groups/" + encodeURIComponent(group.value.trim()) + "/policy", { policy: policy.name }).then(function (r) {
          if (r.status === 200) policiesView(policy.name); else { msg.className = "error"; msg.textContent = errorText(r); }
        });
      };
      parts.push(el("div", { className: "inline" }, group, assign));
      parts.push(el("h3", null, "History"));
      parts.push(el("table", { id: "history" }, el("tbody", null, policy.history.map(function (h) {
        var rb = el("button", { type: "button" }, "Roll back to this");
        rb.onclick = function () { api("POST", "/api/admin/policies/" + encodeURIComponent(policy.name) + "/rollback", { version: h.version }).then(function () { policiesView(policy.name); }); };
        return el("tr", null, el("td", null, "v" + h.version), el("td", null, fmtTime(h.createdAt)), el("td", null, h.author), el("td", null, h.comment),
          el("td", null, el("code", null, h.digest.slice(0, 12))), el("td", null, h.version === policy.version ? "current" : rb));
      }))));
    }
    return el("div", null, parts);
  }

  // ---- tokens ----
  function tokensView(created) {
    api("GET", "/api/admin/tokens").then(function (r) {
      if (r.status !== 200) return show(el("p", { className: "error" }, errorText(r)));
      var name = el("input", { name: "name", placeholder: "token name", required: true });
      var group = el("input", { name: "group", placeholder: "workload group", required: true });
      var msg = el("p", { className: "error" });
      var form = el("form", { className: "inline", id: "token-form" }, el("label", null, "Name", name), el("label", null, "Workload group", group), el("button", { type: "submit" }, "Create token"));
      form.onsubmit = function (e) {
        e.preventDefault();
        api("POST", "/api/admin/tokens", { name: name.value, group: group.value.trim() }).then(function (c) { if (c.status === 201) tokensView(c.data); else msg.textContent = errorText(c); });
      };
      var rows = r.data.tokens.map(function (t) {
        var revoke = el("button", { type: "button" }, "Revoke");
        revoke.onclick = function () { api("DELETE", "/api/admin/tokens/" + t.id).then(function () { tokensView(); }); };
        return el("tr", null, el("td", null, t.id), el("td", null, t.name), el("td", null, t.group), el("td", null, fmtTime(t.createdAt)), el("td", null, fmtTime(t.lastUsedAt)),
          el("td", null, t.revokedAt ? "revoked " + fmtTime(t.revokedAt) : revoke));
      });
      show(el("h1", null, "Enrollment tokens"), form, msg,
        created ? el("p", { className: "notice", id: "new-token" }, "VIGIL_TOKEN for group " + created.group + " (shown once): ", el("code", null, created.token)) : null,
        el("table", { id: "tokens" }, el("thead", null, el("tr", null, ["Id", "Name", "Group", "Created", "Last used", ""].map(function (h) { return el("th", null, h); }))), el("tbody", null, rows)));
    });
  }

  // ---- settings: alert webhooks and API tokens ----
  function header(names) { return el("thead", null, el("tr", null, names.map(function (h) { return el("th", null, h); }))); }
  function settingsView(createdToken) {
    Promise.all([api("GET", "/api/admin/webhooks"), api("GET", "/api/admin/api-tokens")]).then(function (rs) {
      var w = rs[0], t = rs[1];
      if (w.status !== 200) return show(el("p", { className: "error" }, errorText(w)));
      if (t.status !== 200) return show(el("p", { className: "error" }, errorText(t)));
      var s = w.data.settings;
      show(el("h1", null, "Settings"), webhookSection(w.data.webhooks, s), apiTokenSection(t.data.tokens, createdToken));
    });
  }
  function webhookSection(hooks, s) {
    var url = el("input", { name: "url", type: "url", placeholder: "https://hooks.slack.com/services/…", required: true, size: 48 });
    var alerts = el("input", { name: "includeAlerts", type: "checkbox" });
    var msg = el("p", { id: "webhook-message" });
    function say(kind, text) { msg.className = kind; msg.textContent = text; }
    var form = el("form", { className: "inline", id: "webhook-form" },
      el("label", null, "Webhook URL (Slack-compatible)", url), el("label", null, "Alert verdicts too", alerts), el("button", { type: "submit" }, "Add webhook"));
    form.onsubmit = function (e) {
      e.preventDefault();
      api("POST", "/api/admin/webhooks", { url: url.value.trim(), includeAlerts: alerts.checked }).then(function (r) { if (r.status === 201) settingsView(); else say("error", errorText(r)); });
    };
    var rows = hooks.map(function (h) {
      var test = el("button", { type: "button", className: "test-webhook" }, "Send test message");
      test.onclick = function () {
        say("", "Sending…");
        api("POST", "/api/admin/webhooks/" + encodeURIComponent(h.id) + "/test").then(function (r) {
          if (r.status === 200 && r.data.ok) say("ok", "Test message delivered (HTTP " + r.data.status + ")");
          else say("error", "Test message failed: " + (r.data && r.data.error ? r.data.error : errorText(r)));
        });
      };
      var remove = el("button", { type: "button", className: "remove-webhook" }, "Remove");
      remove.onclick = function () { api("DELETE", "/api/admin/webhooks/" + encodeURIComponent(h.id)).then(function (r) { if (r.status === 200) settingsView(); else say("error", errorText(r)); }); };
      var last = h.last ? h.last.state + " after " + h.last.attempts + " attempt(s)" + (h.last.at ? " " + fmtTime(h.last.at) : "") + (h.last.error ? ": " + h.last.error : "") : "nothing sent yet";
      return el("tr", null, el("td", { className: "argv" }, h.url), el("td", null, h.includeAlerts ? "blocked, alert" : "blocked"), el("td", null, String(h.pending)),
        el("td", { className: "argv" }, last), el("td", null, test, " ", h.source === "env" ? "set by VIGIL_CONSOLE_WEBHOOK_URL" : remove));
    });
    return el("section", { id: "webhooks-section" }, el("h2", null, "Alert webhooks"),
      el("p", null, "Blocked events (and alert events where asked) are posted as Slack messages. The same group, kind, rule and executable within " +
        s.dedupWindowMinutes + " min make one message and then a count; at most " + s.messagesPerMinute + " messages a minute per webhook, the rest summarized. Events are kept " +
        (s.retentionDays > 0 ? s.retentionDays + " days." : "forever.")),
      form, msg, el("table", { id: "webhooks" }, header(["URL", "Verdicts", "Pending", "Last delivery", ""]), el("tbody", null, rows)));
  }
  function apiTokenSection(tokens, created) {
    var name = el("input", { name: "name", placeholder: "token name, e.g. ci", required: true });
    var days = el("input", { name: "expiresInDays", type: "number", min: "1", max: "3650", placeholder: "never" });
    var msg = el("p", { className: "error", id: "api-token-error" });
    var form = el("form", { className: "inline", id: "api-token-form" },
      el("label", null, "Name", name), el("label", null, "Expires in days (empty: never)", days), el("button", { type: "submit" }, "Create API token"));
    form.onsubmit = function (e) {
      e.preventDefault();
      var body = { name: name.value.trim() };
      if (days.value) body.expiresInDays = Number(days.value);
      api("POST", "/api/admin/api-tokens", body).then(function (r) { if (r.status === 201) settingsView(r.data); else msg.textContent = errorText(r); });
    };
    var rows = tokens.map(function (k) {
      var revoke = el("button", { type: "button", className: "revoke-api-token" }, "Revoke");
      revoke.onclick = function () { api("DELETE", "/api/admin/api-tokens/" + encodeURIComponent(k.id)).then(function () { settingsView(); }); };
      var status = k.revokedAt ? "revoked " + fmtTime(k.revokedAt) : k.expiresAt !== null && k.expiresAt <= Date.now() ? "expired" : revoke;
      return el("tr", { dataset: { id: k.id } }, el("td", null, k.id), el("td", null, k.name), el("td", null, k.createdBy), el("td", null, fmtTime(k.createdAt)),
        el("td", null, k.expiresAt === null ? "never" : fmtTime(k.expiresAt)), el("td", null, fmtTime(k.lastUsedAt)), el("td", null, status));
    });
    return el("section", { id: "api-tokens-section" }, el("h2", null, "API tokens"),
      el("p", null, "For automation: send Authorization: Bearer TOKEN to the admin API (no session, no CSRF token). Tokens cannot manage tokens."),
      form, msg,
      created ? el("p", { className: "notice", id: "new-api-token" }, "API token " + created.name + " (shown once): ", el("code", null, created.token)) : null,
      el("table", { id: "api-tokens" }, header(["Id", "Name", "Created by", "Created", "Expires", "Last used", ""]), el("tbody", null, rows)));
  }

  boot();
})();
`;
