// The browser phone (/simulator): sends the caller's and the agent's steps to the server,
// shows the transcript lines each answer brings, and speaks what is said aloud.
"use strict";
(function () {
  const phone = document.getElementById("phone");
  if (!phone || phone.hidden) return;
  const base = phone.dataset.base;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const transcript = document.getElementById("transcript");
  const problem = document.getElementById("phone-error");
  const agentForm = document.getElementById("agent");
  const keysField = document.getElementById("keys-field");
  let busy = Promise.resolve();

  // One request at a time, in the order the operator acted.
  function send(path, fields) {
    busy = busy.then(() => post(path, fields));
    return busy;
  }

  async function post(path, fields) {
    problem.textContent = "";
    let answer;
    try {
      const response = await fetch(base + path, {
        method: "POST",
        headers: { "X-CSRFToken": csrf, Accept: "application/json" },
        body: new URLSearchParams(fields),
      });
      answer = await response.json();
    } catch (error) {
      problem.textContent = "The server did not answer: " + error;
      return;
    }
    (answer.lines || []).forEach(show);
    if (answer.error) problem.textContent = answer.error;
  }

  function show(line) {
    const item = document.createElement("li");
    item.className = line.kind + " " + (line.who || "twilio");
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = line.who || "!";
    const text = document.createElement("span");
    text.textContent = describe(line);
    if (line.speak) text.lang = line.speak;
    item.append(who, text);
    transcript.append(item);
    transcript.scrollTop = transcript.scrollHeight;
    if (line.kind === "say") speak(line);
  }

  function describe(line) {
    if (line.kind === "say") return "[" + [line.language, line.voice].filter(Boolean).join(" ") + "] " + line.text;
    if (line.kind === "keys") return "> " + line.text;
    if (line.kind === "play") return "♪ " + line.text;
    if (line.kind === "error") return "Twilio would log: " + line.text;
    return "(" + line.text + ")";
  }

  // Spoken in the call's language by a voice for it; skipped where the browser has none.
  function speak(line) {
    if (!line.speak || !window.speechSynthesis) return;
    const prefix = line.speak.split("-")[0];
    const voices = window.speechSynthesis.getVoices();
    const voice = voices.find((v) => v.lang === line.speak) || voices.find((v) => v.lang.startsWith(prefix));
    if (!voice) return;
    const utterance = new SpeechSynthesisUtterance(line.text);
    utterance.lang = line.speak;
    utterance.voice = voice;
    window.speechSynthesis.speak(utterance);
  }

  function agentFields() {
    return { agent: agentForm.agent.value, pin: agentForm.pin.value };
  }

  document.getElementById("dial").addEventListener("submit", (event) => {
    event.preventDefault();
    transcript.replaceChildren();
    if (window.speechSynthesis) window.speechSynthesis.cancel();
    send("/call", { caller: event.target.caller.value.trim() });
  });
  document.getElementById("keys").addEventListener("submit", (event) => {
    event.preventDefault();
    const keys = keysField.value.trim();
    keysField.value = "";
    if (keys) send("/step", { who: "caller", step: keys });
  });
  document.getElementById("pad").addEventListener("click", (event) => {
    const key = event.target.dataset.key;
    if (!key) return;
    keysField.value += key;
    // # ends what was keyed, as it ends a prompt on a phone.
    if (key === "#") document.getElementById("keys").requestSubmit();
  });
  document.getElementById("speech").addEventListener("submit", (event) => {
    event.preventDefault();
    const words = event.target.words.value.trim();
    event.target.words.value = "";
    send("/step", { who: "caller", step: "say: " + words });
  });
  document.querySelectorAll("[data-step]").forEach((button) =>
    button.addEventListener("click", () => send("/step", { who: "caller", step: button.dataset.step }))
  );
  document.getElementById("take").addEventListener("click", () => send("/agent/take", agentFields()));
  document.getElementById("pick-up").addEventListener("click", () => send("/agent", agentFields()));
  document.getElementById("agent-keys").addEventListener("submit", (event) => {
    event.preventDefault();
    const keys = event.target.step.value.trim();
    event.target.step.value = "";
    if (keys) send("/step", { who: "agent", step: keys });
  });
  document.querySelectorAll("[data-agent-step]").forEach((button) =>
    button.addEventListener("click", () => send("/step", { who: "agent", step: button.dataset.agentStep }))
  );
})();
