// Front-channel logout (OIDC Front-Channel Logout 1.0): load each client's logout URL in a hidden
// iframe; once all have loaded, or after five seconds, go on to where the logout asked to go.
// The iframes are made here, listeners first, so no load event can be missed; a file, not inline
// script, so the page's Content-Security-Policy forbids inline code. Without script the page's
// <noscript> iframes load the same URLs and a link continues.
(function () {
  var target = document.body.getAttribute("data-redirect");
  var slots = document.querySelectorAll("[data-frontchannel-src]");
  var waiting = slots.length;
  var done = false;
  function finish() {
    if (done) return;
    done = true;
    document.body.setAttribute("data-frontchannel-done", String(slots.length - waiting));
    if (target) window.location.replace(target);
  }
  slots.forEach(function (slot) {
    var frame = document.createElement("iframe");
    frame.className = "frontchannel-logout";
    frame.title = "logout";
    frame.hidden = true;
    frame.addEventListener("load", function () {
      waiting -= 1;
      if (waiting <= 0) finish();
    });
    frame.src = slot.getAttribute("data-frontchannel-src");
    slot.appendChild(frame);
  });
  if (waiting === 0) finish();
  setTimeout(finish, 5000);
})();
