/// The KV browser's three files, served as they are written here.
enum KVBrowserAssets {
    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="luat-account" content="{{ACCOUNT_ID}}">
    <title>Luat KV</title>
    <link rel="stylesheet" href="style.css">
    <script src="app.js" defer></script>
    </head>
    <body>
    <header>
      <h1>Luat KV</h1>
      <span id="who"></span>
      <button id="logout" hidden>Sign out</button>
    </header>
    <main>
      <form id="login" class="card">
        <h2>Sign in</h2>
        <p>Paste a KV API token (<code>[[kv_api.tokens]]</code> or <code>LUAT_KV_API_TOKEN</code>). It stays in this tab's session storage.</p>
        <input id="token" type="password" autocomplete="off" placeholder="API token" required>
        <button id="login-button" type="submit">Sign in</button>
        <p id="login-error" class="error" role="alert"></p>
      </form>
      <div id="app" hidden>
        <nav id="namespaces-panel" class="card">
          <h2>Namespaces</h2>
          <ul id="namespaces"></ul>
        </nav>
        <section id="keys-panel" class="card" hidden>
          <h2 id="keys-title"></h2>
          <form id="search">
            <input id="prefix" placeholder="Key prefix">
            <button type="submit">Search</button>
            <button type="button" id="new-key">New key</button>
          </form>
          <table>
            <thead><tr><th>Key</th><th>Expires</th><th>Metadata</th></tr></thead>
            <tbody id="keys"></tbody>
          </table>
          <div class="pager">
            <button id="prev-page" disabled>Previous</button>
            <span id="page-label"></span>
            <button id="next-page" disabled>Next</button>
          </div>
        </section>
        <section id="value-panel" class="card" hidden>
          <h2 id="value-title"></h2>
          <div class="views">
            <button data-view="text" id="view-text">Text</button>
            <button data-view="json" id="view-json">JSON</button>
            <button data-view="hex" id="view-hex">Hex</button>
            <span id="value-kind"></span>
          </div>
          <pre id="value-view"></pre>
          <dl>
            <dt>Expiration</dt><dd id="value-expiration"></dd>
            <dt>Metadata</dt><dd><pre id="value-metadata"></pre></dd>
          </dl>
          <div class="actions">
            <button id="edit">Edit</button>
            <button id="delete" class="danger">Delete</button>
          </div>
          <form id="editor" hidden>
            <label>Key <input id="edit-key" required></label>
            <label>Value <textarea id="edit-value" rows="8"></textarea></label>
            <label>Metadata (JSON, optional) <textarea id="edit-metadata" rows="3"></textarea></label>
            <label>Expires in seconds (optional) <input id="edit-ttl" type="number" min="1"></label>
            <button id="save" type="submit">Save</button>
            <button id="cancel-edit" type="button">Cancel</button>
          </form>
        </section>
        <p id="status" role="status"></p>
      </div>
      <dialog id="confirm">
        <p id="confirm-text"></p>
        <button id="confirm-yes" class="danger">Delete</button>
        <button id="confirm-no">Cancel</button>
      </dialog>
    </main>
    </body>
    </html>
    """#

    static let style = #"""
    * { box-sizing: border-box; }
    body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: #1d2330; background: #f3f5f8; }
    header { display: flex; align-items: center; gap: 1em; padding: .6em 1.2em; background: #1d2330; color: #fff; }
    header h1 { font-size: 1.2em; margin: 0; }
    #who { margin-left: auto; opacity: .8; }
    main { padding: 1em; }
    .card { background: #fff; border: 1px solid #d9dee7; border-radius: 6px; padding: 1em; }
    #login { max-width: 28em; margin: 3em auto; }
    #login input { width: 100%; margin: .5em 0; }
    #app { display: grid; grid-template-columns: 14em 1fr 1fr; gap: 1em; align-items: start; }
    h2 { font-size: 1em; margin: 0 0 .6em; }
    ul { list-style: none; margin: 0; padding: 0; }
    li button, td button { all: unset; cursor: pointer; color: #1a5fb4; word-break: break-all; }
    li button.selected { font-weight: bold; }
    li { padding: .2em 0; }
    table { width: 100%; border-collapse: collapse; margin: .6em 0; }
    th, td { text-align: left; border-bottom: 1px solid #eceff4; padding: .25em .3em; vertical-align: top; }
    td.meta { font-family: ui-monospace, monospace; font-size: .85em; color: #555; }
    pre { background: #f6f8fa; padding: .6em; overflow: auto; max-height: 24em; white-space: pre-wrap; word-break: break-all; margin: .4em 0; }
    input, textarea, button { font: inherit; padding: .3em .5em; }
    textarea { width: 100%; font-family: ui-monospace, monospace; }
    label { display: block; margin: .4em 0; }
    label input { width: 100%; }
    .views button.active { background: #1d2330; color: #fff; }
    .pager { display: flex; gap: 1em; align-items: center; }
    .danger { color: #fff; background: #c01c28; border: 1px solid #a51d2d; }
    .error, #status.error { color: #c01c28; }
    dt { font-weight: bold; margin-top: .4em; }
    dd { margin: 0; }
    #status { grid-column: 1 / -1; min-height: 1.4em; }
    """#
}
