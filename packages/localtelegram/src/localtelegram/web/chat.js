"use strict";
// The local Telegram's page: the chat as the bot sends and edits it; what the person types
// or presses goes to the server, which gives it to the bot as an update. Text is set with
// textContent only: nothing a bot or an agent wrote is ever parsed as HTML here.
const key = location.hash.slice(1);
let replyTo = null;
let lastShown = "";
let lastToast = null;

async function call(path, body) {
  const options = { headers: { "X-Chat-Key": key } };
  if (body !== undefined) {
    options.method = "POST";
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch("api/" + path, options);
  if (!response.ok) throw new Error(await response.text());
  return response.json();
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function render(state) {
  const shown = JSON.stringify(state.messages);
  document.getElementById("title").textContent = state.chat.title || "chat";
  document.getElementById("me").textContent = "as " + state.me.first_name + " (id " + state.me.id + ")";
  const list = document.getElementById("commands");
  list.replaceChildren(...state.commands.map((c) => { const o = el("option"); o.value = "/" + c.command + " "; o.label = c.description; return o; }));
  showToast(state.answers);
  if (shown === lastShown) return;
  lastShown = shown;
  const byId = new Map(state.messages.map((m) => [m.id, m]));
  const main = document.getElementById("messages");
  const atEnd = main.scrollTop + main.clientHeight >= main.scrollHeight - 40;
  main.replaceChildren(...state.messages.map((m) => message(m, byId, state.me)));
  if (atEnd) main.scrollTop = main.scrollHeight;
}

function message(m, byId, me) {
  const box = el("div", "msg" + (m.bot ? "" : " mine"));
  const who = el("div", "who", m.from);
  const reply = el("button", "reply", "reply");
  reply.type = "button";
  reply.addEventListener("click", () => chooseReply(m));
  who.append(reply);
  box.append(who);
  if (m.reply_to !== null) {
    const quoted = byId.get(m.reply_to);
    box.append(el("div", "quote", quoted ? quoted.text.slice(0, 120) : "(a deleted message)"));
  }
  box.append(el("div", "", m.text));
  if (m.edited) box.append(el("div", "meta", "edited"));
  if (m.buttons.length) {
    const keys = el("div", "keys");
    for (const row of m.buttons) {
      const line = el("div");
      for (const b of row) {
        const button = el("button", "", b.text);
        button.type = "button";
        button.addEventListener("click", () => call("press", { message_id: m.id, data: b.callback_data }).catch(warn));
        line.append(button);
      }
      keys.append(line);
    }
    box.append(keys);
  }
  return box;
}

function chooseReply(m) {
  replyTo = m.id;
  document.getElementById("replying").hidden = false;
  document.getElementById("replying-to").textContent = m.text.slice(0, 60);
  document.getElementById("text").focus();
}

function showToast(answers) {
  const last = answers[answers.length - 1];
  if (!last || last.id === lastToast) return;
  lastToast = last.id;
  const toast = document.getElementById("toast");
  toast.textContent = last.text;
  toast.hidden = false;
  setTimeout(() => { toast.hidden = true; }, 4000);
}

function warn(error) { showToast([{ id: String(Date.now()), text: String(error.message || error) }]); }

async function refresh() {
  try { render(await call("state")); } catch (error) { warn(error); }
  setTimeout(refresh, 700);
}

document.getElementById("cancel-reply").addEventListener("click", () => {
  replyTo = null;
  document.getElementById("replying").hidden = true;
});
document.getElementById("compose").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("text");
  const text = input.value.trim();
  if (!text) return;
  try {
    await call("send", { text, reply_to: replyTo });
    input.value = "";
    replyTo = null;
    document.getElementById("replying").hidden = true;
  } catch (error) { warn(error); }
});
refresh();
