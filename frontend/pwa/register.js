// Registers Postbag's service worker and offers updates.
//
// This is a plain external script (not inline: the proxy's CSP allows only 'self' scripts and
// the hash of Trunk's loader). It does not depend on the wasm app, so the shell keeps working
// offline even if the app fails to start.
//
// Update flow: the browser re-fetches sw.js on navigation and when we call update(); a changed
// build installs beside the running one and waits. We then show a banner; "Reload to update"
// tells the waiting worker to take over, and the page reloads once it controls us. The new
// worker's activation deletes the old build's cache.
(() => {
  "use strict";
  if (!("serviceWorker" in navigator)) return;

  // How often an open tab asks for a new build besides navigations and tab focus.
  const UPDATE_CHECK_MS = 30 * 60 * 1000;

  let reloadRequested = false;

  function banner(id, text, actions) {
    document.getElementById(id)?.remove();
    const box = document.createElement("div");
    box.id = id;
    box.className = "pb-pwa-banner";
    box.setAttribute("role", "status");
    const message = document.createElement("span");
    message.className = "pb-pwa-banner-text";
    message.textContent = text;
    box.append(message);
    for (const [label, onClick, primary] of actions) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      if (primary) button.className = "pb-pwa-primary";
      button.addEventListener("click", () => onClick(box));
      box.append(button);
    }
    document.body.append(box);
    return box;
  }

  function offerUpdate(worker) {
    banner("pb-pwa-update", "A new version of Postbag is ready.", [
      [
        "Reload to update",
        (box) => {
          reloadRequested = true;
          box.querySelector(".pb-pwa-primary").disabled = true;
          worker.postMessage({ type: "SKIP_WAITING" });
        },
        true,
      ],
      ["Later", (box) => box.remove(), false],
    ]);
  }

  function watchInstalling(registration, worker) {
    if (!worker) return;
    worker.addEventListener("statechange", () => {
      // With no controller this is the first install: nothing to update from.
      if (worker.state === "installed" && navigator.serviceWorker.controller) {
        offerUpdate(worker);
      }
    });
  }

  // The worker's background check stored new mail: the app reads its list again
  // (app.rs listens for this event).
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data && event.data.type === "BACKGROUND_CHECKED") {
      window.dispatchEvent(new CustomEvent("postbag-background-checked", { detail: event.data }));
    }
  });

  navigator.serviceWorker.addEventListener("controllerchange", () => {
    // Only reload when the user asked for it; the first install's clients.claim() also fires
    // this event and must not reload a page the user is reading.
    if (reloadRequested) {
      reloadRequested = false;
      window.location.reload();
    }
  });

  async function register() {
    try {
      // updateViaCache "none": the byte-for-byte check of sw.js always goes to the server.
      // A module worker: it imports the app's wasm-bindgen module for the background check
      // (sw.js). A browser without module service workers refuses the type, and gets the same
      // worker without that import (sw-classic.js): the offline shell, no background check.
      const options = { scope: "./", updateViaCache: "none" };
      let registration;
      try {
        registration = await navigator.serviceWorker.register("sw.js", {
          ...options,
          type: "module",
        });
      } catch (error) {
        if (!(error instanceof TypeError)) throw error;
        registration = await navigator.serviceWorker.register("sw-classic.js", options);
      }
      if (registration.waiting && navigator.serviceWorker.controller) {
        offerUpdate(registration.waiting);
      }
      watchInstalling(registration, registration.installing);
      registration.addEventListener("updatefound", () =>
        watchInstalling(registration, registration.installing),
      );
      const check = () => registration.update().catch(() => {}); // offline: try again later
      setInterval(check, UPDATE_CHECK_MS);
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "visible") check();
      });
      window.postbagPwa = {
        // For the app and tests: ask the server for a new build now.
        checkForUpdate: check,
        // The build the controlling worker serves: { hash, cache, files }.
        build: () => askWorker(navigator.serviceWorker.controller, { type: "GET_BUILD" }),
      };
    } catch (error) {
      // Without a worker the app still runs online; say so in the console, not in the UI.
      console.warn("Postbag: service worker registration failed:", error && error.message);
    }
  }

  function askWorker(worker, message) {
    if (!worker) return Promise.resolve(null);
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = (event) => resolve(event.data);
      worker.postMessage(message, [channel.port2]);
    });
  }

  if (document.readyState === "complete") register();
  else window.addEventListener("load", register, { once: true });
})();
