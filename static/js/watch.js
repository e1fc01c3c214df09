/* The watch page: plays the room's HLS stream, counts this viewer as watching (join, then a
 * heartbeat every heartbeat_interval while the page is visible, a leave beacon when it goes),
 * keeps counts fresh, batches likes, and turns into "the stream has ended" when the room leaves live. */
(function () {
  "use strict";
  const { api, formatCount, setText, field, duration } = window.liveroom;

  const root = document.getElementById("watch");
  const video = document.getElementById("video");
  const likeButton = root.querySelector("[data-like]");
  const apiUrl = root.dataset.apiUrl;
  const intervalMs = Math.max(200, parseFloat(root.dataset.refreshSeconds || "5") * 1000);
  const ENDED = new Set(["closed", "banned"]);
  const LIKE_BATCH_MAX = 50; // the most one POST .../like/ accepts
  const LIKE_DELAY_MS = 400;

  let hlsUrl = root.dataset.hlsUrl;
  let startedAt = root.dataset.startedAt;
  let hls = null;
  let retryTimer = null;
  let joined = false;
  let viewerToken = null;
  let heartbeatMs = 20000;
  let heartbeatTimer = null;

  // Likes: `likesKnown` is the server's count; clicks wait in `likesPending` until sent, then
  // sit in `likesInFlight` until the server answers. The count shown is all three together.
  let likesKnown = Number(field(root, "like_count").dataset.value || 0);
  let likesPending = 0;
  let likesInFlight = 0;
  let likeTimer = null;

  function setState(state) {
    if (root.dataset.state === state) return;
    root.dataset.state = state;
    if (state === "ended") {
      stopPlayer();
      clearTimeout(heartbeatTimer);
    }
  }

  function showLikes() {
    setText(field(root, "like_count"), formatCount(likesKnown + likesPending + likesInFlight));
  }

  function showRoom(room) {
    setText(field(root, "title"), room.title);
    setText(field(root, "viewer_count"), formatCount(room.viewer_count));
    if (likesInFlight === 0) likesKnown = Math.max(likesKnown, room.like_count);
    showLikes();
    startedAt = room.started_at || startedAt;
    if (room.play_urls && room.play_urls.hls) hlsUrl = room.play_urls.hls;
    if (ENDED.has(room.status)) setState("ended");
    else if (room.status === "interrupted") setState("interrupted");
    else if (room.status === "created") setState("waiting");
    else if (root.dataset.state !== "playing" && root.dataset.state !== "connecting") goLive();
  }

  function goLive() {
    setState("connecting");
    startPlayer();
    if (!joined) join();
    else if (viewerToken) heartbeat(); // back after an interruption: counted again
  }

  // ---- player ------------------------------------------------------------------------------
  function stopPlayer() {
    clearTimeout(retryTimer);
    if (hls) {
      hls.destroy();
      hls = null;
    }
    video.removeAttribute("src");
    video.load();
  }

  function retryPlayerSoon() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      if (root.dataset.state === "connecting") startPlayer();
    }, 3000);
  }

  function startPlayer() {
    if (!hlsUrl || ENDED.has(root.dataset.state)) return;
    stopPlayer();
    if (window.Hls && window.Hls.isSupported()) {
      hls = new window.Hls({ liveDurationInfinity: true, manifestLoadingMaxRetry: 2 });
      hls.on(window.Hls.Events.ERROR, (_event, data) => {
        if (data.fatal) {
          hls.destroy();
          hls = null;
          retryPlayerSoon();
        }
      });
      hls.loadSource(hlsUrl);
      hls.attachMedia(video);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = hlsUrl; // Safari plays HLS natively
    }
    video.play().catch(() => {}); // autoplay may be refused; the controls remain
  }

  video.addEventListener("playing", () => {
    if (root.dataset.state === "connecting") setState("playing");
  });
  video.addEventListener("error", () => {
    if (root.dataset.state === "playing") setState("connecting");
    retryPlayerSoon();
  });

  // ---- counts ------------------------------------------------------------------------------
  // Pushed while the room's event stream is open; polled when it is not.
  const events = window.liveroom.events(root.dataset.eventsUrl, {
    counts(counts) {
      setText(field(root, "viewer_count"), formatCount(counts.viewer_count));
      if (likesInFlight === 0) likesKnown = Math.max(likesKnown, counts.like_count);
      showLikes();
    },
    likes() {
      likeButton.classList.remove("is-popping");
      void likeButton.offsetWidth; // others' likes pop the heart too
      likeButton.classList.add("is-popping");
    },
    status({ status }) {
      if (ENDED.has(status)) {
        setState("ended");
        events.close();
      } else if (status === "interrupted") setState("interrupted");
      else if (status === "live" && root.dataset.state !== "playing" && root.dataset.state !== "connecting") goLive();
    },
  });

  async function poll() {
    if (events.connected) {
      setText(field(root, "duration"), startedAt ? duration(startedAt) : "–");
      if (root.dataset.state !== "ended") setTimeout(poll, intervalMs);
      return;
    }
    try {
      const { status, ok, data } = await api(apiUrl);
      if (ok) showRoom(data);
      else if (status === 404) await whyGone();
    } catch (err) {
      // offline for a moment: keep the page as it is and try again at the next tick
    }
    setText(field(root, "duration"), startedAt ? duration(startedAt) : "–");
    if (root.dataset.state !== "ended") setTimeout(poll, intervalMs);
  }

  // The API shows viewers live rooms only; this page's own endpoint tells a pause from the end.
  async function whyGone() {
    const { ok, status, data } = await api(root.dataset.stateUrl);
    if (status === 404 || (ok && data.state === "ended")) setState("ended");
    else if (ok && data.state === "interrupted") setState("interrupted");
  }

  // ---- watching: join, heartbeats while visible, a leave beacon on pagehide ----------------
  function watchingAnswer({ ok, status, data }) {
    if (ok) setText(field(root, "viewer_count"), formatCount(data.viewer_count));
    else if (status === 409 && data && data.code === "room_not_live") setState("interrupted");
    else if (status === 404 || status === 409) setState("ended");
  }

  async function join() {
    joined = true;
    const answer = await api(`${apiUrl}join/`, { method: "POST" });
    if (answer.ok) {
      viewerToken = answer.data.viewer_token;
      heartbeatMs = Math.max(1000, answer.data.heartbeat_interval * 1000);
      scheduleHeartbeat();
    } else {
      joined = false; // not counted: the next time the room is seen live, join again
    }
    watchingAnswer(answer);
  }

  function scheduleHeartbeat() {
    clearTimeout(heartbeatTimer);
    heartbeatTimer = null;
    if (viewerToken && document.visibilityState === "visible" && root.dataset.state !== "ended") {
      heartbeatTimer = setTimeout(heartbeat, heartbeatMs);
    }
  }

  async function heartbeat() {
    if (!viewerToken) return;
    try {
      watchingAnswer(await api(`${apiUrl}heartbeat/`, { method: "POST", body: { viewer_token: viewerToken } }));
    } catch (err) {
      // offline for a moment: the next heartbeat counts us again
    }
    scheduleHeartbeat();
  }

  // A hidden page stops heartbeating (the viewer drops out after VIEWER_TIMEOUT); shown again,
  // it says at once that it is watching.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && root.dataset.state !== "ended") heartbeat();
    else scheduleHeartbeat();
  });

  // Closing or leaving the page: a beacon survives the page, a fetch might not.
  window.addEventListener("pagehide", () => {
    clearTimeout(heartbeatTimer);
    if (!viewerToken || !navigator.sendBeacon) return;
    const body = new Blob([JSON.stringify({ viewer_token: viewerToken })], { type: "application/json" });
    navigator.sendBeacon(`${apiUrl}leave/`, body);
  });

  // Back from the back-forward cache: the leave was sent, so say we watch again.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted && viewerToken && root.dataset.state !== "ended") heartbeat();
  });

  // ---- likes -------------------------------------------------------------------------------
  async function sendLikes() {
    likeTimer = null;
    if (likesInFlight || !likesPending) return;
    likesInFlight = Math.min(likesPending, LIKE_BATCH_MAX);
    likesPending -= likesInFlight;
    try {
      const { ok, status, data } = await api(`${apiUrl}like/`, { method: "POST", body: { count: likesInFlight } });
      if (ok) likesKnown = Math.max(likesKnown, data.like_count);
      else if (status === 404 || status === 409) {
        likesPending = 0;
        if (data && data.code !== "room_not_live") setState("ended");
      }
    } catch (err) {
      likesPending += likesInFlight; // try these again with the next batch
    }
    likesInFlight = 0;
    showLikes();
    if (likesPending) likeTimer = setTimeout(sendLikes, LIKE_DELAY_MS);
  }

  likeButton.addEventListener("click", () => {
    if (root.dataset.state === "ended") return;
    likesPending += 1;
    showLikes();
    likeButton.classList.remove("is-popping");
    void likeButton.offsetWidth; // restart the animation
    likeButton.classList.add("is-popping");
    if (!likeTimer) likeTimer = setTimeout(sendLikes, likesPending >= LIKE_BATCH_MAX ? 0 : LIKE_DELAY_MS);
  });

  // ---- start -------------------------------------------------------------------------------
  if (root.dataset.state === "connecting") goLive();
  setText(field(root, "duration"), startedAt ? duration(startedAt) : "–");
  setTimeout(poll, intervalMs);
})();
