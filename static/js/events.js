/* Real-time events (SPEC §15): `liveroom.events(url, handlers)` opens an EventSource and calls
 * `handlers[kind](data)` for each event. Its `connected` says whether the stream is open: pages
 * skip their polling while it is, and poll again when it is not (no server, an error answer,
 * a proxy that cuts it). The browser reconnects by itself, resuming with Last-Event-ID. */
(function () {
  "use strict";

  function events(url, handlers) {
    const state = { connected: false, source: null, close() {} };
    if (!url || !window.EventSource) return state;
    const source = new EventSource(url);
    state.source = source;
    state.close = () => {
      source.close();
      state.connected = false;
    };
    source.onopen = () => {
      state.connected = true;
    };
    source.onerror = () => {
      state.connected = false;
    };
    for (const [kind, handle] of Object.entries(handlers)) {
      source.addEventListener(kind, (event) => {
        state.connected = true;
        handle(JSON.parse(event.data));
      });
    }
    return state;
  }

  window.liveroom.events = events;
})();
