// Loaded into Locust's own index page by `rightsizer run --web`: while the "Tasks & alarms"
// tab is open (?tab=rightsizer), the live charts page (./rightsizer/) is shown under the tab's
// table, in a same-origin frame sized to its content. Locust's React app renders only tables in
// extension tabs; this adds the frame beside the table, outside React's own nodes, and removes it
// when another tab opens. Without it (no JavaScript, a future Locust) the table still works and
// "Download Data" links to the page.
"use strict";
(function () {
  const TAB = "rightsizer";
  const FRAME_ID = "rightsizer-charts";
  const CHECK_MS = 250;

  function openTab() {
    return new URLSearchParams(window.location.search).get("tab") === TAB;
  }

  function frame() {
    const made = document.createElement("iframe");
    made.id = FRAME_ID;
    made.title = "Tasks & alarms: live charts";
    made.src = "./rightsizer/?embed=1";
    made.style.cssText = "display:block;width:100%;height:720px;border:0;margin-top:16px;";
    return made;
  }

  function fit(shown) {
    const doc = shown.contentDocument;
    if (doc && doc.documentElement) {
      const height = doc.documentElement.scrollHeight;
      if (height > 0) shown.style.height = `${height + 8}px`;
    }
  }

  function check() {
    const shown = document.getElementById(FRAME_ID);
    if (!openTab()) {
      if (shown) shown.remove();
      return;
    }
    const table = document.querySelector("main .MuiTableContainer-root");
    const anchor = table || document.querySelector("main");
    if (!anchor) return;
    const placed = table ? shown && shown.previousElementSibling === table : shown;
    if (placed) {
      fit(shown);
      return;
    }
    if (shown) shown.remove();
    if (table) table.after(frame());
    else anchor.appendChild(frame());
  }

  window.setInterval(check, CHECK_MS);
  window.addEventListener("popstate", check);
})();
