// Shows the current consent state, live. Uses the pre-load queue, so it works whatever the script order.
window.assenso = window.assenso || [];
window.assenso.push((api) => {
  const out = document.getElementById('state');
  const show = () => {
    const s = api.get();
    out.textContent = JSON.stringify(
      {
        categories: s.categories,
        services: s.services,
        pending: s.pending,
        method: s.decision?.method ?? null,
      },
      null,
      2,
    );
  };
  show();
  api.on('change', show);
});
