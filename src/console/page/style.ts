// The page's style sheet.

export const PAGE_CSS = `
:root { --fg: #1d2430; --muted: #5b6577; --line: #d9dee7; --blocked: #c62828; --alert: #ef8f00; --ok: #2e7d32; font-family: system-ui, sans-serif; color: var(--fg); }
body { margin: 0; }
header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1rem; border-bottom: 1px solid var(--line); background: #f6f8fb; }
header nav { display: flex; gap: .3rem; }
header nav button.active { background: var(--fg); color: #fff; }
#who { margin-left: auto; color: var(--muted); }
main { padding: 1rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
tr.clickable { cursor: pointer; }
tr.clickable:hover { background: #f0f4fa; }
.verdict-blocked, .protection-failopen, .protection-offline { color: var(--blocked); font-weight: 600; }
.verdict-alert, .protection-audit { color: var(--alert); font-weight: 600; }
.protection-protected { color: var(--ok); font-weight: 600; }
code, pre, textarea, .argv { font-family: ui-monospace, monospace; }
.argv { white-space: pre-wrap; word-break: break-all; }
textarea { width: 100%; min-height: 22rem; font-size: .9rem; }
pre.diag { background: #fff5f5; border: 1px solid #f3c1c1; padding: .5rem; white-space: pre-wrap; }
pre.diag.warning { background: #fffbea; border-color: #f0dc9a; }
pre.ok { background: #f1f8f1; border: 1px solid #c3e0c3; padding: .5rem; }
form.inline { display: flex; gap: .5rem; flex-wrap: wrap; align-items: end; margin-bottom: 1rem; }
label { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); gap: .2rem; }
.error { color: var(--blocked); }
.ok { color: var(--ok); }
section { margin-bottom: 2rem; }
.notice { background: #fffbea; padding: .5rem; border: 1px solid #f0dc9a; word-break: break-all; }
svg.chart { width: 100%; height: 140px; border: 1px solid var(--line); margin-bottom: 1rem; }
svg.chart .blocked { fill: var(--blocked); }
svg.chart .alert { fill: var(--alert); }
.cols { display: grid; grid-template-columns: 14rem 1fr; gap: 1rem; }
dl.detail { display: grid; grid-template-columns: 10rem 1fr; gap: .2rem .8rem; }
dl.detail dt { color: var(--muted); }
`;
