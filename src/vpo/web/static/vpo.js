// vpo web interface: small progressive enhancement over server-rendered pages.
// Plain JavaScript written for vpo (MIT, like vpo); no library, no build step.
// State changes go through the REST API (/api/v1) with JSON bodies.
"use strict";
(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const FINISHED = ["completed", "failed", "cancelled"];

  function say(text, isError) {
    const status = $("#status");
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  async function api(method, url, body) {
    const options = { method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      options.headers["content-type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const answer = await fetch(url, options);
    let data = null;
    const type = answer.headers.get("content-type") || "";
    if (type.includes("application/json")) data = await answer.json();
    if (!answer.ok) {
      const detail = data && data.detail ? data.detail : answer.status + " " + answer.statusText;
      const error = new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
      error.data = data;
      throw error;
    }
    return data;
  }

  function guarded(action) {
    return async (event) => {
      if (event) event.preventDefault();
      try {
        await action(event);
      } catch (error) {
        say(error.message, true);
      }
    };
  }

  // ---------------------------------------------------------------- times
  function localTimes(root) {
    for (const node of $$("time[data-epoch]", root)) {
      const epoch = Number(node.dataset.epoch);
      if (!epoch) continue;
      const date = new Date(epoch * 1000);
      node.setAttribute("datetime", date.toISOString());
      node.textContent = date.toLocaleString();
      node.title = date.toISOString();
    }
  }

  // ---------------------------------------------------------------- session
  function session() {
    const login = $("form[data-login]");
    if (login) {
      login.addEventListener("submit", guarded(async () => {
        await api("POST", "/login", { token: login.elements.token.value });
        window.location.assign("/");
      }));
    }
    for (const button of $$("[data-logout]")) {
      button.addEventListener("click", guarded(async () => {
        await api("POST", "/logout");
        window.location.assign("/login");
      }));
    }
  }

  // ---------------------------------------------------------------- actions
  function actions() {
    for (const form of $$("form[data-plan]")) {
      form.addEventListener("submit", guarded(async () => {
        const paths = [];
        for (const field of $$("[name=paths]", form)) {
          for (const line of field.value.split("\n")) if (line.trim()) paths.push(line.trim());
        }
        const policy = form.elements.policy.value;
        say("Starting a dry-run of " + policy + "…");
        const job = await api("POST", "/api/v1/plans", { policy, paths });
        window.location.assign("/plans/" + job.id);
      }));
    }
    const post = (attr, url, then) => {
      for (const button of $$("[" + attr + "]")) {
        button.addEventListener("click", guarded(async () => {
          button.disabled = true;
          try {
            const job = await api("POST", url(button.getAttribute(attr)));
            then(job);
          } finally {
            button.disabled = false;
          }
        }));
      }
    };
    post("data-approve", (id) => "/api/v1/plans/" + id + "/approve",
      (job) => window.location.assign("/jobs/" + job.id));
    for (const button of $$("[data-approve-selected]")) {
      button.addEventListener("click", guarded(async () => {
        const files = $$("input[data-approve-file]:checked").map((box) => box.value);
        if (files.length === 0) throw new Error("Select at least one file to approve.");
        const id = button.dataset.approveSelected;
        const job = await api("POST", "/api/v1/plans/" + id + "/approve", { files });
        window.location.assign("/jobs/" + job.id);
      }));
    }
    post("data-reject", (id) => "/api/v1/plans/" + id + "/reject", () => window.location.reload());
    post("data-cancel", (id) => "/api/v1/jobs/" + id + "/cancel", () => window.location.reload());
    post("data-retry", (id) => "/api/v1/jobs/" + id + "/retry", () => window.location.reload());
  }

  // ---------------------------------------------------------------- policy editor
  function editor() {
    const form = $("form[data-policy-editor]");
    if (!form) return;
    const text = form.elements.text;
    const gutter = $("[data-gutter]", form);
    const problems = $("[data-problems]", form);
    const save = $("[data-save]", form);
    let bad = new Set();
    let timer = null;
    let sequence = 0;

    function numbers() {
      const count = text.value.split("\n").length;
      const lines = [];
      for (let i = 1; i <= count; i++) lines.push(bad.has(i) ? i + " ●" : String(i));
      gutter.textContent = lines.join("\n");
      gutter.scrollTop = text.scrollTop;
    }

    function show(check) {
      bad = new Set(check.problems.filter((p) => p.line).map((p) => p.line));
      problems.replaceChildren();
      if (check.valid) {
        const ok = document.createElement("p");
        ok.className = "ok";
        ok.textContent = "Valid" + (check.phases && check.phases.length ? " (phases: " + check.phases.join(", ") + ")" : "") + ".";
        problems.append(ok);
      } else {
        const list = document.createElement("ul");
        for (const p of check.problems) {
          const item = document.createElement("li");
          if (p.line) item.dataset.line = p.line;
          item.textContent = (p.line ? "line " + p.line + ": " : "") + p.text;
          list.append(item);
        }
        problems.append(list);
      }
      save.disabled = !check.valid;
      numbers();
    }

    async function validate() {
      const mine = ++sequence;
      try {
        const check = await api("POST", "/api/v1/policies/validate", { text: text.value });
        if (mine === sequence) show(check);
      } catch (error) {
        say(error.message, true);
      }
    }

    text.addEventListener("input", () => {
      numbers();
      clearTimeout(timer);
      timer = setTimeout(validate, 250);
    });
    text.addEventListener("scroll", () => { gutter.scrollTop = text.scrollTop; });
    form.addEventListener("submit", guarded(async () => {
      const name = form.dataset.name;
      try {
        await api("PUT", "/api/v1/policies/" + encodeURIComponent(name), { text: text.value });
      } catch (error) {
        if (error.data && error.data.problems) show({ valid: false, problems: error.data.problems });
        throw error;
      }
      say("Saved " + name + ".");
      save.dataset.saved = "true";
    }));
    numbers();
    validate();
  }

  // ---------------------------------------------------------------- live jobs
  function progressText(progress) {
    const total = progress.files_total;
    const done = progress.files_done || 0;
    let text = done + " / " + (total === null || total === undefined ? "?" : total) + " files";
    if (total) text += " (" + Math.round((100 * done) / total) + " %)";
    return text;
  }

  function applyProgress(jobId, progress) {
    for (const box of $$('[data-job-progress="' + jobId + '"]')) {
      const bar = $("progress", box);
      if (progress.files_total) {
        bar.max = progress.files_total;
        bar.value = progress.files_done || 0;
      }
      $("[data-part=text]", box).textContent = progressText(progress);
      const active = $("[data-part=active]", box);
      active.replaceChildren();
      for (const [file, doing] of Object.entries(progress.active || {})) {
        const item = document.createElement("li");
        item.textContent = file + ": " + doing;
        active.append(item);
      }
    }
    for (const eta of $$('[data-eta="' + jobId + '"]')) {
      const started = Number(eta.dataset.started);
      const done = progress.files_done || 0;
      const total = progress.files_total;
      if (started && total && done > 0 && done < total) {
        const elapsed = Date.now() / 1000 - started;
        const left = (elapsed / done) * (total - done);
        eta.textContent = "about " + Math.max(1, Math.round(left)) + " s";
      } else if (total && done >= total) {
        eta.textContent = "done";
      }
    }
  }

  function applyJob(job) {
    for (const badge of $$('[data-job-status="' + job.id + '"], tr[data-job="' + job.id + '"] [data-part=status]')) {
      badge.textContent = job.status;
      badge.className = "badge " + job.status;
    }
    if (job.started_at) for (const eta of $$('[data-eta="' + job.id + '"]')) eta.dataset.started = job.started_at;
    if (job.progress) applyProgress(job.id, job.progress);
    for (const marker of $$('[data-reload-on-finish="' + job.id + '"]')) {
      if (FINISHED.includes(job.status) && marker.dataset.initial !== job.status) {
        window.location.reload();
        return;
      }
    }
  }

  function live() {
    const watched = new Set(
      $$("[data-job-progress], [data-reload-on-finish], [data-live-jobs]").map((n) =>
        n.dataset.jobProgress || n.dataset.reloadOnFinish || "all")
    );
    if (watched.size === 0 || !window.EventSource) return;
    const source = new EventSource("/api/v1/events");
    source.addEventListener("open", async () => {
      // Catch up with what happened before the stream opened.
      for (const id of watched) {
        if (id === "all") continue;
        try {
          applyJob(await api("GET", "/api/v1/jobs/" + id));
        } catch (error) {
          say(error.message, true);
        }
      }
    });
    source.addEventListener("progress", (event) => {
      const data = JSON.parse(event.data);
      applyProgress(data.job_id, data);
    });
    source.addEventListener("job", (event) => {
      const data = JSON.parse(event.data);
      applyJob(Object.assign({}, data, { id: data.job_id }));
    });
    window.addEventListener("pagehide", () => source.close());
  }

  // ---------------------------------------------------------------- tools (settings)
  async function tools() {
    const body = $("[data-tools]");
    if (!body) return;
    try {
      for (const tool of await api("GET", "/api/v1/tools")) {
        const row = $('[data-tool="' + tool.name + '"]', body);
        if (!row) continue;
        $("td.path", row).textContent = tool.path || "not found";
        const cell = $("[data-part=version]", row);
        cell.textContent = tool.detail + (tool.state === "ok" ? "" : " (" + tool.state + ")");
      }
    } catch (error) {
      say(error.message, true);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    localTimes(document);
    session();
    actions();
    editor();
    live();
    tools();
  });
})();
