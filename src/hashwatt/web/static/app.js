// hashwatt dashboard: small progressive JavaScript over /api/v1 (no build step, no CDN).
"use strict";
(function () {
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const text = (v, unit) => (v === null || v === undefined) ? "–" :
    (typeof v === "number" ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1)) : String(v)) + (unit ? " " + unit : "");
  async function getJSON(url) {
    const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); throw new Error("401"); }
    if (!r.ok) throw new Error(r.status + "");
    return r.json();
  }
  async function postJSON(url, body) {
    const r = await fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(body) });
    let data = null; try { data = await r.json(); } catch (e) { /* empty */ }
    return { ok: r.ok, status: r.status, data };
  }
  function fill(root, data) {
    root.querySelectorAll("[data-f]").forEach((el) => {
      const k = el.dataset.f; if (!(k in data)) return;
      el.textContent = "i" in el.dataset && data[k] !== null ? String(data[k]) : text(data[k], el.dataset.u);
    });
  }
  function live(root, every) {
    const tick = async () => { try { fill(root, await getJSON(root.dataset.live)); } catch (e) { /* next tick */ } };
    setInterval(tick, every);
  }

  const picker = document.getElementById("site");
  if (picker) picker.addEventListener("change", () => picker.form.submit());

  // Server-sent events where the browser has them (one stream, pushed by the server), else polling.
  function events(url, handlers, fallback) {
    if (!window.EventSource) { fallback(); return; }
    const es = new EventSource(url);
    Object.entries(handlers).forEach(([kind, fn]) =>
      es.addEventListener(kind, (e) => { try { fn(JSON.parse(e.data)); } catch (err) { /* next event */ } }));
    window.hashwattEvents = es;
  }

  const overview = document.getElementById("overview");
  if (overview) events(overview.dataset.events, { overview: (o) => fill(overview, o) }, () => live(overview, 5000));

  // -- pool: totals and the worker table, refreshed from the share log -------------------
  const pool = document.getElementById("pool");
  if (pool) {
    const body = document.querySelector("#pool-worker-table tbody");
    const scaled = document.querySelectorAll("#pool-worker-table th").length === 7;
    const show = (p) => {
      fill(pool, p);
      body.replaceChildren(...p.workers.map((w) => {
        const tr = document.createElement("tr"); tr.className = "worker";
        const cells = [w.worker, text(w.hashrate_hs), ...(scaled ? [text(w.hashrate_ths_equivalent)] : []),
          w.accepted, w.rejected === null ? "–" : w.rejected, w.blocks, w.last_share_utc.slice(11, 19)];
        cells.forEach((c) => { const td = document.createElement("td"); td.textContent = c; tr.append(td); });
        return tr;
      }));
    };
    events("/api/v1/events?topics=pool", { pool: show },
      () => setInterval(async () => { try { show(await getJSON("/api/v1/pool")); } catch (e) { /* next tick */ } }, 5000));
  }

  // -- devices table: server-side sort, filter, search, pagination ----------------------
  const table = document.getElementById("devices");
  if (table) {
    const st = { page: 1, per_page: 50, total: 0 };
    const tbody = table.querySelector("tbody");
    const q = document.getElementById("q"), state = document.getElementById("state");
    const sort = document.getElementById("sort"), order = document.getElementById("order");
    async function load() {
      const p = new URLSearchParams({ page: st.page, per_page: st.per_page, sort: sort.value, order: order.value });
      if (q.value) p.set("q", q.value);
      if (state.value) p.set("state", state.value);
      if (table.dataset.site) p.set("site", table.dataset.site);
      const data = await getJSON("/api/v1/devices?" + p);
      st.total = data.total;
      tbody.replaceChildren(...data.rows.map((d) => {
        const tr = document.createElement("tr"); tr.dataset.id = d.id;
        const cells = [null, d.address, d.model, d.firmware, [d.rack, d.position].filter(Boolean).join(" "),
          d.last_outcome === "ok" ? d.state : "offline", text(d.hashrate_ths), text(d.power_w), text(d.temp_chip_max_c)];
        cells.forEach((c, i) => {
          const td = document.createElement("td");
          if (i === 0) { const cb = document.createElement("input"); cb.type = "checkbox"; cb.className = "pick"; cb.value = d.id; td.append(cb); }
          else if (i === 1) { const a = document.createElement("a"); a.href = "/devices/" + d.id; a.textContent = c; td.append(a); }
          else td.textContent = c === null || c === undefined ? "–" : c;
          tr.append(td);
        });
        return tr;
      }));
      const pages = Math.max(1, Math.ceil(st.total / st.per_page));
      document.getElementById("page-info").textContent = `page ${st.page} of ${pages} · ${st.total} devices`;
    }
    const metric = document.getElementById("heat-metric");
    async function heat() {
      const hm = document.getElementById("heatmap"); if (!hm) return;
      const p = new URLSearchParams({ metric: metric.value });
      if (table.dataset.site) p.set("site", table.dataset.site);
      let data; try { data = await getJSON("/api/v1/heatmap?" + p); } catch (e) { return; }
      const values = data.racks.flatMap((r) => r.devices.map((d) => d.value)).filter((v) => v !== null);
      // temperature on a fixed 50-90 °C scale; hashrate relative to the site's fastest machine
      const top = Math.max(1, ...values);
      const scale = (v) => data.metric === "hashrate_ths" ? 1 - v / top : (v - 50) / 40;
      const unit = data.metric === "hashrate_ths" ? "TH/s" : "°C";
      hm.replaceChildren(...data.racks.map((r) => {
        const box = document.createElement("div"); box.className = "rack"; box.textContent = (data.site ? "" : r.site + " ") + r.rack + " ";
        r.devices.forEach((d) => {
          const c = document.createElement("a"); c.className = "cell"; c.href = "/devices/" + d.id;
          const x = d.value === null ? null : Math.min(1, Math.max(0, scale(d.value)));
          c.style.background = x === null ? "#9ca3af" : `hsl(${(1 - x) * 120}, 70%, 45%)`;
          c.title = `${d.address}: ${text(d.value, unit)}`; box.append(c);
        });
        return box;
      }));
    }
    // The whole site's racks do not change with the table's sort, filter or page: own timer.
    metric.addEventListener("change", heat);
    heat(); setInterval(heat, 30000);
    let timer = null;
    q.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => { st.page = 1; load(); }, 250); });
    [state, sort, order].forEach((el) => el.addEventListener("change", () => { st.page = 1; load(); }));
    table.querySelectorAll("th[data-sort]").forEach((th) => th.addEventListener("click", () => {
      if (sort.value === th.dataset.sort) order.value = order.value === "asc" ? "desc" : "asc";
      else { sort.value = th.dataset.sort; order.value = "asc"; }
      st.page = 1; load();
    }));
    document.getElementById("prev").addEventListener("click", () => { if (st.page > 1) { st.page--; load(); } });
    document.getElementById("next").addEventListener("click", () => { if (st.page * st.per_page < st.total) { st.page++; load(); } });
    document.getElementById("select-all").addEventListener("change", (e) =>
      tbody.querySelectorAll(".pick").forEach((cb) => { cb.checked = e.target.checked; }));
    const go = document.getElementById("bulk-go");
    const bulkAction = document.getElementById("bulk-action");
    if (bulkAction) bulkAction.addEventListener("change", () => {
      document.querySelectorAll(".bulk-power").forEach((el) => { el.hidden = bulkAction.value !== "power"; });
      document.querySelectorAll(".bulk-pool").forEach((el) => { el.hidden = bulkAction.value !== "pool"; });
    });
    if (go) go.addEventListener("click", async () => {
      const ids = [...tbody.querySelectorAll(".pick:checked")].map((cb) => Number(cb.value));
      const action = bulkAction.value;
      let params = {}, what = action;
      if (action === "power") { params = { power_target_w: Number(document.getElementById("bulk-watts").value) }; what = `power target ${params.power_target_w} W`; }
      if (action === "pool") { params = { group: document.getElementById("bulk-group").value }; what = `pool group "${params.group}"`; }
      if (!ids.length || !confirm(`${what} on ${ids.length} device(s)?`)) return;
      const r = await postJSON("/api/v1/actions", { action, device_ids: ids, params, confirm: true });
      document.getElementById("bulk-result").textContent = r.ok ? `queued ${what} for ${ids.length}` :
        `refused (${r.status}): ${(r.data && r.data.detail) || ""}`;
    });
    load(); setInterval(load, 10000);
  }

  // -- energy: the price signal -----------------------------------------------------------
  const priceBox = document.getElementById("chart-price");
  if (priceBox) getJSON(priceBox.dataset.series).then((e) => {
    new uPlot({ title: "USD/MWh", width: Math.max(280, priceBox.clientWidth || 600), height: 200,
      series: [{}, { label: "price", stroke: "#7c3aed" }] }, [e.time_s, e.price_usd_per_mwh], priceBox);
  });

  // -- device detail: live values, charts, actions ---------------------------------------
  const dev = document.getElementById("device");
  if (dev) {
    events(dev.dataset.events, { device: (d) => fill(dev, d) }, () => live(dev, 3000));
    const id = dev.dataset.id; const plots = [];
    async function charts(span) {
      const s = await getJSON(`/api/v1/devices/${id}/series?span=${span}`);
      plots.forEach((p) => p.destroy()); plots.length = 0;
      const defs = [["chart-hashrate", "hashrate_ths", "TH/s", "#d97706"], ["chart-power", "power_w", "W", "#2563eb"],
        ["chart-temp", "temp_chip_max_c", "chip °C", "#dc2626"]];
      for (const [el, key, label, color] of defs) {
        const box = document.getElementById(el);
        const opts = { title: label, width: Math.max(280, box.clientWidth || 600), height: 180,
          series: [{}, { label, stroke: color, spanGaps: false }] };
        plots.push(new uPlot(opts, [s.time_s, s[key]], box));
      }
      dev.dataset.points = s.time_s.length;
    }
    document.querySelectorAll("button.span").forEach((b) => b.addEventListener("click", () => charts(b.dataset.span)));
    charts("24h");
    document.querySelectorAll("button.act").forEach((b) => b.addEventListener("click", async () => {
      const action = b.dataset.action;
      if (!confirm(`${action} this device?`)) return;
      const r = await postJSON("/api/v1/actions", { action, device_ids: [Number(id)], confirm: true });
      document.getElementById("act-result").textContent = r.ok ? `${action} queued` : `refused (${r.status}): ${(r.data && r.data.detail) || ""}`;
    }));
  }
})();
