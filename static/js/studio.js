/* The studio: open a room through POST /api/v1/rooms/, show and copy its push URL, follow its
 * status until it is live, close it. Session-authenticated API calls carry the CSRF token. */
(function () {
  "use strict";
  const { api, formatCount, setText, field } = window.liveroom;

  const root = document.getElementById("studio");
  const openPanel = root.querySelector("[data-open-panel]");
  const openForm = root.querySelector("[data-open-form]");
  const roomPanel = root.querySelector("[data-room-panel]");
  const notice = root.querySelector("[data-notice]");
  const closeButton = root.querySelector("[data-close]");
  const newPushButton = root.querySelector("[data-new-push-url]");
  const openAnotherButton = root.querySelector("[data-open-another]");
  const apiUrl = root.dataset.apiUrl;
  const intervalMs = Math.max(200, parseFloat(root.dataset.refreshSeconds || "5") * 1000);
  const OPEN = new Set(["created", "live", "interrupted"]);
  const LABELS = { created: "Waiting for stream", live: "Live", interrupted: "Reconnecting", closed: "Closed", banned: "Banned" };
  const HELP = {
    created: "Start pushing to the URL below from OBS, ffmpeg or the app. This page turns live by itself when the stream arrives.",
    live: "You are live. Viewers see your room on the live list.",
    interrupted: "Your stream stopped. Push again to the same URL within a minute to stay live.",
    banned: "A moderator banned this room.",
  };
  const REASONS = {
    owner: "you closed it",
    stream_ended: "the stream ended",
    zombie: "the stream vanished",
    expired: "no stream arrived in time",
    replaced: "you opened a new room",
  };

  // What to do about each problem of the stream's health (see GET /rooms/{id}/ `health`).
  const FIXES = {
    low_fps: "Fewer frames arrive than your encoder sends: lower the resolution or frame rate, close other programs using the CPU, or pick a faster encoder preset.",
    low_bitrate: "Your upload cannot keep up with the bitrate you set: lower the video bitrate (2,500 kbps suits 720p), or move closer to the router / use a cable.",
    push_exception: "The cloud saw errors in your stream (timestamps or frames out of order): restart the stream, and update OBS or your app if it happens again.",
  };
  const healthPanel = root.querySelector("[data-health]");

  function showHealth(room) {
    const health = room.health;
    healthPanel.hidden = room.status !== "live" || !health;
    if (healthPanel.hidden) return;
    const parts = [];
    if (health.fps != null) parts.push(`${Math.round(health.fps)} fps`);
    if (health.kbps != null) parts.push(health.kbps >= 1000 ? `${(health.kbps / 1000).toFixed(1)} Mbps` : `${health.kbps} kbps`);
    if (health.resolution) parts.push(health.resolution);
    const figures = parts.length ? parts.join(", ") : "no figures yet";
    healthPanel.dataset.degraded = health.degraded ? "true" : "false";
    setText(field(healthPanel, "health_line"), `Your stream: ${figures} — ${health.degraded ? "needs attention" : "good"}`);
    const fixes = field(healthPanel, "health_fixes");
    fixes.replaceChildren(
      ...health.problems.map((problem) => {
        const item = document.createElement("li");
        item.textContent = FIXES[problem] || problem;
        return item;
      }),
    );
  }

  let roomId = root.dataset.roomId;
  let pollTimer = null;

  function roomUrl(suffix = "") {
    return `${apiUrl}${roomId}/${suffix}`;
  }

  function showPushUrl(pushUrl, expiresAt) {
    const cut = pushUrl.lastIndexOf("/") + 1;
    field(roomPanel, "push_url").value = pushUrl;
    field(roomPanel, "push_server").value = pushUrl.slice(0, cut);
    field(roomPanel, "push_key").value = pushUrl.slice(cut);
    const expires = field(roomPanel, "push_expires");
    expires.dateTime = expiresAt;
    setText(expires, new Date(expiresAt).toLocaleString());
  }

  function showRoom(room) {
    const isOpen = OPEN.has(room.status);
    root.dataset.status = room.status;
    const pill = field(roomPanel, "status_label");
    pill.dataset.status = room.status;
    setText(pill, LABELS[room.status] || room.status);
    const reason = REASONS[room.close_reason];
    setText(field(roomPanel, "status_help"), HELP[room.status] || `This room is closed${reason ? `: ${reason}` : ""}.`);
    setText(field(roomPanel, "title"), room.title);
    setText(field(roomPanel, "viewer_count"), formatCount(room.viewer_count));
    setText(field(roomPanel, "like_count"), formatCount(room.like_count));
    field(roomPanel, "watch_link").href = `/rooms/${room.id}/`;
    if (room.push_url) showPushUrl(room.push_url, room.push_url_expires_at);
    showHealth(room);
    roomPanel.querySelector(".push").hidden = !isOpen;
    closeButton.hidden = newPushButton.hidden = !isOpen;
    openAnotherButton.hidden = isOpen;
    if (!isOpen) {
      clearTimeout(pollTimer);
      events.close();
    }
  }

  // The room's event stream: a status change shows at once (one fetch of the room) and counts are
  // pushed; the timer still polls, for the stream's health, which is not pushed.
  let events = { connected: false, close() {} };
  function follow() {
    events.close();
    events = window.liveroom.events(`${root.dataset.eventsUrl}/api/v1/rooms/${roomId}/events/`, {
      status() {
        poll();
      },
      counts(counts) {
        setText(field(roomPanel, "viewer_count"), formatCount(counts.viewer_count));
        setText(field(roomPanel, "like_count"), formatCount(counts.like_count));
      },
    });
  }

  async function poll() {
    clearTimeout(pollTimer);
    if (!roomId) return;
    try {
      const { ok, status, data } = await api(roomUrl());
      if (ok) showRoom(data);
      else if (status === 404) showRoom({ id: roomId, status: "closed", title: "", viewer_count: 0, like_count: 0 });
    } catch (err) {
      // a network blip: try again at the next tick
    }
    if (OPEN.has(root.dataset.status)) pollTimer = setTimeout(poll, intervalMs);
  }

  function showErrors(errors) {
    openForm.querySelectorAll("[data-error]").forEach((el) => {
      const messages = errors[el.dataset.error];
      el.textContent = messages ? [].concat(messages).join(" ") : "";
      el.hidden = el.dataset.error === "form" && !messages;
    });
  }

  openForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = openForm.querySelector('button[type="submit"]');
    const values = Object.fromEntries(new FormData(openForm));
    values.title = (values.title || "").trim();
    if (!values.title) return showErrors({ title: "Give your room a title." });
    button.disabled = true;
    try {
      const { ok, status, data } = await api(apiUrl, { method: "POST", body: values });
      if (ok) {
        showErrors({});
        openForm.reset();
        roomId = String(data.id);
        notice.hidden = true;
        showRoom(data);
        openPanel.hidden = true;
        roomPanel.hidden = false;
        follow();
        pollTimer = setTimeout(poll, intervalMs);
      } else if (status === 400 && data && data.fields) showErrors(data.fields);
      else if (status === 401 || (status === 403 && data && data.code === "not_authenticated")) window.location.reload();
      else showErrors({ form: (data && data.detail) || `The room could not be opened (HTTP ${status}).` });
    } catch (err) {
      showErrors({ form: "The server could not be reached. Try again." });
    } finally {
      button.disabled = false;
    }
  });

  // Closing asks once more on the button itself rather than in a modal dialog.
  let confirmTimer = null;
  closeButton.addEventListener("click", async () => {
    if (!closeButton.classList.contains("is-confirming")) {
      closeButton.classList.add("is-confirming");
      closeButton.textContent = "Click again to close";
      confirmTimer = setTimeout(resetCloseButton, 4000);
      return;
    }
    resetCloseButton();
    closeButton.disabled = true;
    const { ok } = await api(roomUrl(), { method: "DELETE" });
    closeButton.disabled = false;
    if (ok) await poll();
  });
  function resetCloseButton() {
    clearTimeout(confirmTimer);
    closeButton.classList.remove("is-confirming");
    closeButton.textContent = "Close room";
  }

  newPushButton.addEventListener("click", async () => {
    const { ok, data } = await api(roomUrl("push-url/"), { method: "POST" });
    if (ok) showRoom(data);
  });

  openAnotherButton.addEventListener("click", () => {
    roomPanel.hidden = true;
    openPanel.hidden = false;
    openForm.querySelector("input[name=title]").focus();
  });

  root.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const input = field(roomPanel, button.dataset.copy);
      try {
        await navigator.clipboard.writeText(input.value);
      } catch (err) {
        input.select();
        document.execCommand("copy"); // older browsers, or pages not served over https
      }
      const label = button.querySelector("span");
      setText(label, "Copied");
      button.classList.add("is-done");
      setTimeout(() => {
        setText(label, "Copy");
        button.classList.remove("is-done");
      }, 1500);
    });
  });

  const initial = JSON.parse(document.getElementById("studio-room").textContent);
  if (initial) {
    showRoom(initial);
    if (OPEN.has(initial.status)) follow();
    // a live room's stream health comes with the API's answer: ask for it at once
    pollTimer = setTimeout(poll, initial.status === "live" ? 0 : intervalMs);
  }
})();
