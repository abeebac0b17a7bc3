// Warmgate dashboard: reads the public API with the user's token. Every value from the API goes into the page
// as text (textContent), never as markup.
"use strict";

const REFRESH_MS = 5000;
const PAGE_SIZE = 50;
const TOKEN_KEY = "warmgate.token";

const state = { cursor: null, paged: false, timelineJob: null };

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

async function api(path) {
  const headers = { Accept: "application/json" };
  if (token()) headers.Authorization = "Bearer " + token();
  const response = await fetch(path, { headers });
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    // A body that is not JSON is reported by status below.
  }
  if (!response.ok) {
    const message = body && body.error ? body.error.code + ": " + body.error.message : "HTTP " + response.status;
    throw new Error(message);
  }
  return body;
}

function show(message, isError) {
  const status = document.getElementById("status");
  status.textContent = message;
  status.className = isError ? "error" : "";
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function time(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

function duration(seconds) {
  const s = Math.round(seconds);
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
  return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
}

async function loadEndpoints() {
  const body = await api("/v1/endpoints");
  const tbody = document.querySelector("#endpoints tbody");
  tbody.replaceChildren();
  for (const e of body.endpoints) {
    const row = document.createElement("tr");
    row.dataset.endpoint = e.name;
    cell(row, e.name);
    cell(row, e.state, "state state-" + e.state);
    cell(row, time(e.since));
    cell(row, e.queued, "queued");
    cell(row, e.inFlight, "in-flight");
    cell(row, duration(e.billedSeconds), "billed");
    cell(row, e.detail);
    tbody.appendChild(row);
  }
}

function jobsQuery(cursor) {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  const status = document.getElementById("status-filter").value;
  const endpoint = document.getElementById("endpoint-filter").value.trim();
  if (status) params.set("status", status);
  if (endpoint) params.set("endpoint", endpoint);
  if (cursor) params.set("cursor", cursor);
  return "/v1/jobs?" + params.toString();
}

async function loadJobs(append) {
  const body = await api(jobsQuery(append ? state.cursor : null));
  const tbody = document.querySelector("#jobs tbody");
  if (!append) tbody.replaceChildren();
  for (const j of body.jobs) {
    const row = document.createElement("tr");
    row.dataset.jobId = j.jobId;
    const id = cell(row, "");
    const link = document.createElement("a");
    link.href = "#job=" + encodeURIComponent(j.jobId);
    link.textContent = j.jobId;
    link.className = "job-link";
    link.addEventListener("click", (event) => {
      event.preventDefault();
      showTimeline(j.jobId);
    });
    id.appendChild(link);
    cell(row, j.status, "status status-" + j.status);
    cell(row, j.endpoint);
    cell(row, j.owner);
    cell(row, j.attempts);
    cell(row, time(j.createdAt));
    cell(row, time(j.updatedAt));
    cell(row, j.error, "error-text");
    tbody.appendChild(row);
  }
  state.cursor = body.nextCursor;
  document.getElementById("more").hidden = !body.nextCursor;
}

function summary(data) {
  const text = JSON.stringify(data);
  return text.length > 400 ? text.slice(0, 400) + "…" : text;
}

async function showTimeline(jobId) {
  state.timelineJob = jobId;
  document.getElementById("job-id").value = jobId;
  const title = document.getElementById("timeline-title");
  const list = document.getElementById("timeline");
  list.replaceChildren();
  title.textContent = "Loading " + jobId + "…";
  try {
    const body = await api("/v1/jobs/" + encodeURIComponent(jobId) + "/events");
    title.textContent = jobId + ": " + body.events.length + " event(s)";
    const first = body.events.length ? Date.parse(body.events[0].timestamp) : 0;
    for (const e of body.events) {
      const item = document.createElement("li");
      item.className = "event";
      item.dataset.type = e.type;
      const when = document.createElement("span");
      when.className = "when";
      when.textContent = time(e.timestamp) + " (+" + ((Date.parse(e.timestamp) - first) / 1000).toFixed(3) + " s)";
      const type = document.createElement("strong");
      type.className = "type";
      type.textContent = e.type;
      const data = document.createElement("code");
      data.textContent = summary(e.data);
      item.append(when, " ", type, " ", data);
      list.appendChild(item);
    }
  } catch (error) {
    title.textContent = jobId + ": " + error.message;
  }
}

async function refresh() {
  try {
    await loadEndpoints();
    if (!state.paged) await loadJobs(false);
    show("Updated " + new Date().toLocaleTimeString(), false);
  } catch (error) {
    show(error.message, true);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("token").value = token();
  document.getElementById("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, document.getElementById("token").value.trim());
    refresh();
  });
  document.getElementById("jobs-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    state.paged = false;
    refresh();
  });
  document.getElementById("more").addEventListener("click", async () => {
    state.paged = true;
    try {
      await loadJobs(true);
    } catch (error) {
      show(error.message, true);
    }
  });
  document.getElementById("job-lookup").addEventListener("submit", (event) => {
    event.preventDefault();
    const jobId = document.getElementById("job-id").value.trim();
    if (jobId) showTimeline(jobId);
  });
  const fromHash = /^#job=(.+)$/.exec(location.hash);
  if (fromHash) showTimeline(decodeURIComponent(fromHash[1]));
  refresh();
  setInterval(refresh, REFRESH_MS);
});
