/* Shared helpers of liveroom's pages: API calls, number formatting, text updates. */
(function () {
  "use strict";

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  /* The last answer with an ETag per URL: a poll sends If-None-Match, and a 304 reuses it. */
  const validated = new Map();
  const MAX_VALIDATED = 50;

  /* fetch() against our API; resolves to {status, ok, data} and never throws on HTTP errors.
     A GET revalidates what it got before: on 304 the previous data comes back (status 200). */
  async function api(url, { method = "GET", body } = {}) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const previous = method === "GET" ? validated.get(url) : undefined;
    if (previous) headers["If-None-Match"] = previous.etag;
    const response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 304 && previous) return { status: 200, ok: true, data: previous.data, notModified: true };
    let data = null;
    if (response.status !== 204) {
      try {
        data = await response.json();
      } catch (err) {
        data = null;
      }
    }
    const etag = response.headers.get("ETag");
    if (method === "GET") {
      validated.delete(url);
      if (response.ok && etag) {
        validated.set(url, { etag, data });
        if (validated.size > MAX_VALIDATED) validated.delete(validated.keys().next().value);
      }
    }
    return { status: response.status, ok: response.ok, data };
  }

  /* 1234 → "1.2K": the same format as the `compact` template filter. */
  function formatCount(value) {
    const n = Math.max(0, Math.floor(Number(value) || 0));
    const steps = [
      [1e9, "B"],
      [1e6, "M"],
      [1e3, "K"],
    ];
    for (const [limit, suffix] of steps) {
      if (n >= limit) {
        const text = n < limit * 100 ? (n / limit).toFixed(1).replace(/\.0$/, "") : String(Math.floor(n / limit));
        return text + suffix;
      }
    }
    return String(n);
  }

  /* Set an element's text only when it differs, so unchanged parts of the page are left alone. */
  function setText(el, text) {
    if (el && el.textContent !== String(text)) el.textContent = text;
  }

  function field(root, name) {
    return root.querySelector(`[data-field="${name}"]`);
  }

  function displayName(owner) {
    return (owner && (owner.nickname || owner.username)) || "";
  }

  function initial(text) {
    return (Array.from(text || "")[0] || "").toUpperCase();
  }

  /* "3 min", "1 h 05 min" since an ISO time. */
  function duration(since) {
    if (!since) return "–";
    const minutes = Math.max(0, Math.floor((Date.now() - new Date(since).getTime()) / 60000));
    if (minutes < 60) return `${minutes} min`;
    return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
  }

  /* Broken cover images fall back to the placeholder behind them. */
  function hideBrokenImages(root) {
    root.querySelectorAll("img.cover-img").forEach((img) => {
      if (img.complete && img.getAttribute("src") && img.naturalWidth === 0) img.hidden = true;
    });
  }
  document.addEventListener(
    "error",
    (event) => {
      if (event.target instanceof HTMLImageElement && event.target.classList.contains("cover-img")) {
        event.target.hidden = true;
      }
    },
    true,
  );

  /* A path-and-query form of a URL the API returned, so it is fetched from this page's origin. */
  function samePath(url) {
    if (!url) return null;
    const u = new URL(url, window.location.href);
    return u.pathname + u.search;
  }

  window.liveroom = { api, formatCount, setText, field, displayName, initial, duration, hideBrokenImages, samePath };
})();
