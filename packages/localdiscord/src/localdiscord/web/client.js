// The local Discord's web client: polls /client/api/state and shows it; every piece of text
// from the server goes on screen through textContent (never as HTML): bots post what
// others wrote.
"use strict";

const KEY = new URLSearchParams(location.hash.slice(1)).get("key") || "";
const POLL_MS = 500;
let version = null;
let commandsShown = "";
let modalShown = null;
const openThreads = new Set();

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

async function api(path, body) {
  const options = { headers: { "X-Client-Key": KEY }, cache: "no-store" };
  if (body !== undefined) {
    options.method = "POST";
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch("api/" + path, options);
  let data = {};
  try {
    data = await response.json();
  } catch (e) {
    data = { error: "the local Discord answered " + response.status };
  }
  if (!response.ok && !data.error) data.error = "the local Discord answered " + response.status;
  return data;
}

function showError(text) {
  document.getElementById("error").textContent = text || "";
}

async function act(path, body) {
  const answer = await api(path, body);
  showError(answer.error);
  poll(true);
  return answer;
}

// Discord's markdown, the little that bots use: ```blocks```, **bold**, `code`; as DOM nodes.
function markdown(text, className) {
  const box = el("div", className);
  text.split("```").forEach((part, index) => {
    if (index % 2 === 1) {
      box.append(el("pre", "", part.replace(/^[a-z]*\n/, "")));
      return;
    }
    part.split(/(\*\*[^*]+\*\*|`[^`\n]+`)/).forEach((piece) => {
      if (/^\*\*[^*]+\*\*$/.test(piece)) box.append(el("strong", "", piece.slice(2, -2)));
      else if (/^`[^`\n]+`$/.test(piece)) box.append(el("code", "", piece.slice(1, -1)));
      else if (piece) box.append(document.createTextNode(piece));
    });
  });
  return box;
}

// -- messages ------------------------------------------------------------------------------

function embedNode(embed) {
  const box = el("div", "embed");
  if (embed.color) box.style.borderLeftColor = embed.color;
  if (embed.author) box.append(el("div", "name", embed.author));
  if (embed.title) box.append(el("div", "title", embed.title));
  if (embed.description) box.append(markdown(embed.description, "description"));
  const fields = el("div", "fields");
  for (const field of embed.fields) {
    const item = el("div", "field" + (field.inline ? " inline" : ""));
    item.append(el("div", "name", field.name), markdown(field.value, "value"));
    fields.append(item);
  }
  box.append(fields);
  if (embed.footer) box.append(el("div", "footer", embed.footer));
  return box;
}

function buttonNode(message, part) {
  if (part.kind === "link") {
    const safe = /^https?:\/\//i.test(part.url);
    const link = el(safe ? "a" : "span", "link", part.label || part.url);
    if (safe) {
      link.href = part.url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
    }
    return link;
  }
  const button = el("button", "style-" + part.style, part.label || "(button)");
  button.type = "button";
  button.disabled = part.disabled;
  button.addEventListener("click", () =>
    act("button", { message_id: message.id, custom_id: part.custom_id }));
  return button;
}

function selectNode(message, part) {
  const box = el("span", "select");
  const menu = el("select");
  menu.multiple = part.max_values > 1;
  menu.disabled = part.disabled;
  if (!menu.multiple) menu.append(el("option", "", part.placeholder || "choose…"));
  for (const option of part.options) {
    const item = el("option", "", option.label);
    item.value = option.value;
    menu.append(item);
  }
  const choose = el("button", "style-1", "Choose");
  choose.type = "button";
  choose.disabled = part.disabled;
  choose.addEventListener("click", () => {
    const values = Array.from(menu.selectedOptions).map((o) => o.value).filter((v) => v !== "");
    act("select", { message_id: message.id, custom_id: part.custom_id, values });
  });
  box.append(menu, choose);
  return box;
}

function messageNode(message) {
  const box = el("div", "message" + (message.ephemeral ? " ephemeral" : ""));
  box.dataset.id = message.id;
  const meta = el("div", "meta");
  meta.append(el("span", "author", message.author));
  if (message.bot) meta.append(el("span", "tag", "APP"));
  if (message.answers) meta.append(el("span", "", "answered " + message.answers + " "));
  if (message.edited) meta.append(el("span", "", "(edited) "));
  if (message.ephemeral) meta.append(el("span", "", "· only you can see this"));
  box.append(meta);
  if (message.thinking) box.append(el("div", "text hint", "thinking…"));
  if (message.content) box.append(markdown(message.content, "text"));
  for (const embed of message.embeds) box.append(embedNode(embed));
  for (const row of message.rows) {
    const line = el("div", "row");
    for (const part of row) {
      if (part.kind === "select") line.append(selectNode(message, part));
      else if (part.kind === "unsupported") line.append(el("span", "hint", part.label));
      else line.append(buttonNode(message, part));
    }
    box.append(line);
  }
  for (const name of message.attachments) box.append(el("div", "hint", "📎 " + name));
  if (message.thread) box.append(threadNode(message));
  return box;
}

function threadNode(message) {
  const thread = message.thread;
  const details = el("details", "thread");
  details.open = openThreads.has(message.id);
  details.addEventListener("toggle", () => {
    if (details.open) openThreads.add(message.id);
    else openThreads.delete(message.id);
  });
  const count = thread.messages.length;
  details.append(el("summary", "", "thread: " + thread.name + " (" + count + " messages)"));
  for (const inner of thread.messages) details.append(messageNode(inner));
  return details;
}

// -- the page ------------------------------------------------------------------------------

function showFeed(messages) {
  const feed = document.getElementById("feed");
  const atBottom = feed.scrollHeight - feed.scrollTop - feed.clientHeight < 40;
  feed.replaceChildren(...messages.map(messageNode));
  if (!messages.length) feed.append(el("p", "hint", "No messages yet: type a command below."));
  if (atBottom) feed.scrollTop = feed.scrollHeight;
}

function showCommands(commands) {
  const text = JSON.stringify(commands);
  if (text === commandsShown) return;
  commandsShown = text;
  const list = document.getElementById("commands");
  list.replaceChildren();
  for (const command of commands) {
    const item = el("li");
    item.append(el("div", "usage", command.usage), el("div", "desc", command.description));
    item.addEventListener("click", () => {
      const input = document.getElementById("command");
      input.value = command.usage.split(" [")[0] + " ";
      input.focus();
    });
    list.append(item);
  }
}

function showModal(modals) {
  const overlay = document.getElementById("modal");
  const modal = modals[0];
  if (!modal) {
    overlay.hidden = true;
    modalShown = null;
    return;
  }
  if (modalShown === modal.interaction_id) return;
  modalShown = modal.interaction_id;
  document.getElementById("modal-title").textContent = modal.title;
  document.getElementById("modal-error").textContent = "";
  document.getElementById("modal-note").textContent = modal.unsupported.length
    ? "Not supported on this page: " + modal.unsupported.join(", ")
    : "";
  const fields = document.getElementById("modal-fields");
  fields.replaceChildren();
  for (const field of modal.fields) {
    const label = el("label", "", field.label + (field.required ? " *" : ""));
    const input = el(field.paragraph ? "textarea" : "input");
    input.dataset.customId = field.custom_id;
    input.value = field.value;
    input.placeholder = field.placeholder;
    if (field.max_length) input.maxLength = field.max_length;
    label.append(input);
    fields.append(label);
  }
  overlay.hidden = false;
  const first = fields.querySelector("input, textarea");
  if (first) first.focus();
}

async function submitModal() {
  const values = {};
  for (const input of document.querySelectorAll("#modal-fields [data-custom-id]")) {
    values[input.dataset.customId] = input.value;
  }
  const answer = await api("modal", { interaction_id: modalShown, values });
  document.getElementById("modal-error").textContent = answer.error || "";
  poll(true);
}

async function closeModal() {
  await api("modal/close", { interaction_id: modalShown });
  poll(true);
}

function render(state) {
  document.getElementById("where").textContent =
    state.guild + " · #" + state.channel + " · signed in as " + state.user;
  const bot = document.getElementById("bot");
  bot.textContent = state.bot_ready ? "bot connected" : "bot not connected";
  bot.className = "status" + (state.bot_ready ? " ready" : "");
  showFeed(state.messages);
  showCommands(state.commands);
  showModal(state.modals);
  document.getElementById("waiting").textContent = state.waiting
    .map((w) => w.what + ": " + (w.state === "sending" ? "sending…" : "the bot did not respond"))
    .join(" · ");
}

let timer = null;
async function poll(now) {
  clearTimeout(timer);
  try {
    const since = version === null || now ? "" : "?since=" + version;
    const state = await api("state" + since);
    if (state.error) showError(state.error);
    else {
      version = state.version;
      if (state.messages) render(state);
    }
  } catch (e) {
    showError("the local Discord is not answering (is swarm run still running?)");
  }
  timer = setTimeout(poll, POLL_MS);
}

// -- suggestions: the bot's autocomplete, or an option's choices -----------------------------

let suggestTimer = null;
let suggestFor = "";

function showChoices(choices, text) {
  const list = document.getElementById("choices");
  list.replaceChildren();
  list.hidden = !choices.length;
  for (const choice of choices) {
    const item = el("li", "", choice.name === choice.value
      ? choice.value : choice.name + " → " + choice.value);
    item.addEventListener("click", () => pickChoice(text, choice.value));
    list.append(item);
  }
}

function pickChoice(text, value) {
  const input = document.getElementById("command");
  const start = text.search(/[-_a-z0-9]+:\s*[^:]*$/);
  const head = start < 0 ? text : text.slice(0, start) + text.slice(start).split(":")[0] + ":";
  const quoted = /\s|"|[-_a-z0-9]+:/.test(value) ? '"' + value.replace(/"/g, '\\"') + '"' : value;
  input.value = head + quoted + " ";
  showChoices([], "");
  input.focus();
}

function suggest() {
  clearTimeout(suggestTimer);
  suggestTimer = setTimeout(async () => {
    const text = document.getElementById("command").value;
    suggestFor = text;
    if (!/:\S*$/.test(text)) return showChoices([], "");
    const answer = await api("complete", { text });
    if (suggestFor === text) showChoices(answer.choices || [], text);
  }, 250);
}

async function sendCommand() {
  const input = document.getElementById("command");
  const text = input.value.trim();
  if (!text) return;
  showChoices([], "");
  const answer = await act("command", { text });
  if (!answer.error) input.value = "";
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("send").addEventListener("click", sendCommand);
  document.getElementById("command").addEventListener("keydown", (event) => {
    if (event.key === "Enter") sendCommand();
  });
  document.getElementById("command").addEventListener("input", suggest);
  document.getElementById("modal-send").addEventListener("click", submitModal);
  document.getElementById("modal-cancel").addEventListener("click", closeModal);
  poll(true);
});
