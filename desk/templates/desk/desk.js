// The desk keeps itself current: it asks /desk/state every second and shows, hides and
// fills its parts in place. What the agent is typing, and a voicemail playing, are left
// alone. Ours, no library.
(function () {
  "use strict";
  const POLL_MS = 1000;
  const $ = (selector) => document.querySelector(selector);
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
    $("#wrap-up-left").textContent = clock(state.wrap_up_left || 0);

    syncList($("#callbacks"), state.callbacks);
    syncList($("#voicemails"), state.voicemails);
  }

  async function poll() {
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
    window.setTimeout(poll, POLL_MS);
  }

  window.setInterval(tick, 250);
  window.setTimeout(poll, POLL_MS);
})();
