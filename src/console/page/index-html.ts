// The page's HTML: a shell that /app.js fills. No inline script or style (the CSP forbids both).

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vigil console</title>
<link rel="stylesheet" href="/style.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <strong class="brand">Vigil</strong>
  <nav id="nav" hidden>
    <button type="button" data-view="fleet">Fleet</button>
    <button type="button" data-view="events">Events</button>
    <button type="button" data-view="policies">Policies</button>
    <button type="button" data-view="tokens">Tokens</button>
    <button type="button" data-view="settings">Settings</button>
  </nav>
  <span id="who"></span>
</header>
<main id="view"><p>Loading…</p></main>
</body>
</html>
`;
