// The agentvlm web page: one conversation about an image, over the server's own
// OpenAI-compatible API (streamed), so the page is just another client of /v1.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { messages: [], image: null, imageSent: false, busy: false };

function headers() {
  const key = $("key").value.trim();
  localStorage.setItem("agentvlm-key", key);
  return key ? { Authorization: `Bearer ${key}` } : {};
}

function showError(text) {
  $("error").textContent = text;
  $("error").hidden = !text;
}

// /healthz tells only a caller with the key (or any caller of an open server) that a key is set.
async function init() {
  $("key").value = localStorage.getItem("agentvlm-key") || "";
  const health = await (await fetch("/healthz", { headers: headers() })).json();
  await loadGraphs(health.default_graph || "agentvlm", health.auth);
}

async function loadGraphs(fallback, auth) {
  const select = $("graph");
  const r = await fetch("/v1/models", { headers: headers() });
  $("key-label").hidden = !(auth || r.status === 401 || $("key").value);
  const models = r.ok ? (await r.json()).data : [{ id: fallback, default: true, description: "" }];
  select.replaceChildren(...models.map((m) => {
    const option = new Option(m.id, m.id, m.default, m.default);
    option.title = m.description || "";
    return option;
  }));
  if (!r.ok) showError("Enter the server's API key to list its graphs.");
}

function setImage(file) {
  if (!file || !file.type.startsWith("image/")) return showError("That is not an image file.");
  const reader = new FileReader();
  reader.onload = () => {
    state.image = reader.result;
    state.imageSent = false;
    $("preview").src = reader.result;
    $("preview").hidden = false;
    $("drop-hint").hidden = true;
    showError("");
    $("question").focus();
  };
  reader.readAsDataURL(file);
}

function cell(row, text) {
  row.insertCell().textContent = text;
}

function fmtBox(box) {
  return box ? [box.x1, box.y1, box.x2, box.y2].map((v) => v.toFixed(2)).join(", ") : "";
}

async function showDetails(turn, extra) {
  const answer = extra.answer;
  const body = turn.querySelector(".evidence tbody");
  for (const e of answer.evidence) {
    const row = body.insertRow();
    row.className = `kind-${e.kind}`;
    [e.id, e.tool, e.label || e.kind, e.text || "", fmtBox(e.box), e.score == null ? "" : e.score.toFixed(2)].forEach((t) => cell(row, t));
  }
  const parts = turn.querySelector(".parts");
  for (const p of answer.parts || []) {
    const li = document.createElement("li");
    li.textContent = `${p.question} → ${p.text} (${p.basis || "no basis"})`;
    parts.append(li);
  }
  parts.hidden = !(answer.parts || []).length;
  const decided = answer.basis ? `, decided by ${answer.basis}` : "";
  turn.querySelector(".meta").textContent =
    `${answer.graph}, ${answer.seconds.toFixed(2)} s, ${answer.model_calls} model calls (${answer.vlm_calls || 0} to the VLM), ${answer.tool_calls} tool calls${decided}`;
  turn.querySelector(".details").hidden = false;
  const r = await fetch(extra.annotated_images[0], { headers: headers() });
  if (r.ok) turn.querySelector(".annotated").src = URL.createObjectURL(await r.blob());
}

function addStep(turn, text) {
  const li = document.createElement("li");
  li.textContent = text.trim();
  turn.querySelector(".steps").append(li);
}

async function ask(question) {
  const turn = $("turn-template").content.firstElementChild.cloneNode(true);
  turn.querySelector(".question").textContent = question;
  $("turns").append(turn);
  const content = [{ type: "text", text: question }];
  if (state.image && !state.imageSent) content.push({ type: "image_url", image_url: { url: state.image } });
  const messages = [...state.messages, { role: "user", content }];
  const r = await fetch("/v1/chat/completions", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers() },
    body: JSON.stringify({ model: $("graph").value, messages, stream: true }),
  });
  if (!r.ok) {
    const error = await r.json().catch(() => ({ error: { message: r.statusText } }));
    turn.remove();
    throw new Error(error.error.message);
  }
  let answerText = "";
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end).replace(/^data: /, "");
      buffer = buffer.slice(end + 2);
      if (event === "[DONE]") continue;
      const data = JSON.parse(event);
      if (data.error) throw new Error(data.error.message);
      const delta = data.choices[0].delta;
      if (delta.reasoning_content) addStep(turn, delta.reasoning_content);
      if (delta.content) {
        answerText += delta.content;
        const p = turn.querySelector(".answer");
        p.textContent = answerText;
        p.hidden = false;
      }
      if (data.choices[0].finish_reason === "stop" && data.agentvlm) await showDetails(turn, data.agentvlm);
    }
  }
  state.messages = [...messages, { role: "assistant", content: answerText }];
  state.imageSent = true;
}

$("ask-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question || state.busy) return;
  if (!state.image) return showError("Pick or drop an image first.");
  state.busy = true;
  $("ask").disabled = true;
  showError("");
  try {
    await ask(question);
    $("question").value = "";
  } catch (err) {
    showError(err.message);
  } finally {
    state.busy = false;
    $("ask").disabled = false;
  }
});

$("file").addEventListener("change", (e) => setImage(e.target.files[0]));
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  setImage(e.dataTransfer.files[0]);
});
$("key").addEventListener("change", () => loadGraphs($("graph").value));
$("reset").addEventListener("click", () => {
  Object.assign(state, { messages: [], image: null, imageSent: false });
  $("turns").replaceChildren();
  $("preview").hidden = true;
  $("drop-hint").hidden = false;
  $("file").value = "";
  showError("");
});

init().catch((err) => showError(`Cannot reach the server: ${err.message}`));
