// The desk keeps itself current: it asks /desk/state every second and shows, hides and
// fills its parts in place. What the agent is typing, and a voicemail playing, are left
// alone. When /desk/token gives a token, calls ring in this browser too (Twilio's Voice
// JavaScript SDK, vendored); the forms are then posted by script, since a reload would
// end the call. Ours; the SDK is the only library.
(function () {
  "use strict";
  const POLL_MS = 1000;
  const EXPECT_MS = 30000; // a call asked for on the desk (a callback) is answered at once
  const $ = (selector) => document.querySelector(selector);
  const csrf = $('meta[name="csrf-token"]').content;
  const voice = { device: null, call: null, expectUntil: 0 };
  let pollTimer = null;
  let lastLeg = null;
  let wrapping = !$("#wrap-up").hidden;
  let secondsAtPoll = Number($("#status-since").dataset.seconds || 0);
  let polledAt = Date.now();

  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = String(seconds % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
  }

  function tick() {
    const elapsed = (Date.now() - polledAt) / 1000;
    $("#status-since").textContent = clock(secondsAtPoll + elapsed);
  }

  // Items keyed by data-id: new ones added from the server's HTML, gone ones removed,
  // the others untouched (an <audio> keeps playing).
  function syncList(list, items) {
    const wanted = new Map(items.map((item) => [String(item.id), item.html]));
    for (const li of Array.from(list.children)) {
      if (!wanted.has(li.dataset.id)) li.remove();
    }
    let previous = null;
    for (const [id, html] of wanted) {
      let li = list.querySelector(`:scope > li[data-id="${id}"]`);
      if (!li) {
        const holder = document.createElement("ul");
        holder.innerHTML = html;
        li = holder.firstElementChild;
      }
      const next = previous ? previous.nextElementSibling : list.firstElementChild;
      if (li !== next) list.insertBefore(li, next);
      previous = li;
    }
  }

  function show(state) {
    $("#agent-name").textContent = state.agent.name;
    const status = $("#status");
    status.dataset.status = state.status;
    status.textContent = state.status_label;
    secondsAtPoll = state.status_seconds;
    polledAt = Date.now();
    tick();

    const pop = $("#pop");
    if (state.pop) {
      if (pop.dataset.call !== String(state.pop.call) || $("#pop-who").innerHTML !== state.pop.who) {
        $("#pop-who").innerHTML = state.pop.who;
        $("#pop-why").innerHTML = state.pop.why;
      }
      pop.dataset.call = String(state.pop.call);
      for (const input of pop.querySelectorAll("input[name=call]")) input.value = state.pop.call;
      pop.hidden = false;
    } else {
      pop.hidden = true;
      delete pop.dataset.call;
    }
    const offered = Boolean(state.pop && state.pop.offered);
    $("#accept").hidden = !offered;
    $("#pass").hidden = !offered;

    if (state.leg !== lastLeg) {
      $("#notes").value = state.notes || "";
      lastLeg = state.leg;
    }
    $("#on-call").hidden = !state.on_call;

    const wrapUp = $("#wrap-up");
    if (state.wrap_up && !wrapping) {
      $("#wrap-up-form").reset();
      $("#wrap-up-form textarea[name=notes]").value = state.notes || "";
    }
    wrapping = state.wrap_up;
    wrapUp.hidden = !state.wrap_up;
    // Past the phone's wrap-up (the agent hung up, or is ready) the form stays until the
    // call has its disposition, without a limit to show.
    $("#wrap-up-limit").hidden = state.wrap_up_left === null;
    $("#wrap-up-left").textContent = clock(state.wrap_up_left || 0);

    syncList($("#callbacks"), state.callbacks);
    syncList($("#voicemails"), state.voicemails);
  }

  async function poll() {
    window.clearTimeout(pollTimer);
    try {
      const answer = await fetch("/desk/state", {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (answer.status === 401) {
        window.location.assign("/desk/login");
        return;
      }
      if (answer.ok) show(await answer.json());
    } catch (error) {
      // The server is restarting or the network blinked: the next poll tries again.
    }
    pollTimer = window.setTimeout(poll, POLL_MS);
  }

  // --- calls in the browser ---------------------------------------------------------

  async function voiceToken() {
    const answer = await fetch("/desk/token", { credentials: "same-origin" });
    return answer.ok ? (await answer.json()).token : null;
  }

  function showVoice(text) {
    const call = voice.call;
    const status = call ? call.status() : "none";
    if (text) $("#voice-state").textContent = text;
    else if (status === "pending") $("#voice-state").textContent = "A call rings here.";
    else if (status === "open") $("#voice-state").textContent = "On a call in this browser.";
    else $("#voice-state").textContent = "Ready: calls ring in this browser.";
    $("#voice-answer").hidden = status !== "pending";
    $("#voice-hang-up").hidden = status !== "open" && status !== "pending";
    for (const key of document.querySelectorAll(".voice-key")) key.hidden = status !== "open";
  }

  function loadSdk() {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "/desk/voice-sdk.js";
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  async function startVoice() {
    const token = await voiceToken();
    if (!token) return; // no API key: the agent's phone carries the calls
    $("#voice").hidden = false;
    await loadSdk();
    const device = new window.Twilio.Device(token, { closeProtection: true });
    device.on("error", (error) => showVoice(`Browser calls: ${error.message}`));
    device.on("tokenWillExpire", async () => {
      const next = await voiceToken();
      if (next) device.updateToken(next);
    });
    device.on("incoming", (call) => {
      voice.call = call;
      const gone = () => {
        voice.call = null;
        showVoice();
      };
      for (const event of ["disconnect", "cancel", "reject"]) call.on(event, gone);
      call.on("accept", () => showVoice());
      if (Date.now() < voice.expectUntil) call.accept();
      showVoice();
    });
    await device.register();
    voice.device = device;
    showVoice();
  }

  $("#voice-answer").addEventListener("click", () => voice.call && voice.call.accept());
  $("#voice-hang-up").addEventListener("click", () => voice.call && voice.call.disconnect());
  for (const key of document.querySelectorAll(".voice-key")) {
    key.addEventListener("click", () => voice.call && voice.call.sendDigits(key.dataset.key));
  }

  // While calls ring in the browser, forms post by script: a reload would end the call.
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!voice.device || form.id === "logout") return;
    event.preventDefault();
    const call = voice.call;
    const onOffer = form.contains($("#accept")) || form.contains($("#pass"));
    if (onOffer && call && call.status() === "pending") call.accept();
    if (form.querySelector(".call-back, .accept-callback")) voice.expectUntil = Date.now() + EXPECT_MS;
    const answer = await fetch(form.action, {
      method: "POST",
      body: new FormData(form, event.submitter),
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
      credentials: "same-origin",
    });
    const result = answer.ok ? await answer.json() : { message: `Refused (${answer.status}).` };
    const messages = $("#messages");
    messages.replaceChildren();
    if (result.message) {
      const item = document.createElement("li");
      item.textContent = result.message;
      messages.appendChild(item);
    }
    poll();
  });

  window.setInterval(tick, 250);
  pollTimer = window.setTimeout(poll, POLL_MS);
  startVoice().catch((error) => showVoice(`Browser calls unavailable: ${error.message || error}`));
})();
