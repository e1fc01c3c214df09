/* The live wall: refreshes its tiles every few seconds from the wall's data URL, patching them by
 * room id (new rooms appear, rooms gone from the page disappear, a new snapshot replaces the
 * picture), and bans a room with one click on its tile's Ban button. */
(function () {
  "use strict";
  const wall = document.getElementById("wall");
  const template = document.getElementById("tile-template");
  const banForm = document.getElementById("wall-ban-form");
  const empty = document.getElementById("wall-empty");
  const intervalMs = Math.max(500, parseFloat(wall.dataset.refreshSeconds || "5") * 1000);

  function field(tile, name) {
    return tile.querySelector(`[data-field="${name}"]`);
  }

  function setText(el, text) {
    if (el && el.textContent !== String(text)) el.textContent = String(text);
  }

  function badge(text, kind) {
    const span = document.createElement("span");
    span.className = `mod-badge badge-${kind}`;
    span.textContent = text;
    return span;
  }

  function badges(t) {
    const list = [];
    if (t.first_time) list.push(badge("First time", "first"));
    if (t.blocks) list.push(badge(`Block ×${t.blocks}`, "block"));
    if (t.reviews) list.push(badge(`Review ×${t.reviews}`, "review"));
    if (t.reports) list.push(badge(`${t.reports} report${t.reports === 1 ? "" : "s"}`, "report"));
    return list;
  }

  function fill(tile, t) {
    tile.dataset.roomId = String(t.id);
    tile.querySelector(".mod-tile-link").href = t.admin_url;
    tile.classList.toggle("risk-block", t.blocks > 0);
    tile.classList.toggle("risk-review", !t.blocks && (t.reviews > 0 || t.reports > 0));
    setText(field(tile, "title"), t.title);
    setText(field(tile, "streamer"), t.streamer);
    setText(field(tile, "viewers"), t.viewers);
    setText(field(tile, "initial"), (Array.from(t.title)[0] || "").toUpperCase());
    const img = field(tile, "picture");
    if ((img.getAttribute("src") || "") !== t.picture) img.setAttribute("src", t.picture);
    img.hidden = !t.picture;
    const box = field(tile, "badges");
    const wanted = badges(t);
    if (box.textContent !== wanted.map((b) => b.textContent).join("")) box.replaceChildren(...wanted);
    const ban = tile.querySelector(".mod-tile-ban");
    ban.dataset.banUrl = t.ban_url;
    ban.hidden = !t.ban_url;
  }

  function render(data) {
    const existing = new Map();
    wall.querySelectorAll(":scope > .mod-tile").forEach((tile) => existing.set(tile.dataset.roomId, tile));
    const wanted = new Set(data.tiles.map((t) => String(t.id)));
    existing.forEach((tile, id) => {
      if (!wanted.has(id)) tile.remove();
    });
    let cursor = wall.firstElementChild;
    for (const t of data.tiles) {
      const tile = existing.get(String(t.id)) || template.content.firstElementChild.cloneNode(true);
      fill(tile, t);
      if (tile === cursor) cursor = cursor.nextElementSibling;
      else wall.insertBefore(tile, cursor);
    }
    empty.hidden = data.tiles.length > 0;
    setText(document.getElementById("wall-count"), data.count);
    setText(document.getElementById("wall-pages"), data.pages);
  }

  async function refresh() {
    try {
      const response = await fetch(wall.dataset.dataUrl, { credentials: "same-origin", cache: "no-store" });
      if (response.ok) {
        render(await response.json());
        wall.dataset.refreshed = String(Number(wall.dataset.refreshed) + 1);
      }
    } catch (err) {
      // the server is away for a moment: keep the wall as it is until the next tick
    }
    setTimeout(refresh, intervalMs);
  }

  wall.addEventListener("click", (event) => {
    const button = event.target.closest(".mod-tile-ban");
    if (!button || !button.dataset.banUrl) return;
    banForm.action = button.dataset.banUrl;
    banForm.submit();
  });
  // a picture that fails to load shows the placeholder behind it
  wall.addEventListener("error", (event) => {
    if (event.target instanceof HTMLImageElement) event.target.hidden = true;
  }, true);

  setTimeout(refresh, intervalMs);
})();
