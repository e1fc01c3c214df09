/* The live list: keeps the server-rendered cards fresh through GET /api/v1/rooms/.
 * Every refresh re-reads the pages already shown and patches the grid by room id: new rooms
 * appear, rooms that left the list disappear, and only text that changed is touched.
 * Pages are walked by the API's cursors (its `next` links), never by page number: a room going
 * live or ending while the reader scrolls shifts no card onto the next page, so "Load more"
 * shows none twice and skips none. */
(function () {
  "use strict";
  const { api, formatCount, setText, field, displayName, initial, hideBrokenImages, samePath } = window.liveroom;

  const grid = document.getElementById("room-grid");
  const template = document.getElementById("card-template");
  const emptyState = document.querySelector("[data-empty]");
  const moreButton = document.querySelector("[data-load-more]");
  const refreshButton = document.querySelector("[data-refresh]");
  const statusLine = document.querySelector("[data-refresh-status]");
  const liveCount = document.querySelector("[data-live-count]");
  const liveCountLabel = document.querySelector("[data-live-count-label]");
  const apiUrl = grid.dataset.apiUrl;
  const intervalMs = Math.max(200, parseFloat(grid.dataset.refreshSeconds || "10") * 1000);

  let nextUrl = grid.dataset.nextUrl || null;
  let pagesShown = 1;
  let timer = null;
  let queue = Promise.resolve();

  const MORE_TRIES = 5; // pages "Load more" reads at most when their rooms have all ended meanwhile

  function cards() {
    const byId = new Map();
    grid.querySelectorAll(":scope > .card").forEach((card) => byId.set(card.dataset.roomId, card));
    return byId;
  }

  function newCard(room) {
    const card = template.content.firstElementChild.cloneNode(true);
    card.dataset.roomId = String(room.id);
    card.querySelector(".card-link").href = `/rooms/${room.id}/`;
    card.querySelector(".cover").style.setProperty("--hue", String(room.id * 47));
    field(card, "owner_initial").style.setProperty("--hue", String(room.owner.id * 47));
    return card;
  }

  function fill(card, room) {
    const owner = displayName(room.owner);
    setText(field(card, "title"), room.title);
    setText(field(card, "initial"), initial(room.title));
    setText(field(card, "owner"), owner);
    setText(field(card, "owner_initial"), initial(owner));
    setText(field(card, "viewer_count"), formatCount(room.viewer_count));
    setText(field(card, "like_count"), formatCount(room.like_count));
    const img = card.querySelector("img.cover-img");
    const picture = room.cover_url || room.snapshot_url || ""; // no cover: the latest snapshot
    if ((img.getAttribute("src") || "") !== picture) {
      img.setAttribute("src", picture);
      img.hidden = !picture;
    }
  }

  function render(rooms, total) {
    const existing = cards();
    const wanted = new Set(rooms.map((room) => String(room.id)));
    existing.forEach((card, id) => {
      if (!wanted.has(id)) card.remove();
    });
    let cursor = grid.firstElementChild;
    for (const room of rooms) {
      const card = existing.get(String(room.id)) || newCard(room);
      fill(card, room);
      if (card === cursor) cursor = cursor.nextElementSibling;
      else grid.insertBefore(card, cursor);
    }
    emptyState.hidden = rooms.length > 0;
    moreButton.hidden = !nextUrl;
    setText(liveCount, String(total));
    setText(liveCountLabel, total === 1 ? "room" : "rooms");
  }

  // The first page, then as many `next` pages as are shown: one walk, so no room twice or missing.
  async function fetchShownPages() {
    const rooms = [];
    const seen = new Set();
    let total = 0;
    let next = null;
    let url = apiUrl;
    for (let page = 1; page <= pagesShown && url; page++) {
      const { ok, status, data } = await api(url);
      if (!ok) throw new Error(`HTTP ${status}`);
      if (page === 1) total = data.count;
      for (const room of data.results) {
        if (!seen.has(room.id)) {
          seen.add(room.id);
          rooms.push(room);
        }
      }
      next = data.next;
      url = samePath(next);
    }
    return { rooms, total, next };
  }

  function serial(task) {
    queue = queue.then(task, task);
    return queue;
  }

  function refresh() {
    return serial(async () => {
      grid.setAttribute("aria-busy", "true");
      try {
        const { rooms, total, next } = await fetchShownPages();
        nextUrl = samePath(next);
        render(rooms, total);
        statusLine.textContent = "";
        statusLine.classList.remove("is-error");
      } catch (err) {
        statusLine.textContent = "Could not refresh the list; trying again shortly.";
        statusLine.classList.add("is-error");
      } finally {
        grid.removeAttribute("aria-busy");
      }
    });
  }

  // The next page of the walk; a page whose rooms all ended meanwhile is passed over.
  async function appendNextPage() {
    for (let tries = 0; nextUrl && tries < MORE_TRIES; tries++) {
      const { ok, status, data } = await api(nextUrl);
      if (status === 400 && data && /^cursor_/.test(data.code)) return false; // walk again from the top
      if (!ok) return true;
      const shown = cards();
      let added = 0;
      for (const room of data.results) {
        if (shown.has(String(room.id))) continue;
        const card = newCard(room);
        fill(card, room);
        grid.appendChild(card);
        added += 1;
      }
      pagesShown += 1;
      nextUrl = samePath(data.next);
      if (added) break;
    }
    return true;
  }

  function loadMore() {
    moreButton.disabled = true; // at once: the request may wait for a refresh under way
    return serial(async () => {
      try {
        if (!nextUrl) return;
        if (!(await appendNextPage())) {
          // The cursor's snapshot expired (the page sat idle): re-read the shown pages, then go on.
          const { rooms, total, next } = await fetchShownPages();
          nextUrl = samePath(next);
          render(rooms, total);
          await appendNextPage();
        }
        moreButton.hidden = !nextUrl;
      } finally {
        moreButton.disabled = false;
      }
    });
  }

  // Pushed while the list's event stream is open (the timer then does not poll).
  function showTotal(change) {
    const total = Math.max(0, Number(liveCount.textContent || 0) + change);
    setText(liveCount, String(total));
    setText(liveCountLabel, total === 1 ? "room" : "rooms");
  }

  const events = window.liveroom.events(grid.dataset.eventsUrl, {
    "room.live"(room) {
      if (cards().has(String(room.id))) return;
      const card = newCard(room);
      fill(card, room);
      grid.insertBefore(card, grid.firstElementChild);
      emptyState.hidden = true;
      showTotal(+1);
    },
    "room.ended"({ id }) {
      const card = cards().get(String(id));
      if (card) card.remove();
      emptyState.hidden = grid.querySelector(":scope > .card") !== null;
      showTotal(-1);
    },
    "room.counts"({ id, viewer_count: viewers, like_count: likes }) {
      const card = cards().get(String(id));
      if (!card) return;
      setText(field(card, "viewer_count"), formatCount(viewers));
      setText(field(card, "like_count"), formatCount(likes));
    },
    reset() {
      refresh();
    },
  });

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (!document.hidden && !events.connected) await refresh();
      schedule();
    }, intervalMs);
  }

  refreshButton.addEventListener("click", async () => {
    refreshButton.classList.add("is-spinning");
    await refresh();
    refreshButton.classList.remove("is-spinning");
    schedule();
  });
  moreButton.addEventListener("click", loadMore);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) {
      refresh();
      schedule();
    }
  });

  hideBrokenImages(grid);
  schedule();
})();
