// The sandbox web chat: one column per pretend person, talking to the bot through the
// sandbox's control API. Everything is built with DOM calls and textContent; nothing a
// bot or a person typed is ever parsed as HTML.
"use strict";

const API = "/sandbox/api";
const AVATAR_COLOURS = ["#2f6f5e", "#5b6f9e", "#9a6a3a", "#7a5a8c", "#3f7f8f", "#8c5a5a"];
const LINK_SCHEMES = ["http:", "https:", "tg:", "mailto:", "tel:"];
const HIDDEN_KEY = "tongban-sandbox-hidden";

const model = {
  people: new Map(), // id -> person
  chats: new Map(), // id -> {history: Map, keyboard, force_reply, commands, menu_button, description}
  demoCast: false,
};
const columns = new Map(); // id -> column controller
let buffered = null; // events that arrive while the full state is loading

// ---- talking to the server ----

async function call(path, body) {
  const response = await fetch(API + path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  let answer = null;
  try {
    answer = await response.json();
  } catch (_) {
    throw new Error(`The sandbox answered ${response.status}.`);
  }
  if (!answer.ok) throw new Error(answer.error || "The sandbox refused that.");
  return answer.result;
}

async function loadState() {
  buffered = [];
  try {
    const response = await fetch(API + "/state", { cache: "no-store" });
    const { result } = await response.json();
    model.people = new Map(result.people.map((p) => [p.id, p]));
    model.chats = new Map();
    for (const [id, chat] of Object.entries(result.chats)) {
      model.chats.set(Number(id), {
        ...chat,
        history: new Map(chat.history.map((e) => [e.message_id, e])),
      });
    }
    model.demoCast = result.demo_cast;
    renderAll();
  } finally {
    const pending = buffered || [];
    buffered = null;
    pending.forEach(apply);
  }
}

function connect() {
  const status = document.getElementById("connection");
  const source = new EventSource(API + "/events");
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "hello") {
      status.textContent = "Live";
      status.classList.add("live");
      loadState();
    } else if (buffered) {
      buffered.push(event);
    } else {
      apply(event);
    }
  };
  source.onerror = () => {
    status.textContent = "Reconnecting…";
    status.classList.remove("live");
  };
}

function chatOf(id) {
  if (!model.chats.has(id)) {
    model.chats.set(id, { history: new Map(), keyboard: null, force_reply: null, commands: [] });
  }
  return model.chats.get(id);
}

function apply(event) {
  switch (event.type) {
    case "person":
      model.people.set(event.person.id, event.person);
      applyProfiles(event.profiles);
      renderAll();
      break;
    case "profile":
      applyProfiles(event.profiles);
      columns.forEach((column) => column.renderChrome());
      break;
    case "message": {
      const entry = event.entry;
      chatOf(entry.chat_id).history.set(entry.message_id, entry);
      columns.get(entry.chat_id)?.upsert(entry);
      break;
    }
    case "chat": {
      const chat = chatOf(event.chat_id);
      chat.keyboard = event.keyboard;
      chat.force_reply = event.force_reply;
      columns.get(event.chat_id)?.renderChrome();
      break;
    }
    case "chat_action":
      columns.get(event.chat_id)?.showAction(event.action);
      break;
    case "callback_answer":
      columns.get(event.chat_id)?.showAnswer(event);
      break;
  }
}

function applyProfiles(profiles) {
  for (const [id, profile] of Object.entries(profiles || {})) {
    Object.assign(chatOf(Number(id)), profile);
  }
}

// ---- rendering ----

function hiddenIds() {
  try {
    return new Set(JSON.parse(localStorage.getItem(HIDDEN_KEY) || "[]"));
  } catch (_) {
    return new Set();
  }
}

function setHidden(ids) {
  localStorage.setItem(HIDDEN_KEY, JSON.stringify([...ids]));
  renderAll();
}

function renderAll() {
  const container = document.getElementById("chats");
  const hidden = hiddenIds();
  for (const [id, column] of columns) {
    if (!model.people.has(id) || hidden.has(id)) {
      column.root.remove();
      columns.delete(id);
    }
  }
  for (const person of model.people.values()) {
    if (hidden.has(person.id)) continue;
    let column = columns.get(person.id);
    if (!column) {
      column = new ChatColumn(person.id);
      columns.set(person.id, column);
      container.append(column.root);
      column.renderHistory();
    }
    column.renderChrome();
  }
  document.getElementById("empty").hidden = model.people.size > 0;
  document.getElementById("demo-cast").hidden = !model.demoCast;
  document.getElementById("demo-cast-hint").hidden = !model.demoCast;
  const showHidden = document.getElementById("show-hidden");
  const hiddenCount = [...hidden].filter((id) => model.people.has(id)).length;
  showHidden.hidden = hiddenCount === 0;
  showHidden.textContent = `Show hidden chats (${hiddenCount})`;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function safeHref(url) {
  try {
    const parsed = new URL(url, "https://invalid.example/");
    return LINK_SCHEMES.includes(parsed.protocol) ? parsed.href : null;
  } catch (_) {
    return null;
  }
}

function formatTime(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// Text with Telegram entities (offsets in UTF-16 units, which is what JS strings use).
function renderText(text, entities, onCommand) {
  const root = document.createDocumentFragment();
  const sorted = [...(entities || [])].sort((a, b) => a.offset - b.offset || b.length - a.length);
  const build = (parent, start, end, list) => {
    let position = start;
    let i = 0;
    while (i < list.length) {
      const entity = list[i];
      const from = Math.max(entity.offset, position);
      const to = Math.min(entity.offset + entity.length, end);
      const inside = [];
      let j = i + 1;
      while (j < list.length && list[j].offset < entity.offset + entity.length) inside.push(list[j++]);
      if (from < to) {
        if (from > position) parent.append(text.slice(position, from));
        const node = entityNode(entity, text.slice(from, to), onCommand);
        build(node.inner, from, to, inside);
        parent.append(node.outer);
        position = to;
      }
      i = j;
    }
    if (position < end) parent.append(text.slice(position, end));
  };
  build(root, 0, text.length, sorted);
  return root;
}

function entityNode(entity, content, onCommand) {
  const simple = {
    bold: "strong",
    italic: "em",
    underline: "u",
    strikethrough: "s",
    code: "code",
    blockquote: "blockquote",
    expandable_blockquote: "blockquote",
  }[entity.type];
  if (simple) {
    const node = el(simple);
    return { outer: node, inner: node };
  }
  if (entity.type === "pre") {
    const pre = el("pre");
    const code = el("code");
    pre.append(code);
    return { outer: pre, inner: code };
  }
  if (entity.type === "spoiler") {
    const node = el("span", "spoiler");
    node.title = "Spoiler: click to show";
    node.addEventListener("click", () => node.classList.add("shown"));
    return { outer: node, inner: node };
  }
  const href = safeHref(entity.type === "text_link" ? entity.url : entity.type === "url" ? content : "");
  if (href && (entity.type === "text_link" || entity.type === "url")) {
    const link = el("a");
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.title = href;
    return { outer: link, inner: link };
  }
  if (entity.type === "bot_command" && onCommand) {
    const node = el("span", "command");
    node.tabIndex = 0;
    node.title = "Send this command";
    node.addEventListener("click", () => onCommand(content.split("@")[0]));
    return { outer: node, inner: node };
  }
  const node = el("span");
  return { outer: node, inner: node };
}

function avatarColour(id) {
  return AVATAR_COLOURS[id % AVATAR_COLOURS.length];
}

function snippet(entry) {
  if (!entry) return "a message";
  if (entry.text) return entry.text.slice(0, 80);
  return { photo: "Photo", document: entry.file_name || "File", sticker: "Sticker", voice: "Voice note" }[entry.kind] || "Message";
}

// ---- one chat column ----

class ChatColumn {
  constructor(id) {
    this.id = id;
    this.root = document.getElementById("chat-template").content.firstElementChild.cloneNode(true);
    this.q = (selector) => this.root.querySelector(selector);
    this.messages = this.q(".messages");
    this.textarea = this.q("textarea");
    this.context = null; // {kind: "reply" | "edit", message_id}
    this.actionTimer = null;
    this.noticeTimer = null;
    // Like a chat app, the view follows new messages while it is at the bottom. Keyboards
    // appearing, edits and images change heights without any scrolling, so the decision is
    // taken when the reader scrolls, not when a message arrives; and only the reader
    // scrolling up stops it (a late scroll event of our own must not).
    this.following = true;
    this.autoScrollTop = 0;
    this.wire();
  }

  get person() {
    return model.people.get(this.id);
  }

  get chat() {
    return chatOf(this.id);
  }

  wire() {
    this.q(".composer").addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      } else if (event.key === "Escape") {
        this.closePopovers();
        if (this.context?.kind === "edit") this.textarea.value = "";
        if (this.context) this.setContext(null);
      }
    });
    this.textarea.addEventListener("input", () => this.fitTextarea());
    this.messages.addEventListener("scroll", () => {
      const { scrollHeight, scrollTop, clientHeight } = this.messages;
      if (scrollHeight - scrollTop - clientHeight < 80) this.following = true;
      else if (scrollTop < this.autoScrollTop - 1) this.following = false;
    });
    new ResizeObserver(() => this.follow()).observe(this.messages);
    this.q(".block").addEventListener("click", () =>
      this.act(this.person.blocked ? "/unblock" : "/block", {}),
    );
    this.q(".restart").addEventListener("click", async () => {
      await this.act("/unblock", {});
      await this.sendText("/start");
    });
    this.q(".start").addEventListener("click", () => this.sendText("/start"));
    this.q(".hide").addEventListener("click", () => {
      const hidden = hiddenIds();
      hidden.add(this.id);
      setHidden(hidden);
    });
    this.q(".context-cancel").addEventListener("click", () => this.setContext(null));
    this.q(".menu-button").addEventListener("click", () => this.toggle(".commands-menu"));
    this.q(".attach-button").addEventListener("click", () => this.toggle(".attach-menu"));
    this.q(".attach-file").addEventListener("click", () => {
      this.toggle(".attach-menu", false);
      this.q(".file-input").click();
    });
    this.q(".attach-sticker").addEventListener("click", () => {
      this.toggle(".attach-menu", false);
      this.act("/sticker", { emoji: "🙂" });
    });
    this.q(".attach-voice").addEventListener("click", () => {
      this.toggle(".attach-menu", false);
      this.act("/voice", { duration: 4 });
    });
    this.q(".file-input").addEventListener("change", (event) => this.sendFile(event.target));
  }

  closePopovers() {
    this.root.querySelectorAll(".popover").forEach((popover) => {
      popover.hidden = true;
    });
  }

  toggle(selector, show) {
    const popover = this.q(selector);
    popover.hidden = show === undefined ? !popover.hidden : !show;
  }

  fitTextarea() {
    this.textarea.style.height = "auto";
    this.textarea.style.height = `${Math.min(this.textarea.scrollHeight, 140)}px`;
  }

  async act(path, body) {
    try {
      return await call(`/users/${this.id}${path}`, body);
    } catch (error) {
      this.notice(error.message, "error");
      return null;
    }
  }

  async sendText(text) {
    const body = { text };
    if (this.context?.kind === "reply") body.reply_to = this.context.message_id;
    const result = await this.act("/text", body);
    if (result) this.setContext(null);
    return result;
  }

  async submit() {
    const text = this.textarea.value.trim();
    if (!text) return;
    const result =
      this.context?.kind === "edit"
        ? await this.act("/edit", { message_id: this.context.message_id, text })
        : await this.sendText(text);
    if (result) {
      this.textarea.value = "";
      this.fitTextarea();
      this.setContext(null);
    }
  }

  sendFile(input) {
    const file = input.files && input.files[0];
    input.value = "";
    if (!file) return;
    if (file.size > 20 * 1024 * 1024) {
      this.notice("That file is over 20 MB; pick a smaller one.", "error");
      return;
    }
    const reader = new FileReader();
    reader.onload = async () => {
      const data = String(reader.result).split(",", 2)[1] || "";
      const caption = this.textarea.value.trim() || null;
      const isPhoto = ["image/png", "image/jpeg", "image/gif", "image/webp"].includes(file.type);
      const result = isPhoto
        ? await this.act("/photo", { data_base64: data, caption })
        : await this.act("/document", {
            data_base64: data,
            file_name: file.name,
            mime_type: file.type || null,
            caption,
          });
      if (result && caption) {
        this.textarea.value = "";
        this.fitTextarea();
      }
    };
    reader.onerror = () => this.notice("That file could not be read.", "error");
    reader.readAsDataURL(file);
  }

  setContext(context, focus = true) {
    this.context = context;
    const bar = this.q(".context-bar");
    if (!context) {
      bar.hidden = true;
      const force = this.chat.force_reply;
      this.textarea.placeholder = (force && force.input_field_placeholder) || "Message";
      return;
    }
    const entry = this.chat.history.get(context.message_id);
    this.q(".context-text").textContent =
      context.kind === "edit" ? `Editing: ${snippet(entry)}` : `Replying to: ${snippet(entry)}`;
    bar.hidden = false;
    if (context.kind === "edit" && entry) {
      this.textarea.value = entry.text || "";
      this.fitTextarea();
    }
    if (focus) this.textarea.focus();
  }

  renderChrome() {
    const person = this.person;
    if (!person) return;
    const chat = this.chat;
    this.root.lang = person.language_code || "en";
    this.root.classList.toggle("blocked", person.blocked);
    const avatar = this.q(".avatar");
    avatar.textContent = Array.from(person.first_name)[0] || "?";
    avatar.style.background = avatarColour(person.id);
    this.q(".name").textContent = [person.first_name, person.last_name].filter(Boolean).join(" ");
    this.q(".role").textContent = (person.role || "").replaceAll("_", " ");
    this.q(".lang").textContent = person.language_code || "no language";
    this.q(".block").textContent = person.blocked ? "Unblock bot" : "Block bot";
    this.q(".blocked-panel").hidden = !person.blocked;
    this.q(".start-panel").hidden = person.started || person.blocked;
    this.q(".description").textContent = chat.description || "";
    this.q(".composer-area").hidden = person.blocked || !person.started;
    this.renderKeyboard(chat.keyboard);
    this.renderCommands(chat.commands || [], chat.menu_button);
    if (chat.force_reply && !this.context) {
      this.setContext({ kind: "reply", message_id: chat.force_reply.message_id }, false);
    }
    if (!this.context) this.setContext(null, false);
  }

  renderKeyboard(keyboard) {
    const area = this.q(".reply-keyboard");
    area.replaceChildren();
    area.hidden = !keyboard;
    if (!keyboard) return;
    for (const row of keyboard.keyboard) {
      const line = el("div", "row");
      for (const button of row) {
        const node = el("button", null, button.text);
        node.type = "button";
        const special = ["request_contact", "request_location", "request_poll", "request_users", "request_chat", "web_app"].find((k) => button[k]);
        if (special) {
          node.disabled = true;
          node.title = "Not available in the sandbox";
        } else {
          node.addEventListener("click", () => this.act("/reply-button", { text: button.text }));
        }
        line.append(node);
      }
      area.append(line);
    }
  }

  renderCommands(commands, menuButton) {
    const button = this.q(".menu-button");
    const menu = this.q(".commands-menu");
    button.hidden = commands.length === 0 || (menuButton && menuButton.type === "web_app");
    menu.replaceChildren();
    for (const command of commands) {
      const item = el("button");
      item.type = "button";
      item.append(el("span", "command-name", `/${command.command}`), command.description);
      item.addEventListener("click", () => {
        menu.hidden = true;
        this.sendText(`/${command.command}`);
      });
      menu.append(item);
    }
    if (commands.length === 0) menu.hidden = true;
  }

  renderHistory() {
    this.messages.replaceChildren();
    const entries = [...this.chat.history.values()].sort((a, b) => a.message_id - b.message_id);
    entries.forEach((entry) => this.upsert(entry));
    this.scrollToEnd();
  }

  upsert(entry) {
    const existing = this.messages.querySelector(`[data-id="${entry.message_id}"]`);
    if (entry.deleted) {
      existing?.remove();
    } else if (existing) {
      existing.replaceWith(this.messageNode(entry));
    } else {
      const later = [...this.messages.children].find((child) => Number(child.dataset.id) > entry.message_id);
      this.messages.insertBefore(this.messageNode(entry), later || null);
      if (entry.from_bot) this.showAction(null);
      else this.following = true; // what this person just sent is always shown
    }
    this.follow();
  }

  follow() {
    if (this.following) this.scrollToEnd();
  }

  scrollToEnd() {
    this.following = true;
    requestAnimationFrame(() => {
      this.messages.scrollTop = this.messages.scrollHeight;
      this.autoScrollTop = this.messages.scrollTop;
    });
  }

  messageNode(entry) {
    const wrapper = el("div", `msg ${entry.from_bot ? "bot" : "me"}`);
    wrapper.dataset.id = String(entry.message_id);
    const bubble = el("div", "bubble");
    const origin = entry.forward_origin;
    if (origin) {
      const who = origin.sender_user ? origin.sender_user.first_name : origin.sender_user_name || "someone";
      bubble.append(el("div", "forward", `Forwarded from ${who}`));
    }
    if (entry.reply_to_message_id) {
      bubble.append(el("div", "quote", snippet(this.chat.history.get(entry.reply_to_message_id))));
    }
    if (entry.kind === "photo" && entry.file_url) {
      const image = el("img");
      image.src = entry.file_url;
      image.alt = entry.text || "Photo";
      image.loading = "lazy";
      image.addEventListener("load", () => this.follow(), { once: true });
      bubble.append(image);
    } else if (entry.kind === "document" && entry.file_url) {
      const link = el("a", "file", entry.file_name || "Download file");
      link.href = entry.file_url;
      link.download = entry.file_name || "";
      bubble.append(link);
    } else if (entry.kind === "sticker") {
      bubble.append(el("div", "sticker", entry.message.sticker?.emoji || "🙂"));
    } else if (entry.kind === "voice") {
      const seconds = entry.message.voice?.duration || 0;
      bubble.append(el("div", "voice", `Voice note · 0:${String(seconds).padStart(2, "0")}`));
    } else if (entry.kind === "other") {
      bubble.append(el("em", null, "A kind of message the sandbox does not show"));
    }
    if (entry.text) {
      const text = el("div", "text");
      text.append(renderText(entry.text, entry.entities, (command) => this.sendText(command)));
      bubble.append(text);
    }
    const footer = el("div", "footer");
    const actions = el("span", "actions");
    const reply = el("button", null, "Reply");
    reply.type = "button";
    reply.addEventListener("click", () => this.setContext({ kind: "reply", message_id: entry.message_id }));
    actions.append(reply);
    if (!entry.from_bot && entry.kind === "text") {
      const edit = el("button", null, "Edit");
      edit.type = "button";
      edit.addEventListener("click", () => this.setContext({ kind: "edit", message_id: entry.message_id }));
      actions.append(edit);
    }
    footer.append(actions, (entry.edited ? "edited " : "") + formatTime(entry.date));
    bubble.append(footer);
    wrapper.append(bubble);
    if (entry.inline_keyboard) wrapper.append(this.inlineKeyboard(entry));
    return wrapper;
  }

  inlineKeyboard(entry) {
    const box = el("div", "inline-keyboard");
    for (const row of entry.inline_keyboard) {
      const line = el("div", "row");
      for (const button of row) {
        const node = el("button", null, button.text);
        node.type = "button";
        if (button.callback_data !== undefined) {
          node.addEventListener("click", async () => {
            node.classList.add("pending");
            const pressed = await this.act("/press", {
              message_id: entry.message_id,
              callback_data: button.callback_data,
            });
            if (!pressed) node.classList.remove("pending");
            setTimeout(() => node.classList.remove("pending"), 10000);
          });
        } else if (button.url && safeHref(button.url)) {
          node.textContent = `${button.text} ↗`;
          node.addEventListener("click", () => window.open(safeHref(button.url), "_blank", "noopener"));
        } else {
          node.disabled = true;
          node.title = "Not available in the sandbox";
        }
        line.append(node);
      }
      box.append(line);
    }
    return box;
  }

  showAction(action) {
    const status = this.q(".status");
    clearTimeout(this.actionTimer);
    if (!action) {
      status.textContent = "";
      return;
    }
    const words = {
      typing: "bot is typing…",
      upload_photo: "bot is sending a photo…",
      upload_document: "bot is sending a file…",
      record_voice: "bot is recording…",
      upload_voice: "bot is sending a voice note…",
      choose_sticker: "bot is choosing a sticker…",
    };
    status.textContent = words[action] || "bot is busy…";
    this.actionTimer = setTimeout(() => {
      status.textContent = "";
    }, 5000);
  }

  showAnswer(answer) {
    this.messages
      .querySelectorAll(`[data-id="${answer.message_id}"] .pending`)
      .forEach((node) => node.classList.remove("pending"));
    if (answer.text) this.notice(answer.text, answer.show_alert ? "alert" : "toast");
  }

  notice(text, kind) {
    const box = this.q(".notice");
    clearTimeout(this.noticeTimer);
    box.className = `notice ${kind}`;
    box.replaceChildren(el("span", null, text));
    box.hidden = false;
    if (kind === "alert") {
      const ok = el("button", null, "OK");
      ok.type = "button";
      ok.addEventListener("click", () => {
        box.hidden = true;
      });
      box.append(ok);
      ok.focus();
    } else {
      this.noticeTimer = setTimeout(() => {
        box.hidden = true;
      }, kind === "error" ? 6000 : 3500);
    }
  }
}

// ---- the toolbar ----

function toolbarMessage(text) {
  const box = document.getElementById("toolbar-message");
  box.textContent = text || "";
  box.hidden = !text;
}

function wireToolbar() {
  const form = document.getElementById("new-person");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      await call("/users", {
        first_name: String(data.get("first_name") || "").trim(),
        role: String(data.get("role") || "").trim(),
        language_code: String(data.get("language_code") || ""),
      });
      form.elements.first_name.value = "";
      form.elements.role.value = "";
      toolbarMessage("");
    } catch (error) {
      toolbarMessage(error.message);
    }
  });
  const demo = document.getElementById("demo-cast");
  demo.addEventListener("click", async () => {
    const label = demo.textContent;
    demo.disabled = true;
    demo.textContent = "Creating the demo cast…";
    try {
      await call("/demo-cast");
      toolbarMessage("");
    } catch (error) {
      toolbarMessage(error.message);
    } finally {
      demo.disabled = false;
      demo.textContent = label;
    }
  });
  document.getElementById("show-hidden").addEventListener("click", () => setHidden(new Set()));
  // A click anywhere but on a menu or its button closes the open menus.
  document.addEventListener("click", (event) => {
    const menu = event.target.closest && event.target.closest(".popover, .menu-button, .attach-button");
    const owner = menu && menu.closest(".chat");
    columns.forEach((column) => {
      if (column.root !== owner) column.closePopovers();
    });
  });
}

wireToolbar();
connect();
