// The wallboard keeps itself current: every few seconds it asks for the board and puts
// the parts it gets in place. When an answer does not come, the board says since when it
// has not changed, and keeps asking; signed out, it goes to the sign-in page.
(function () {
  "use strict";
  const POLL_MS = {{ poll_ms }};
  const URL = "{{ url_for('wallboard.board') }}";
  const PARTS = ["queues", "agents", "today"];
  const stale = document.getElementById("stale");
  let updatedAt = new Date();

  function fresh(parts) {
    for (const part of PARTS) document.getElementById(part).innerHTML = parts[part];
    updatedAt = new Date();
    stale.hidden = true;
    document.body.classList.remove("stale");
  }

  function failed() {
    document.getElementById("stale-since").textContent = updatedAt.toLocaleTimeString();
    stale.hidden = false;
    document.body.classList.add("stale");
  }

  async function poll() {
    try {
      const answer = await fetch(URL, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (answer.status === 401) {
        window.location.assign("{{ url_for('admin_auth.login', next=request.path) }}");
        return;
      }
      if (answer.ok) fresh((await answer.json()).parts);
      else failed();
    } catch (error) {
      failed(); // the server is restarting, or the network blinked
    }
    window.setTimeout(poll, POLL_MS);
  }

  window.setTimeout(poll, POLL_MS);
})();
