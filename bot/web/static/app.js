// swarm dashboard: live updates over server-sent events, confirmed admin actions.
"use strict";

const TASK_KINDS = /^task\.|^delivery\.(delivered|failed)$/;
const AGENT_KINDS = /^agent\.(state|limited|limit_ended|paused|resumed)$|^alert\./;

function toast(text, bad) {
  const box = document.getElementById("toast");
  box.textContent = text;
  box.className = bad ? "bad" : "";
  box.hidden = false;
  clearTimeout(box.timer);
  box.timer = setTimeout(() => { box.hidden = true; }, 5000);
}

async function act(button) {
  if (!window.confirm(button.dataset.confirm || "Are you sure?")) return;
  const body = {};
  if (button.dataset.agentFrom) body.agent = document.getElementById(button.dataset.agentFrom).value;
  const response = await fetch(button.dataset.action, {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-Swarm-CSRF": "1"},
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) { toast(answer.error || response.statusText, true); return; }
  toast(typeof answer.text === "string" ? answer.text : "done: " + button.textContent.trim());
  if (button.dataset.stay) return;  // nothing on the page changes: its answer is the news
  if (document.body.dataset.page !== "board") setTimeout(() => location.reload(), 300);
}

function formBody(form) {
  // The form's fields as the API's JSON: empty optional fields left out, lists split.
  const body = {};
  for (const field of form.elements) {
    if (!field.name) continue;
    const value = field.value.trim();
    if (field.name === "to") {  // the message form: agent:X, role:Y or all
      if (value.startsWith("agent:")) body.agent = value.slice(6);
      else if (value.startsWith("role:")) body.role = value.slice(5);
    } else if ("list" in field.dataset) {
      body[field.name] = value.split(/[\s,]+/).filter(Boolean);
    } else if (value || field.name === "title" || field.name === "text") {
      body[field.name] = field.tagName === "TEXTAREA" ? field.value : value;
    }
  }
  return body;
}

async function submitForm(form) {
  const error = form.querySelector(".form-error"), done = form.querySelector(".form-done");
  error.hidden = true; done.hidden = true;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const response = await fetch(form.dataset.api, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-Swarm-CSRF": "1"},
      body: JSON.stringify(formBody(form)),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {  // the API's own words, next to the form; nothing was written
      error.textContent = answer.error || response.statusText;
      error.hidden = false;
      return;
    }
    done.replaceChildren(...formDone(answer));
    done.hidden = false;
    for (const field of form.querySelectorAll("input, textarea")) field.value = "";
  } finally {
    button.disabled = false;
  }
}

function formDone(answer) {
  if (answer.id) {  // a task
    const link = document.createElement("a");
    link.href = "/tasks/" + answer.id;
    link.textContent = answer.id;
    return [link, " created (" + answer.status + ")"];
  }
  return ["message " + answer.message + " queued for " + answer.agents.join(", ")];
}

function setCount(status, delta) {
  const count = document.getElementById("count-" + status);
  if (count) count.textContent = String(Math.max(0, Number(count.textContent) + delta));
}

async function refreshCard(ref) {
  const response = await fetch("/board/card/" + ref, {credentials: "same-origin"});
  if (!response.ok) return;
  const holder = document.createElement("div");
  holder.innerHTML = (await response.text()).trim();
  const fresh = holder.firstElementChild;
  const old = document.getElementById("task-" + ref);
  const column = document.querySelector("#col-" + fresh.dataset.status + " .cards");
  if (old) { setCount(old.dataset.status, -1); old.remove(); }
  if (column) { column.prepend(fresh); setCount(fresh.dataset.status, +1); capColumn(column); }
}

function capColumn(cards) {
  // A capped column (Done) keeps its latest cards only; its "show all" link opens the rest.
  const cap = Number(cards.closest(".column").dataset.cap || 0);
  while (cap && cards.children.length > cap) cards.lastElementChild.remove();
}

function refreshHolderCards(agent) {
  // An agent's state changed: the cards it holds show it (working, waiting, stalled...).
  for (const card of document.querySelectorAll(".card[data-agent]")) {
    const active = card.dataset.status === "assigned" || card.dataset.status === "in_progress";
    if (active && card.dataset.agent === agent) refreshCard(card.id.slice("task-".length));
  }
}

function showInput(kind) {
  const state = document.getElementById("input-state");
  const paused = kind === "input.paused";
  if (state) { state.textContent = paused ? "input paused" : "input running"; state.className = paused ? "paused" : "running"; }
  const pause = document.getElementById("pause-input"), resume = document.getElementById("resume-input");
  if (pause) pause.hidden = paused;
  if (resume) resume.hidden = !paused;
}

// "Needs you": the panel (board, /inbox) and the nav's badge follow the events; each item is
// answered in place through the REST API (Reply, Approve / Reject, a prompt's options).
const NEED_KINDS = /^(task|prompt|gate|plan|alert)\./;
let needsTimer = null;

async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-Swarm-CSRF": "1"},
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) toast(answer.error || response.statusText, true);
  return response.ok ? answer : null;
}

function showNeedsCount(count) {
  const badge = document.getElementById("needs-count");
  if (!badge) return;
  badge.textContent = String(count);
  badge.classList.toggle("some", count > 0);
}

const TYPED = "form[data-need-reply] input, form[data-need-raise] input";

function refreshNeeds() {
  clearTimeout(needsTimer);
  needsTimer = setTimeout(async () => {
    const response = await fetch("/inbox/panel", {credentials: "same-origin"});
    if (!response.ok) return;
    const holder = document.createElement("div");
    holder.innerHTML = (await response.text()).trim();
    const fresh = holder.firstElementChild;
    showNeedsCount(Number(fresh.dataset.count));
    const old = document.getElementById("needs");
    if (!old) return;
    let typing = null;  // the field being typed in: focus, caret and selection go along
    for (const input of old.querySelectorAll(TYPED)) {  // keep typing (an answer, an amount)
      const ref = input.closest("[data-ref]").dataset.ref;
      const same = fresh.querySelector(`[data-ref="${CSS.escape(ref)}"] input[name="${input.name}"]`);
      if (!same) continue;
      same.value = input.value;
      if (document.activeElement === input) typing = [same, input.selectionStart, input.selectionEnd];
    }
    old.replaceWith(fresh);
    if (typing) {  // at once, in this task: no key pressed meanwhile lands nowhere, or after
      const [same, start, end] = typing;  // a caret moved to the end of a selected figure
      same.focus();
      try { same.setSelectionRange(start, end); } catch (e) { /* a field with no caret */ }
    }
  }, 150);
}

async function answerNeed(button) {
  if (!window.confirm(button.dataset.confirm || "Are you sure?")) return;
  const body = button.dataset.option !== undefined ? {option: button.dataset.option} : {};
  if (button.dataset.agentFrom) body.agent = document.getElementById(button.dataset.agentFrom).value;
  const answer = await postJSON(button.dataset.needAction, body);
  if (answer) toast(answer.text || "done");
  refreshNeeds();
}

async function replyNeed(form) {
  const input = form.querySelector("input[name=text]");
  const answer = await postJSON(form.dataset.needReply, {text: input.value});
  if (answer) { input.value = ""; toast("answer sent to " + (answer.agent || "the agent")); }
  refreshNeeds();
}

document.addEventListener("click", (e) => {
  const button = e.target.closest("button[data-need-action]");
  if (button) answerNeed(button);
});
async function raiseBudget(form) {
  // A spent budget's new amount: the server checks it (above the spend) and says why not.
  const input = form.querySelector("input[name=dollars]");
  if (!window.confirm(`Raise ${form.dataset.name}'s budget to $${input.value}?`)) return;
  const answer = await postJSON(form.dataset.needRaise, {dollars: input.value});
  if (answer) toast(answer.text || "done");
  refreshNeeds();
}

document.addEventListener("submit", (e) => {
  const form = e.target.closest("form[data-need-reply]");
  if (form) { e.preventDefault(); replyNeed(form); }
  const raising = e.target.closest("form[data-need-raise]");
  if (raising) { e.preventDefault(); raiseBudget(raising); }
});

// The task page's review: comments on lines of the diff (pending, kept by the server until
// sent), edited or deleted in place; "Send review" sends them all to the task's agent.
async function reviewCall(method, path, body) {
  const api = document.getElementById("review").dataset.api;
  const response = await fetch(api + path, {
    method, credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-Swarm-CSRF": "1"},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) { toast(answer.error || response.statusText, true); return null; }
  return answer;
}

function commentForm(text, onSave) {
  // A textarea with Save / Cancel; Save calls onSave(text), which says if it was kept.
  const form = document.createElement("form");
  form.className = "review-form";
  const area = document.createElement("textarea");
  area.name = "text"; area.rows = 3; area.value = text;
  const save = document.createElement("button");
  save.type = "submit"; save.textContent = "Save comment";
  const cancel = document.createElement("button");
  cancel.type = "button"; cancel.textContent = "Cancel";
  cancel.addEventListener("click", () => form.remove());
  form.append(area, save, cancel);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    save.disabled = true;
    if (await onSave(area.value)) location.reload(); else save.disabled = false;
  });
  setTimeout(() => area.focus());
  return form;
}

function openLineComment(button) {
  const row = button.closest("tr");
  const next = row.nextElementSibling;
  if (next && next.classList.contains("new-comment")) { next.querySelector("textarea").focus(); return; }
  const fresh = document.createElement("tr");
  fresh.className = "new-comment";
  const cell = document.createElement("td");
  cell.colSpan = 4;
  const line = Number(button.dataset.line);
  cell.append(commentForm("", (text) => reviewCall("POST", "/comments", {text, path: button.dataset.path, line})));
  fresh.append(cell);
  row.after(fresh);
}

function editComment(button) {
  const box = button.closest(".review-comment");
  if (box.querySelector("form")) return;
  const id = button.dataset.commentId;
  const text = box.querySelector(".comment-text").textContent;
  box.append(commentForm(text, (changed) => reviewCall("PATCH", "/comments/" + id, {text: changed})));
}

async function deleteComment(button) {
  if (!window.confirm("Delete this comment?")) return;
  if (await reviewCall("DELETE", "/comments/" + button.dataset.commentId)) location.reload();
}

async function sendReview(button) {
  if (!window.confirm(button.dataset.confirm)) return;
  button.disabled = true;
  const sent = await reviewCall("POST", "/send");
  if (!sent) { button.disabled = false; return; }
  toast(`review sent to ${sent.agent}: ${sent.comments} comment(s)`);
  setTimeout(() => location.reload(), 300);
}

document.addEventListener("click", (e) => {
  const button = e.target.closest("#review button");
  if (!button) return;
  if (button.classList.contains("add-comment")) openLineComment(button);
  else if (button.classList.contains("edit-comment")) editComment(button);
  else if (button.classList.contains("delete-comment")) deleteComment(button);
  else if (button.id === "send-review") sendReview(button);
});
document.addEventListener("submit", async (e) => {
  const form = e.target.closest("form#review-whole");
  if (!form) return;
  e.preventDefault();
  if (await reviewCall("POST", "/comments", {text: form.elements.text.value})) location.reload();
});

let lastSeen = 0;
const activity = {shown: 0, wanted: 0, busy: false};

function activityUpTo(id) {
  // New events exist up to ``id``: ask the server for those the page's filters match
  // (the rule of ``swarm events``), one request at a time, and add them on top.
  activity.wanted = Math.max(activity.wanted, id);
  if (activity.busy || activity.wanted <= activity.shown || document.getElementById("filter-error")) return;
  activity.busy = true;
  const upto = activity.wanted;
  const query = new URLSearchParams(location.search);
  query.set("after", activity.shown);
  query.set("upto", upto);
  fetch("/activity/rows?" + query, {credentials: "same-origin"})
    .then((response) => response.ok ? response.text() : Promise.reject(response.status))
    .then((html) => {
      const holder = document.createElement("template");
      holder.innerHTML = html.trim();
      document.getElementById("activity").prepend(holder.content);
      const none = document.getElementById("no-events");
      if (none && document.querySelector("#activity li")) none.remove();
      activity.shown = upto;
      activity.busy = false;
      activityUpTo(activity.wanted);  // more arrived meanwhile
    })
    .catch(() => { activity.busy = false; });  // tried again at the next event
}

function onEvent(message) {
  const event = JSON.parse(message.data);
  if (event.id <= lastSeen) return;  // already on the page (rendered, or sent twice)
  lastSeen = event.id;
  const page = document.body.dataset.page;
  if (event.kind === "input.paused" || event.kind === "input.resumed") showInput(event.kind);
  if (NEED_KINDS.test(event.kind)) refreshNeeds();
  if (page === "board" && event.task && TASK_KINDS.test(event.kind)) refreshCard(event.task);
  if (page === "board" && event.agent && AGENT_KINDS.test(event.kind)) refreshHolderCards(event.agent);
  if (page === "activity") activityUpTo(event.id);
  if (page === "task" && event.task === document.querySelector("[data-task]").dataset.task) {
    setTimeout(() => location.reload(), 200);
  }
}

function followTranscript() {
  // The agent page: each transcript row written or changed after the page's rev, from its
  // own stream; a row already shown (an answer growing, a tool call's status, a tool call's
  // row given to the permission request that gates it) is rewritten in place. The agent's
  // words go in as text, never as HTML.
  const holder = document.querySelector("[data-agent]");
  const list = document.getElementById("transcript");
  if (!holder || !list) return;
  const agent = encodeURIComponent(holder.dataset.agent);
  const stream = new EventSource(`/api/v1/agents/${agent}/transcript/stream?after=${holder.dataset.rev}`);
  stream.addEventListener("transcript", (message) => {
    const line = JSON.parse(message.data);
    const bottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
    let item = document.getElementById("line-" + line.id);
    if (!item) {
      item = document.createElement("li");
      item.id = "line-" + line.id;
      item.append(document.createElement("time"), " ", document.createElement("span"));
      item.lastChild.className = "text";
      list.append(item);
    }
    item.className = "line kind-" + line.kind;  // a tool call's row given to its request
    item.querySelector("time").textContent = new Date(line.ts).toLocaleString();
    item.querySelector(".text").textContent = line.shown;
    holder.dataset.rev = line.rev;
    document.getElementById("transcript-empty").hidden = true;
    if (bottom) window.scrollTo(0, document.body.scrollHeight);
  });
}

function refreshThumbnails() {
  for (const img of document.querySelectorAll("img[data-refresh]")) {
    const every = Number(img.dataset.refresh) * 1000;
    setInterval(() => { img.src = img.src.split("?")[0] + "?t=" + Date.now(); }, every);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-action]")) {
    button.addEventListener("click", () => act(button));
  }
  for (const form of document.querySelectorAll("form.api-form")) {
    form.addEventListener("submit", (event) => { event.preventDefault(); submitForm(form); });
  }
  refreshThumbnails();
  if (document.body.dataset.page === "agent") followTranscript();
  if (document.body.dataset.page && document.body.dataset.page !== "login") {
    const after = document.body.dataset.lastEvent || "0";
    lastSeen = Number(after);
    activity.shown = activity.wanted = lastSeen;
    const stream = new EventSource("/api/v1/events/stream?after=" + after);
    stream.addEventListener("swarm", onEvent);
    stream.addEventListener("revoked", () => {  // the token was revoked or expired
      stream.close();
      window.location = "/login?error=expired&next=" +
        encodeURIComponent(window.location.pathname + window.location.search);
    });
    document.body.dataset.live = "yes";
  }
});
