// Stand-in for an analytics tag. It runs only after consent for "analytics" (the widget turns the
// `type="text/plain"` script into a real one), sets a cookie and a storage key, and leaves a visible marker.
(() => {
  const runs = (Number(document.documentElement.dataset.analyticsRuns) || 0) + 1;
  document.documentElement.dataset.analyticsRuns = String(runs);
  // biome-ignore lint/suspicious/noDocumentCookie: a stand-in third-party tag sets its cookie the way real ones do
  document.cookie = `_demo_analytics=visitor-${Math.random().toString(36).slice(2, 10)}; path=/; max-age=31536000; SameSite=Lax`;
  try {
    localStorage.setItem('_demo_analytics_ls', String(Date.now()));
  } catch {
    // storage blocked by the browser: the stand-in tag carries on, as real ones do
  }
  const marker = document.getElementById('analytics-status');
  if (marker) {
    marker.textContent = marker.dataset.on || 'Analytics: on';
    marker.classList.add('on');
  }
})();
