/** The dashboard page: static HTML + vanilla JS, no build step. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Stackyard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { --ok: #1a7f37; --fail: #cf222e; --run: #9a6700; --degraded: #bc4c00; --pending: #d0d7de; --fg: #1f2328; --muted: #656d76; }
  body { font: 14px/1.4 system-ui, sans-serif; color: var(--fg); margin: 0; background: #f6f8fa; }
  header { background: #24292f; color: #fff; padding: 12px 24px; display: flex; gap: 24px; align-items: center; }
  header h1 { font-size: 18px; margin: 0; }
  header select { font-size: 14px; }
  main { padding: 16px 24px; }
  .summary { display: flex; gap: 16px; margin-bottom: 12px; }
  .card { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 16px; min-width: 90px; }
  .card b { font-size: 22px; display: block; }
  table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #d0d7de; }
  th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
  th { background: #f6f8fa; font-weight: 600; }
  td:nth-child(1), td:nth-child(2), td:nth-child(5) { white-space: nowrap; }
  .state { font-weight: 600; }
  .state.ready { color: var(--ok); } .state.failed { color: var(--fail); } .state.in-progress { color: var(--run); }
  .state.aborting, .state.aborted { color: var(--muted); }
  .state.degraded { color: var(--degraded); }
  tr[data-state="degraded"] { background: #fff1e5; }
  .degraded { color: var(--degraded); font-size: 13px; font-weight: 400; }
  button.abort { margin-left: 6px; font: inherit; font-size: 12px; padding: 2px 8px; border: 1px solid #8c959f; color: var(--muted); background: #fff; border-radius: 4px; cursor: pointer; }
  .steps { display: flex; gap: 3px; }
  .step { width: 18px; height: 18px; border-radius: 3px; background: var(--pending); }
  .step.done { background: var(--ok); } .step.failed { background: var(--fail); }
  .failure { color: var(--fail); font-size: 13px; }
  .muted { color: var(--muted); }
  #conn { margin-left: auto; font-size: 12px; }
  #who { font-size: 12px; color: #d0d7de; } #who form { display: inline; } #who button { font: inherit; font-size: 12px; margin-left: 6px; }
  button.retry { margin-top: 4px; font: inherit; font-size: 12px; padding: 2px 10px; border: 1px solid var(--fail); color: var(--fail); background: #fff; border-radius: 4px; cursor: pointer; }
  button.retry:hover { background: #ffebe9; }
  .retries { font-size: 12px; }
</style>
</head>
<body>
<header><h1>Stackyard</h1><label>Site <select id="site"></select></label><span id="conn" class="muted">connecting...</span><span id="who"></span></header>
<main>
  <div class="summary">
    <div class="card"><span class="muted">nodes</span><b id="n-total">0</b></div>
    <div class="card"><span class="muted">ready</span><b id="n-ready" style="color:var(--ok)">0</b></div>
    <div class="card"><span class="muted">in progress</span><b id="n-run" style="color:var(--run)">0</b></div>
    <div class="card"><span class="muted">failed</span><b id="n-failed" style="color:var(--fail)">0</b></div>
    <div class="card"><span class="muted">degraded</span><b id="n-degraded" style="color:var(--degraded)">0</b></div>
  </div>
  <table>
    <thead><tr><th>Host</th><th>Groups</th><th>State</th><th>Pipeline <span class="muted">(registered, enrolled, inspected, provisioned, network, services, ready)</span></th><th>Last step</th></tr></thead>
    <tbody id="nodes"><tr><td colspan="5" class="muted">No nodes yet.</td></tr></tbody>
  </table>
</main>
<script>
const nodes = new Map();
let source;
let canOperate = true;
// With API tokens on, an expired or missing login sends the browser to the login form.
const toLogin = () => { location.href = '/login?next=' + encodeURIComponent(location.pathname + location.search); };
async function api(path, init) {
  const r = await fetch(path, init);
  if (r.status === 401) { toLogin(); throw new Error('not signed in'); }
  return r;
}
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
function render() {
  const rows = [...nodes.values()].sort((a, b) => a.name.localeCompare(b.name));
  document.getElementById('n-total').textContent = rows.length;
  document.getElementById('n-ready').textContent = rows.filter((n) => n.state === 'ready').length;
  document.getElementById('n-run').textContent = rows.filter((n) => n.state === 'in-progress').length;
  document.getElementById('n-failed').textContent = rows.filter((n) => n.state === 'failed').length;
  document.getElementById('n-degraded').textContent = rows.filter((n) => n.state === 'degraded').length;
  const body = document.getElementById('nodes');
  if (!rows.length) { body.innerHTML = '<tr><td colspan="5" class="muted">No nodes yet.</td></tr>'; return; }
  body.innerHTML = rows.map((n) => {
    const done = n.steps.filter((s) => s.state === 'done');
    const last = done[done.length - 1];
    const steps = n.steps.map((s) => '<span class="step ' + s.state + '" title="' + esc(s.name) + (s.at ? ' ' + new Date(s.at).toLocaleTimeString() : '') + '"></span>').join('');
    const failure = n.failure ? '<div class="failure">' + esc(n.failure.step) + ': ' + esc(n.failure.reason) + ': ' + esc(n.failure.message) + (n.failure.retryable ? ' (retryable)' : '') + '</div>' + (canOperate ? '<button class="retry" data-retry="' + esc(n.hostId) + '">Retry ' + esc(n.failure.step) + '</button>' : '') : '';
    const degraded = n.degraded ? '<div class="degraded" title="' + esc(n.degraded.reasons.join('; ')) + '">unhealthy: ' + esc(n.degraded.containers.join(', ') || 'containers') + (n.degraded.since ? ' <span class="muted">since ' + new Date(n.degraded.since).toLocaleTimeString() + '</span>' : '') + '</div>' : '';
    const abort = canOperate && (n.state === 'in-progress' || n.state === 'failed') ? '<button class="abort" data-abort="' + esc(n.hostId) + '" title="remove services, release addresses, deprovision">Abort</button>' : '';
    const retries = n.retries ? ' <span class="muted retries">(' + n.retries + (n.retries === 1 ? ' retry' : ' retries') + ')</span>' : '';
    return '<tr data-host="' + esc(n.hostId) + '" data-state="' + n.state + '"><td>' + esc(n.name) + '</td><td>' + esc(n.groups.join(', ')) + '</td><td class="state ' + n.state + '">' + n.state + retries + abort + failure + degraded + '</td><td><div class="steps">' + steps + '</div></td><td>' + (last ? esc(last.name) + ' <span class="muted">' + new Date(last.at).toLocaleTimeString() + '</span>' : '') + '</td></tr>';
  }).join('');
}
function follow(site) {
  if (source) source.close();
  nodes.clear(); render();
  source = new EventSource('/api/stream?site=' + encodeURIComponent(site));
  source.onopen = () => { document.getElementById('conn').textContent = 'live'; };
  source.onerror = () => { document.getElementById('conn').textContent = 'reconnecting...'; api('/api/whoami').catch(() => {}); };
  source.onmessage = (e) => { const n = JSON.parse(e.data); nodes.set(n.hostId, n); render(); };
}
async function sites() {
  const r = await api('/api/sites').then((x) => x.json());
  const sel = document.getElementById('site');
  const current = sel.value || new URLSearchParams(location.search).get('site');
  sel.innerHTML = r.sites.map((s) => '<option value="' + esc(s.id) + '">' + esc(s.id) + ' (' + s.nodes + ')</option>').join('');
  if (current && r.sites.some((s) => s.id === current)) sel.value = current;
  if (sel.value && sel.value !== sel.dataset.following) { sel.dataset.following = sel.value; follow(sel.value); }
}
document.getElementById('nodes').addEventListener('click', async (e) => {
  const id = e.target.dataset && (e.target.dataset.retry || e.target.dataset.abort);
  if (!id) return;
  const verb = e.target.dataset.retry ? 'retry' : 'abort';
  if (verb === 'abort' && !confirm('Abort ' + id + '? Its services are removed, its addresses released and it is deprovisioned.')) return;
  e.target.disabled = true; e.target.textContent = verb === 'retry' ? 'Retrying...' : 'Aborting...';
  const r = await api('/api/nodes/' + encodeURIComponent(id) + '/' + verb, { method: 'POST', headers: { 'x-stackyard-csrf': '1' } });
  const body = await r.json();
  if (r.ok) { nodes.set(body.hostId, body); render(); } else { alert(body.error); e.target.disabled = false; }
});
document.getElementById('site').addEventListener('change', (e) => { e.target.dataset.following = e.target.value; follow(e.target.value); });
async function whoami() {
  const w = await api('/api/whoami').then((x) => x.json());
  if (!w.auth) return;
  canOperate = w.role !== 'viewer';
  document.getElementById('who').innerHTML = esc(w.name) + ' (' + esc(w.role) + (w.sites.includes('*') ? '' : ', ' + esc(w.sites.join(', '))) + ')<form method="post" action="/logout"><button id="logout">Log out</button></form>';
  render();
}
whoami().then(sites).catch(() => {}); setInterval(() => sites().catch(() => {}), 3000);
</script>
</body>
</html>
`;
