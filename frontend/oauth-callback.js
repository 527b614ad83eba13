// The OAuth callback (oauth-callback.html): posts the provider's answer (state, and the code or
// the error code) on the BroadcastChannel the app's tab listens on, which only pages of this
// origin share, then takes the code out of the address bar and history and closes the window.
// The app checks `state` and exchanges the code; this page keeps nothing and logs nothing.
(() => {
  const query = new URLSearchParams(location.search);
  const answer = {
    state: query.get('state'),
    code: query.get('code'),
    error: query.get('error'),
  };
  history.replaceState(null, '', location.pathname);
  const channel = new BroadcastChannel('postbag-oauth');
  channel.postMessage(answer);
  channel.close();
  document.getElementById('said').textContent = answer.code
    ? 'Signed in. You can close this window.'
    : 'Sign-in did not finish. You can close this window.';
  window.close();
})();
