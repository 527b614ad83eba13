// Durable storage for Postbag's offline mailbox: persistence, quota checks, a settings panel.
//
// The wasm app calls these through `window.postbagStorage` (see frontend/src/pwa.rs for the
// Rust binding), and places `<postbag-storage></postbag-storage>` in its settings view.
//
//   postbagStorage.estimate()        -> Promise<{ usage, quota, available, persisted }>
//   postbagStorage.requestPersistence() -> Promise<boolean>   (asks once, shows the answer)
//   postbagStorage.ensureRoom(bytes) -> Promise<{ ok, needed, available, usage, quota, persisted }>
//
// ensureRoom is meant to be called by the sync engine before it downloads a batch of mail:
// the first call asks the browser to make storage durable, and a batch that would not fit
// gets a warning banner and `ok: false` instead of a sync that fails half way through.
(() => {
  "use strict";

  // IndexedDB stores more than the raw message bytes (keys, indexes, parsed headers): reserve
  // this factor per downloaded byte, plus a fixed margin so the app itself keeps working.
  const OVERHEAD = 1.25;
  const MARGIN_BYTES = 5 * 1024 * 1024;
  const ASKED_KEY = "postbag.persistence-asked";
  const CHANGED = "postbag-storage-changed";
  const NOTICE_MS = 15000;

  const storage = navigator.storage;

  async function estimate() {
    if (!storage || !storage.estimate) {
      return { usage: null, quota: null, available: null, persisted: false };
    }
    const [{ usage = 0, quota = 0 }, persisted] = await Promise.all([
      storage.estimate(),
      storage.persisted ? storage.persisted() : Promise.resolve(false),
    ]);
    return { usage, quota, available: Math.max(0, quota - usage), persisted };
  }

  async function requestPersistence() {
    if (!storage || !storage.persist) return false;
    if (await storage.persisted()) return true;
    const granted = await storage.persist();
    try {
      localStorage.setItem(ASKED_KEY, granted ? "granted" : "denied");
    } catch (_) {
      // Private modes may refuse localStorage; asking again next time is harmless.
    }
    notice(
      granted
        ? "Stored mail is now durable: the browser will not clear it to save space."
        : "The browser may clear stored mail when space runs low. Installing Postbag usually makes storage durable.",
      "info",
    );
    window.dispatchEvent(new CustomEvent(CHANGED));
    return granted;
  }

  function alreadyAsked() {
    try {
      return localStorage.getItem(ASKED_KEY) !== null;
    } catch (_) {
      return false;
    }
  }

  async function ensureRoom(bytes) {
    if (!alreadyAsked()) await requestPersistence();
    const state = await estimate();
    const needed = Math.ceil(Math.max(0, Number(bytes) || 0) * OVERHEAD) + MARGIN_BYTES;
    // Without the Storage API we cannot know; let the sync try rather than block it.
    const ok = state.quota === null || needed <= state.available;
    if (!ok) {
      notice(
        `Not enough storage for ${formatBytes(bytes)} of new mail: ${formatBytes(state.available)} ` +
          "free. Delete old messages or free space on this device, then sync again.",
        "warn",
      );
    }
    return { ok, needed, ...state };
  }

  function formatBytes(n) {
    if (n === null || n === undefined) return "unknown";
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    let v = n;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return `${v < 10 && i > 0 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
  }

  function notice(text, kind) {
    const id = "pb-pwa-storage-notice";
    document.getElementById(id)?.remove();
    const box = document.createElement("div");
    box.id = id;
    box.className = `pb-pwa-banner pb-pwa-${kind}`;
    box.setAttribute("role", kind === "warn" ? "alert" : "status");
    const message = document.createElement("span");
    message.className = "pb-pwa-banner-text";
    message.textContent = text;
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = "OK";
    const dismiss = () => {
      box.remove();
      if (!document.getElementById(id)) document.body.classList.remove("pb-has-notice");
    };
    close.addEventListener("click", dismiss);
    box.append(message, close);
    document.body.append(box);
    document.body.classList.add("pb-has-notice");
    // Information goes away by itself so it never sits over the mailbox; warnings stay.
    if (kind !== "warn") setTimeout(dismiss, NOTICE_MS);
  }

  // <postbag-storage>: "12 MB used, 1.2 GB free, durable: yes", with a button to ask for
  // durability. Light DOM (no shadow root) so pwa.css styles it like the rest of the app.
  class PostbagStorage extends HTMLElement {
    connectedCallback() {
      this.refresh = () => this.render();
      window.addEventListener(CHANGED, this.refresh);
      this.render();
    }
    disconnectedCallback() {
      window.removeEventListener(CHANGED, this.refresh);
    }
    async render() {
      const s = await estimate();
      const rows = [
        ["Used", formatBytes(s.usage)],
        ["Available", formatBytes(s.available)],
        ["Durable", s.persisted ? "yes" : "no"],
      ];
      const list = document.createElement("dl");
      list.className = "pb-storage-figures";
      for (const [term, value] of rows) {
        const dt = document.createElement("dt");
        dt.textContent = term;
        const dd = document.createElement("dd");
        dd.textContent = value;
        list.append(dt, dd);
      }
      const meter = document.createElement("meter");
      meter.className = "pb-storage-meter";
      meter.min = 0;
      meter.max = s.quota || 1;
      meter.value = s.usage || 0;
      meter.high = (s.quota || 1) * 0.8;
      meter.textContent = `${formatBytes(s.usage)} of ${formatBytes(s.quota)}`;
      const heading = document.createElement("h3");
      heading.textContent = "Storage on this device";
      this.replaceChildren(heading, meter, list);
      if (!s.persisted && storage && storage.persist) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = "Keep mail durable";
        button.addEventListener("click", () => requestPersistence());
        this.append(button);
      }
    }
  }
  if (window.customElements && !customElements.get("postbag-storage")) {
    customElements.define("postbag-storage", PostbagStorage);
  }

  // The first sync is when durability starts to matter. Until the sync engine calls
  // ensureRoom itself, recognise that moment by the mailbox's sync progress indicator
  // (`.sync.running`, see frontend/src/views/mailbox.rs) and ask then.
  function askAtFirstSync() {
    if (alreadyAsked() || !storage || !storage.persist) return;
    const observer = new MutationObserver(() => {
      if (document.querySelector(".sync.running")) {
        observer.disconnect();
        if (!alreadyAsked()) requestPersistence();
      }
    });
    observer.observe(document.body, { childList: true, subtree: true });
  }
  // Settings show the storage panel. The settings view may place <postbag-storage> itself;
  // until it does, add one after the settings form (`main.setup`, a view the app replaces
  // wholesale, so the panel goes away with it).
  function panelInSettings() {
    const place = () => {
      const settings = document.querySelector("main.setup");
      if (settings && !settings.querySelector("postbag-storage")) {
        const panel = document.createElement("postbag-storage");
        panel.className = "card pb-settings-storage";
        settings.append(panel);
      }
    };
    new MutationObserver(place).observe(document.body, { childList: true, subtree: true });
    place();
  }

  function start() {
    askAtFirstSync();
    panelInSettings();
  }
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start, { once: true });

  window.postbagStorage = { estimate, requestPersistence, ensureRoom, formatBytes };
})();
