// Warmgate dashboard: reads the public API with the user's token. Every value from the API goes into the page
// as text (textContent), never as markup.
"use strict";

const REFRESH_MS = 5000;
const PAGE_SIZE = 50;
const TOKEN_KEY = "warmgate.token";

const HISTORY_EVERY = 2; // refreshes between two reads of the endpoints' histories (each reads a journal)

const state = { cursor: null, paged: false, timelineJob: null, refreshes: 0 };

// Charts are plain SVG drawn here: no third-party code. One user unit is one CSS pixel.
const SVG_NS = "http://www.w3.org/2000/svg";
const CHART = { left: 44, width: 880, right: 12 };
const STATES = ["COLD", "STARTING", "WARM", "STOPPING", "FAILED"];
const OWNER_COLOURS = ["#1f6fb2", "#c2410c", "#7c3aed", "#0f766e", "#be185d", "#4d7c0f", "#a16207", "#334155"];
const OTHERS_COLOUR = "#6b7280";

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

function svgElement(tag, attributes, parent) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes || {})) element.setAttribute(name, String(value));
  if (parent) parent.appendChild(element);
  return element;
}

function svgText(parent, x, y, text, anchor) {
  const label = svgElement("text", { x, y, "text-anchor": anchor || "start" }, parent);
  label.textContent = text;
  return label;
}

function tooltip(element, text) {
  svgElement("title", {}, element).textContent = text;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** x of time {@code ms} in a chart spanning [from, to]. */
function scaleX(from, to) {
  const span = Math.max(1, to - from);
  return (ms) => CHART.left + ((Math.min(Math.max(ms, from), to) - from) / span) * CHART.width;
}

function timeAxis(svg, from, to, y) {
  const x = scaleX(from, to);
  svgElement("line", { class: "axis", x1: x(from), x2: x(to), y1: y, y2: y }, svg);
  for (let i = 0; i <= 4; i++) {
    const t = from + ((to - from) * i) / 4;
    svgText(svg, x(t), y + 13, clock(t), i === 0 ? "start" : i === 4 ? "end" : "middle");
  }
}

function legendItem(list, colour, className, text) {
  const item = document.createElement("li");
  const swatch = svgElement("svg", { class: "swatch", width: 12, height: 12 }, item);
  svgElement("rect", Object.assign({ width: 12, height: 12 }, colour ? { fill: colour } : { class: className }), swatch);
  item.append(text);
  list.appendChild(item);
}

function drawStates(history, from, to) {
  const x = scaleX(from, to);
  const svg = svgElement("svg", { class: "chart states", width: CHART.left + CHART.width + CHART.right, height: 44 });
  svgText(svg, 0, 16, "state");
  for (const band of history.states) {
    const start = Date.parse(band.from);
    const end = Date.parse(band.to);
    const rect = svgElement("rect", {
      class: "band band-" + band.state, x: x(start), y: 2, width: x(end) - x(start), height: 20,
      "data-state": band.state, "data-billed": band.billedSeconds, "data-from": band.from, "data-to": band.to,
    }, svg);
    tooltip(rect, band.state + " " + clock(start) + "–" + clock(end) + " (" + duration((end - start) / 1000)
      + "), billed " + band.billedSeconds.toFixed(1) + " unit-s");
  }
  timeAxis(svg, from, to, 26);
  return svg;
}

function drawQueue(history, from, to) {
  const x = scaleX(from, to);
  const height = 120;
  const top = 6;
  const bottom = 96;
  const samples = history.queue.samples;
  // Every owner named in some sample, the one with the highest peak first; "others" last when any sample has it.
  const peaks = new Map();
  for (const sample of samples) {
    for (const o of sample.owners) peaks.set(o.owner, Math.max(peaks.get(o.owner) || 0, o.queued));
  }
  const owners = [...peaks.keys()].sort((a, b) => peaks.get(b) - peaks.get(a) || a.localeCompare(b));
  const othersPeak = samples.reduce((max, s) => Math.max(max, s.others), 0);
  const top1 = Math.max(1, othersPeak, ...peaks.values());
  const y = (v) => bottom - (v / top1) * (bottom - top);

  const svg = svgElement("svg", { class: "chart queue", width: CHART.left + CHART.width + CHART.right, height });
  svgText(svg, 0, top + 8, String(top1));
  svgText(svg, 0, bottom, "0");
  svgElement("line", { class: "axis", x1: CHART.left, x2: CHART.left, y1: top, y2: bottom }, svg);
  timeAxis(svg, from, to, bottom);
  const legend = document.createElement("ul");
  legend.className = "legend";
  const series = owners.map((owner, i) => ({
    key: owner, label: owner === "" ? "(no owner)" : owner, colour: OWNER_COLOURS[i % OWNER_COLOURS.length],
    value: (s) => (s.owners.find((o) => o.owner === owner) || { queued: 0 }).queued, peak: peaks.get(owner),
  }));
  if (othersPeak > 0) {
    series.push({ key: null, label: "others", colour: OTHERS_COLOUR, value: (s) => s.others, peak: othersPeak });
  }
  for (const line of series) {
    // A step line: each sample's depth holds until the next sample.
    const points = [];
    samples.forEach((s, i) => {
      const t = Date.parse(s.at);
      const v = y(line.value(s));
      if (i > 0) points.push(x(t).toFixed(1) + "," + points[points.length - 1].split(",")[1]);
      points.push(x(t).toFixed(1) + "," + v.toFixed(1));
    });
    const attributes = { class: "series" + (line.key === null ? " series-others" : ""), stroke: line.colour,
      points: points.join(" "), "data-peak": line.peak };
    if (line.key === null) attributes["data-others"] = "true";
    else attributes["data-owner"] = line.key;
    const polyline = svgElement("polyline", attributes, svg);
    tooltip(polyline, line.label + ": at most " + line.peak + " queued");
    legendItem(legend, line.colour, null, line.label + " (peak " + line.peak + ")");
  }
  return { svg, legend, named: owners.length };
}

async function loadHistories() {
  const container = document.getElementById("endpoint-charts");
  const names = [...document.querySelectorAll("#endpoints tbody tr")].map((row) => row.dataset.endpoint);
  const span = Number(document.getElementById("history-span").value);
  // The browser's clock says when "since" is; the server refuses one in its future, so a minute is the shortest span.
  const since = new Date(Date.now() - span * 1000).toISOString();
  const histories = await Promise.all(names.map((name) =>
    api("/v1/endpoints/" + encodeURIComponent(name) + "/history?since=" + encodeURIComponent(since))));
  container.replaceChildren();
  for (const history of histories) {
    const from = Date.parse(history.from);
    const to = Date.parse(history.to);
    const figure = document.createElement("figure");
    figure.className = "endpoint-chart";
    figure.dataset.endpoint = history.name;
    figure.dataset.span = String(span);
    const caption = document.createElement("figcaption");
    caption.textContent = history.name + " ";
    const billed = document.createElement("span");
    billed.className = "billed";
    billed.textContent = "billed " + duration(history.billedSeconds) + " (unit-seconds) since " + clock(from);
    caption.appendChild(billed);
    figure.appendChild(caption);
    figure.appendChild(drawStates(history, from, to));
    const stateLegend = document.createElement("ul");
    stateLegend.className = "legend";
    for (const s of STATES) legendItem(stateLegend, null, "band-" + s, s.toLowerCase());
    figure.appendChild(stateLegend);
    const queue = drawQueue(history, from, to);
    figure.appendChild(queue.svg);
    if (!history.queue.samples.length) {
      const none = document.createElement("p");
      none.className = "empty";
      none.textContent = "No queue samples yet (one every " + history.queue.intervalSeconds + " s from this node's start).";
      figure.appendChild(none);
    } else if (!queue.legend.children.length) {
      const none = document.createElement("p");
      none.className = "empty";
      none.textContent = "Nothing queued in this window.";
      figure.appendChild(none);
    }
    figure.appendChild(queue.legend);
    container.appendChild(figure);
  }
}

// Which stretch of a job each event begins: the job's status after it, as waiting, queued or running; null ends
// the stretch (a job at rest); undefined leaves it as it is (callbacks, error reports).
const JOB_STRETCH = {
  JobSubmitted: "waiting", InputsMissing: "waiting", JobRetried: "waiting",
  JobQueued: "queued", AttemptNotRun: "queued",
  AttemptStarted: "running", AsyncInvoked: "running",
  AttemptFailed: "waiting", EndpointUnavailable: "waiting",
  JobSucceeded: null, JobFailed: null, JobCancelled: null, ResultHeld: null, ResultApproved: null,
  ResultRejected: null,
};
const JOB_ROWS = ["waiting", "queued", "running"];

/** The job's stretches, oldest first, from its events' own times; an unfinished one runs until now. */
function jobStretches(events) {
  const stretches = [];
  let open = null;
  for (const e of events) {
    if (!(e.type in JOB_STRETCH)) continue;
    const kind = JOB_STRETCH[e.type];
    const at = Date.parse((e.data && e.data.at) || e.timestamp);
    if (open && kind === open.kind) continue;
    if (open) {
      open.end = at;
      stretches.push(open);
    }
    open = kind ? { kind, start: at, end: null } : null;
  }
  if (open) {
    open.end = Date.now();
    open.open = true;
    stretches.push(open);
  }
  return stretches;
}

function drawJobBars(events) {
  const container = document.getElementById("job-bars");
  container.replaceChildren();
  const stretches = jobStretches(events);
  if (!stretches.length) return;
  const from = stretches[0].start;
  const to = Math.max(from + 1, stretches[stretches.length - 1].end);
  const x = scaleX(from, to);
  const row = 22;
  const svg = svgElement("svg", { class: "chart job", width: CHART.left + CHART.width + CHART.right,
    height: JOB_ROWS.length * row + 24 }, container);
  JOB_ROWS.forEach((kind, i) => svgText(svg, 0, i * row + 15, kind));
  for (const s of stretches) {
    const rect = svgElement("rect", {
      class: "bar bar-" + s.kind, x: x(s.start), y: JOB_ROWS.indexOf(s.kind) * row + 3, width: x(s.end) - x(s.start),
      height: row - 6, "data-kind": s.kind, "data-start": new Date(s.start).toISOString(),
      "data-end": new Date(s.end).toISOString(),
    }, svg);
    tooltip(rect, s.kind + " " + ((s.end - s.start) / 1000).toFixed(3) + " s" + (s.open ? " so far" : ""));
  }
  svgElement("line", { class: "axis", x1: x(from), x2: x(to), y1: JOB_ROWS.length * row, y2: JOB_ROWS.length * row },
    svg);
  svgText(svg, x(from), JOB_ROWS.length * row + 14, "+0 s");
  svgText(svg, x(to), JOB_ROWS.length * row + 14, "+" + ((to - from) / 1000).toFixed(3) + " s", "end");
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
  document.getElementById("job-bars").replaceChildren();
  title.textContent = "Loading " + jobId + "…";
  try {
    const body = await api("/v1/jobs/" + encodeURIComponent(jobId) + "/events");
    title.textContent = jobId + ": " + body.events.length + " event(s)";
    drawJobBars(body.events);
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
    if (state.refreshes++ % HISTORY_EVERY === 0) await loadHistories();
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
    state.refreshes = 0;
    refresh();
  });
  document.getElementById("jobs-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    state.paged = false;
    refresh();
  });
  document.getElementById("history-span").addEventListener("change", () => {
    loadHistories().catch((error) => show(error.message, true));
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
