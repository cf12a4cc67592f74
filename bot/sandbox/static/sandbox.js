// The sandbox page: shows what the server sends (/sandbox/events) and posts what a person does.
// All drawing of Slack's blocks happens on the server; this only swaps HTML in and wires clicks.
"use strict";
const $ = (sel) => document.querySelector(sel);
let screen = null;
let user = localStorage.getItem("wso-sandbox-user") || "U0DEMOOFF1";
let channel = localStorage.getItem("wso-sandbox-channel") || "";
const seen = {};

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) toast(answer.error || `HTTP ${response.status}`);
  return answer;
}

function toast(text) {
  const box = $("#toast");
  box.textContent = text;
  box.classList.add("on");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => box.classList.remove("on"), 6000);
}

function entry(c) {
  const div = document.createElement("div");
  div.className = "chan" + (c.id === channel ? " on" : "");
  div.dataset.channelId = c.id;
  const name = document.createElement("span");
  name.textContent = (c.kind === "dm" ? "" : "# ") + c.name;
  const small = document.createElement("small");
  small.textContent = c.kind === "dm" ? "direct message" : `${c.facility} · ${c.kind}`;
  name.appendChild(small);
  const count = document.createElement("span");
  count.className = "n";
  const fresh = c.count - (seen[c.id] || 0);
  count.textContent = c.id !== channel && fresh > 0 ? String(fresh) : "";
  div.append(name, count);
  return div;
}

let followed = -1;

function draw() {
  if (!screen) return;
  if (screen.focus && screen.focus.serial !== undefined && screen.focus.serial !== followed) {
    followed = screen.focus.serial;
    user = screen.focus.user;
    channel = screen.focus.channel;
  }
  const picker = $("#user");
  if (picker.options.length !== screen.people.length) {
    picker.innerHTML = "";
    for (const p of screen.people) picker.add(new Option(`${p.name} — ${p.role}`, p.id));
  }
  picker.value = user;
  $("#caption").textContent = screen.caption;
  $("#clocks").innerHTML = "";
  for (const c of screen.clocks) {
    const line = document.createElement("div");
    line.className = "clock";
    line.innerHTML = "<b></b> ";
    line.firstChild.textContent = c.local;
    line.append(c.facility);
    $("#clocks").appendChild(line);
  }
  const hours = screen.lead_seconds / 3600;
  $("#lead").textContent = hours > 0 ? `${hours.toFixed(1)} h ahead of real time` : "real time";
  const channels = screen.channels.filter((c) => c.kind !== "dm");
  const dms = screen.channels.filter((c) => c.kind === "dm");
  if (!channel) channel = channels.length ? channels[0].id : "home";
  $("#channels").replaceChildren(...channels.map(entry));
  $("#dms").replaceChildren(...dms.map(entry));
  document.querySelectorAll(".chan").forEach((el) =>
    el.classList.toggle("on", el.dataset.channelId === channel));
  drawMain();
  drawModal();
}

function drawMain() {
  const box = $("#messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  if (channel === "home") {
    $("#title").textContent = "WSO Custody Clock — Home";
    const home = screen.homes.find((h) => h.user === user);
    box.innerHTML = home ? `<div data-view-id="${home.view_id}">${home.html}</div>`
      : '<div class="empty">Opening the Home tab…</div>';
    return;
  }
  const c = screen.channels.find((x) => x.id === channel);
  if (!c) return;
  seen[c.id] = c.count;
  $("#title").textContent = (c.kind === "dm" ? "" : "# ") + c.name;
  const small = document.createElement("small");
  small.textContent = c.kind === "dm" ? "direct message with the bot" : `${c.facility} · ${c.kind}`;
  $("#title").appendChild(small);
  const notes = screen.notes.filter((n) => n.user === user && n.channel === channel);
  box.innerHTML = (c.html || "") + notes.map((n) => n.html).join("") ||
    '<div class="empty">No messages yet. Type a command below, e.g. /wso arrest B-1 I-200</div>';
  if (atBottom) box.scrollTop = box.scrollHeight;
}

function drawModal() {
  const overlay = $("#overlay");
  const modal = screen.modals.find((m) => m.user === user);
  if (!modal) {
    overlay.classList.remove("on");
    overlay.innerHTML = "";
    return;
  }
  if (overlay.dataset.viewHtml !== modal.html || overlay.dataset.errors !== JSON.stringify(modal.errors)) {
    overlay.dataset.viewHtml = modal.html;
    overlay.dataset.errors = JSON.stringify(modal.errors);
    overlay.innerHTML = `<div data-view-id="${modal.view_id}" data-modal-view>${modal.html}</div>`;
    for (const [block, text] of Object.entries(modal.errors)) {
      const error = document.createElement("div");
      error.className = "error";
      error.textContent = text;
      const where = block ? overlay.querySelector(`[data-block-id="${CSS.escape(block)}"]`) : null;
      (where || overlay.querySelector(".blocks")).appendChild(error);
    }
  }
  overlay.classList.add("on");
}

document.addEventListener("click", async (event) => {
  const travel = event.target.closest("[data-travel-step],[data-travel-to]");
  if (travel) {
    await post("/sandbox/clock", {step: travel.dataset.travelStep || "", to: travel.dataset.travelTo || ""});
    return;
  }
  const chan = event.target.closest(".chan");
  if (chan) {
    channel = chan.dataset.channelId;
    localStorage.setItem("wso-sandbox-channel", channel);
    // A direct message is read by the person it was sent to: act as them.
    const owner = channel.startsWith("D") ? screen.people.find((p) => "D" + p.id === channel) : null;
    if (owner) {
      user = owner.id;
      localStorage.setItem("wso-sandbox-user", user);
    }
    if (channel === "home") await post("/sandbox/home", {user});
    draw();
    return;
  }
  const modalButton = event.target.closest("[data-modal]");
  if (modalButton) {
    const view = modalButton.closest("[data-view-id]").dataset.viewId;
    if (modalButton.dataset.modal === "close") {
      await post("/sandbox/close", {user, view_id: view});
    } else {
      const inputs = [...document.querySelectorAll("#overlay [data-input]")].map((el) => ({
        block_id: el.closest("[data-block-id]").dataset.blockId,
        action_id: el.dataset.actionId,
        value: el.value,
      }));
      await post("/sandbox/submit", {user, view_id: view, inputs});
    }
    return;
  }
  const button = event.target.closest("button[data-action-id]");
  if (!button) return;
  const block = button.closest("[data-block-id]");
  const message = button.closest(".msg");
  const view = button.closest("[data-view-id]");
  await post("/sandbox/click", {
    user,
    action_id: button.dataset.actionId,
    value: button.dataset.value,
    block_id: block ? block.dataset.blockId : "",
    channel: message ? message.dataset.channel : "",
    ts: message ? message.dataset.ts : "",
    view_id: view && !message ? view.dataset.viewId : "",
  });
});

$("#user").addEventListener("change", async (event) => {
  user = event.target.value;
  localStorage.setItem("wso-sandbox-user", user);
  if (channel === "home") await post("/sandbox/home", {user});
  draw();
});

$("#composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("#command").value.trim();
  if (!text) return;
  if (channel === "home") {
    toast("Open a channel to type a command, e.g. # demo-county-jail");
    return;
  }
  const answer = await post("/sandbox/command", {user, channel, text});
  if (answer.status === 200) $("#command").value = "";
});

const events = new EventSource("/sandbox/events");
events.addEventListener("screen", (event) => {
  screen = JSON.parse(event.data);
  document.body.dataset.version = String((Number(document.body.dataset.version) || 0) + 1);
  draw();
});
events.onerror = () => toast("Lost the connection to the sandbox; retrying…");
