/**
 * The dashboard's one HTML page and its style sheet. The page is a shell: the modules under
 * /app/ (compiled from src/ui/client/) render everything, as text. Nothing here comes from tasks.
 */

/** The Content-Security-Policy of every response: only this origin's scripts, styles and connections; no inline script. */
export const contentSecurityPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The page, carrying the key its POSTs send in the token header (see `pageKey`). */
export function pageShell(pageKey: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="legate-page-key" content="${pageKey}">
<title>legate</title>
<link rel="stylesheet" href="/app/style.css">
<script type="module" src="/app/main.js"></script>
</head>
<body>
<header><span class="brand">legate</span>
<nav><a href="#/tasks">Tasks</a><a href="#/sessions">Sessions</a><a href="#/workers">Workers</a></nav>
<span id="live" class="live">connecting…</span></header>
<main id="view"></main>
</body>
</html>
`;
}

export const styleSheet = `
:root { --fg: #1d2228; --muted: #66707a; --line: #dde2e7; --bg: #f7f8fa; --accent: #2f5fd0; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 24px; align-items: center; padding: 10px 20px; background: #fff; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; letter-spacing: .5px; }
nav a { margin-right: 16px; color: var(--accent); text-decoration: none; }
.live { margin-left: auto; color: var(--muted); font-size: 12px; }
.live.on { color: #1b8a3a; }
main { padding: 16px 20px; }
h1 { font-size: 18px; margin: 4px 0 12px; }
h2 { font-size: 15px; margin: 20px 0 8px; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; white-space: nowrap; }
td.goal { white-space: normal; max-width: 420px; }
th { font-size: 12px; color: var(--muted); font-weight: 600; background: #fbfcfd; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.row:hover { background: #f1f5ff; cursor: pointer; }
.status { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 12px; background: #eceff3; }
.status.running { background: #dceaff; } .status.completed { background: #dcf5e3; } .status.failed { background: #fde2e1; }
.status.cancelled { background: #f1e7d6; } .status.interrupted { background: #fff1c2; } .status.input_required { background: #f5d9ff; }
.status.dead { background: #fde2e1; } .status.alive { background: #dcf5e3; }
.filters { display: flex; gap: 10px; margin-bottom: 10px; align-items: center; flex-wrap: wrap; }
input, select, textarea, button { font: inherit; }
input, select, textarea { padding: 4px 6px; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
button { padding: 4px 12px; border: 1px solid var(--accent); border-radius: 4px; background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button:disabled { opacity: .5; cursor: default; }
.pager { display: flex; gap: 10px; align-items: center; margin-top: 8px; color: var(--muted); }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; background: #fff; border: 1px solid var(--line); padding: 10px; }
.facts dt { color: var(--muted); } .facts dd { margin: 0; white-space: pre-wrap; word-break: break-word; }
pre, .text { white-space: pre-wrap; word-break: break-word; font: 12.5px/1.45 ui-monospace, monospace; margin: 0; }
pre.trail { background: #14181d; color: #dfe6ee; padding: 10px; max-height: 360px; overflow: auto; border-radius: 4px; }
.entry { background: #fff; border: 1px solid var(--line); border-radius: 4px; padding: 6px 10px; margin-bottom: 6px; }
.entry .who { font-size: 12px; color: var(--muted); margin-bottom: 2px; }
.entry.tool_call { border-left: 3px solid #8a6ad8; } .entry.tool_result { border-left: 3px solid #3aa676; } .entry.error { border-left-color: #d0453a; }
.actions { display: flex; gap: 8px; align-items: flex-start; margin: 10px 0; flex-wrap: wrap; }
.actions textarea { width: 420px; height: 34px; }
.notice { margin: 8px 0; padding: 6px 10px; border-radius: 4px; }
.notice.ok { background: #dcf5e3; } .notice.bad { background: #fde2e1; }
.approval { background: #fbf0ff; border: 1px solid #d9a8f0; padding: 10px; border-radius: 4px; }
.summary { background: #fff; border: 1px solid var(--line); padding: 10px; }
.error { color: #a2261d; }
.muted { color: var(--muted); }
ul.steers { list-style: none; padding: 0; margin: 0; } ul.steers li { padding: 3px 0; }
`;
