extension KVBrowserAssets {
    /// The page's script: talks only to the REST API, with the token from sessionStorage.
    static let script = #"""
    "use strict";
    (() => {
      const account = document.querySelector('meta[name="luat-account"]').content;
      const base = `/client/v4/accounts/${encodeURIComponent(account)}/storage/kv/namespaces`;
      const pageSize = 50;
      const $ = (id) => document.getElementById(id);
      const state = { namespace: null, prefix: "", cursors: [""], page: 0, key: null, bytes: null, view: "text", entry: null };

      const token = () => sessionStorage.getItem("luat-kv-token");

      async function api(path, options = {}) {
        const headers = Object.assign({ "Authorization": `Bearer ${token()}` }, options.headers || {});
        const response = await fetch(base + path, Object.assign({}, options, { headers }));
        if (options.raw && response.ok) return response;
        let body = null;
        try { body = await response.json(); } catch (e) { body = null; }
        if (!response.ok || !body || body.success !== true) {
          const message = body && body.errors && body.errors[0] ? body.errors[0].message : `HTTP ${response.status}`;
          const error = new Error(message);
          error.status = response.status;
          throw error;
        }
        return body;
      }

      function status(text, isError) {
        $("status").textContent = text || "";
        $("status").className = isError ? "error" : "";
      }

      function hexId(title) {
        return Array.from(new TextEncoder().encode(title), (b) => b.toString(16).padStart(2, "0")).join("");
      }

      function formatExpiration(seconds) {
        if (seconds === undefined || seconds === null) return "never";
        return `${new Date(seconds * 1000).toISOString()} (${seconds})`;
      }

      // MARK: sign in

      async function signIn(secret) {
        sessionStorage.setItem("luat-kv-token", secret);
        try {
          await loadNamespaces();
        } catch (error) {
          sessionStorage.removeItem("luat-kv-token");
          $("login-error").textContent = error.message;
          return;
        }
        $("login").hidden = true;
        $("app").hidden = false;
        $("logout").hidden = false;
        $("who").textContent = "signed in";
      }

      $("login").addEventListener("submit", (event) => {
        event.preventDefault();
        $("login-error").textContent = "";
        const secret = $("token").value.trim();
        $("token").value = "";
        signIn(secret);
      });

      $("logout").addEventListener("click", () => {
        sessionStorage.removeItem("luat-kv-token");
        location.reload();
      });

      // MARK: namespaces

      async function loadNamespaces() {
        const titles = [];
        for (let page = 1; page < 1000; page++) {
          const body = await api(`?page=${page}&per_page=100&order=title`);
          body.result.forEach((ns) => titles.push(ns.title));
          if (body.result.length < 100) break;
        }
        const list = $("namespaces");
        list.replaceChildren();
        titles.forEach((title) => {
          const item = document.createElement("li");
          const button = document.createElement("button");
          button.textContent = title;
          button.dataset.namespace = title;
          button.addEventListener("click", () => openNamespace(title));
          item.append(button);
          list.append(item);
        });
        if (titles.length === 0) list.textContent = "No namespaces yet.";
      }

      function openNamespace(title) {
        state.namespace = title;
        state.prefix = "";
        $("prefix").value = "";
        document.querySelectorAll("#namespaces button").forEach((b) => b.classList.toggle("selected", b.dataset.namespace === title));
        $("keys-title").textContent = title;
        $("keys-panel").hidden = false;
        $("value-panel").hidden = true;
        resetPages();
      }

      // MARK: keys

      function resetPages() {
        state.cursors = [""];
        state.page = 0;
        loadKeys();
      }

      async function loadKeys() {
        const cursor = state.cursors[state.page];
        const query = new URLSearchParams({ limit: String(pageSize) });
        if (state.prefix) query.set("prefix", state.prefix);
        if (cursor) query.set("cursor", cursor);
        let body;
        try {
          body = await api(`/${hexId(state.namespace)}/keys?${query}`);
        } catch (error) {
          status(error.message, true);
          return;
        }
        const rows = $("keys");
        rows.replaceChildren();
        body.result.forEach((key) => {
          const row = document.createElement("tr");
          const name = document.createElement("td");
          const button = document.createElement("button");
          button.textContent = key.name;
          button.dataset.key = key.name;
          button.addEventListener("click", () => openKey(key.name));
          name.append(button);
          const expires = document.createElement("td");
          expires.textContent = key.expiration ? new Date(key.expiration * 1000).toISOString() : "";
          const meta = document.createElement("td");
          meta.className = "meta";
          meta.textContent = key.metadata === undefined ? "" : JSON.stringify(key.metadata);
          row.append(name, expires, meta);
          rows.append(row);
        });
        const next = body.result_info && body.result_info.cursor;
        state.cursors[state.page + 1] = next || null;
        $("next-page").disabled = !next;
        $("prev-page").disabled = state.page === 0;
        $("page-label").textContent = `Page ${state.page + 1} · ${body.result.length} keys`;
        status("");
      }

      $("search").addEventListener("submit", (event) => {
        event.preventDefault();
        state.prefix = $("prefix").value;
        resetPages();
      });
      $("next-page").addEventListener("click", () => { state.page += 1; loadKeys(); });
      $("prev-page").addEventListener("click", () => { if (state.page > 0) { state.page -= 1; loadKeys(); } });

      // MARK: one value

      const keyPath = (key) => `/${hexId(state.namespace)}/values/${encodeURIComponent(key)}`;

      async function openKey(key) {
        let bytes, keys, meta;
        try {
          const response = await api(keyPath(key), { raw: true });
          bytes = new Uint8Array(await response.arrayBuffer());
          const expiration = response.headers.get("Expiration");
          meta = await api(`/${hexId(state.namespace)}/metadata/${encodeURIComponent(key)}`);
          state.entry = { expiration: expiration ? Number(expiration) : null, metadata: meta.result };
        } catch (error) {
          status(error.message, true);
          return;
        }
        state.key = key;
        state.bytes = bytes;
        let text = null, json;
        try { text = new TextDecoder("utf-8", { fatal: true }).decode(bytes); } catch (e) { text = null; }
        let isJSON = false;
        if (text !== null) { try { json = JSON.parse(text); isJSON = true; } catch (e) { isJSON = false; } }
        state.text = text;
        state.json = isJSON ? json : undefined;
        $("value-kind").textContent = text === null ? `binary, ${bytes.length} bytes` : isJSON ? `JSON, ${bytes.length} bytes` : `text, ${bytes.length} bytes`;
        $("view-text").disabled = text === null;
        $("view-json").disabled = !isJSON;
        show(text === null ? "hex" : isJSON ? "json" : "text");
        $("value-title").textContent = key;
        $("value-expiration").textContent = formatExpiration(state.entry.expiration);
        $("value-metadata").textContent = state.entry.metadata === null || state.entry.metadata === undefined ? "none" : JSON.stringify(state.entry.metadata, null, 2);
        $("value-panel").hidden = false;
        $("editor").hidden = true;
        status("");
      }

      function hexDump(bytes) {
        const lines = [];
        for (let offset = 0; offset < bytes.length; offset += 16) {
          const chunk = Array.from(bytes.slice(offset, offset + 16));
          const hex = chunk.map((b) => b.toString(16).padStart(2, "0")).join(" ");
          const ascii = chunk.map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join("");
          lines.push(`${offset.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${ascii}`);
        }
        return lines.join("\n");
      }

      function show(view) {
        state.view = view;
        document.querySelectorAll(".views button").forEach((b) => b.classList.toggle("active", b.dataset.view === view));
        const out = $("value-view");
        out.dataset.view = view;
        if (view === "hex") out.textContent = hexDump(state.bytes);
        else if (view === "json") out.textContent = JSON.stringify(state.json, null, 2);
        else out.textContent = state.text;
      }
      document.querySelectorAll(".views button").forEach((b) => b.addEventListener("click", () => show(b.dataset.view)));

      // MARK: put, edit, delete

      function openEditor(key, text, metadata) {
        $("edit-key").value = key;
        $("edit-value").value = text;
        $("edit-metadata").value = metadata;
        $("edit-ttl").value = "";
        $("editor").hidden = false;
        $("value-panel").hidden = false;
      }

      $("new-key").addEventListener("click", () => {
        $("value-title").textContent = "New key";
        $("value-view").textContent = "";
        openEditor("", "", "");
      });

      $("edit").addEventListener("click", () => {
        if (state.text === null) { status("binary values cannot be edited as text", true); return; }
        const metadata = state.entry.metadata === null || state.entry.metadata === undefined ? "" : JSON.stringify(state.entry.metadata);
        openEditor(state.key, state.text, metadata);
      });

      $("cancel-edit").addEventListener("click", () => { $("editor").hidden = true; });

      $("editor").addEventListener("submit", async (event) => {
        event.preventDefault();
        const key = $("edit-key").value;
        const form = new FormData();
        form.append("value", new Blob([$("edit-value").value]));
        const metadata = $("edit-metadata").value.trim();
        if (metadata) {
          try { JSON.parse(metadata); } catch (e) { status(`metadata is not valid JSON: ${e.message}`, true); return; }
          form.append("metadata", metadata);
        }
        const ttl = $("edit-ttl").value.trim();
        const query = ttl ? `?expiration_ttl=${encodeURIComponent(ttl)}` : "";
        try {
          await api(keyPath(key) + query, { method: "PUT", body: form });
        } catch (error) {
          status(`Save refused: ${error.message}`, true);
          return;
        }
        $("editor").hidden = true;
        await loadKeys();
        await openKey(key);
        status(`Saved ${key}`);
      });

      $("delete").addEventListener("click", () => {
        $("confirm-text").textContent = `Delete "${state.key}" from ${state.namespace}? This cannot be undone.`;
        $("confirm").showModal();
      });
      $("confirm-no").addEventListener("click", () => $("confirm").close());
      $("confirm-yes").addEventListener("click", async () => {
        $("confirm").close();
        const key = state.key;
        try {
          await api(keyPath(key), { method: "DELETE" });
        } catch (error) {
          status(`Delete refused: ${error.message}`, true);
          return;
        }
        $("value-panel").hidden = true;
        await loadKeys();
        status(`Deleted ${key}`);
      });

      if (token()) signIn(token());
    })();
    """#
}
