// The page's controller: the URL holds the state (user, view, page, batch, other user,
// ranking), so every view can be shared and reloaded; each view is one call to the API.
import { api, ApiProblem, friendlyMessage, USER_ERROR_IDS } from "./api.js";
import { animeCard, comparison, similarUserRow } from "./cards.js";
import { h, malProfileUrl } from "./dom.js";
import * as store from "./store.js";

const VIEWS = ["recommendations", "similar", "user", "random", "compare", "saved"];
const USERNAME = /^[A-Za-z0-9_-]{2,16}$/;
const BATCH_MAX = 40;
const BATCH_SIZE = 32;
const SLOW_FIRST_FETCH_MS = 1200;

const $ = (id) => document.getElementById(id);
const optIn = { name: document.body.dataset.optInAlgorithm || "", status: "unknown", note: "" };
let current = null;
let requestNumber = 0;
// Users the API has answered for in this visit: an error in a two-user view is then about the other.
const answeredFor = new Set();

function integer(value, low, high) {
  const number = Number.parseInt(value || "", 10);
  return Number.isFinite(number) ? Math.min(Math.max(number, low), high) : low;
}

function normalName(value) {
  return (value || "").trim().toLowerCase();
}

function stateFromUrl() {
  const query = new URLSearchParams(window.location.search);
  return {
    user: normalName(query.get("user")),
    view: VIEWS.includes(query.get("view")) ? query.get("view") : "recommendations",
    page: integer(query.get("page"), 1, BATCH_MAX),
    batch: integer(query.get("batch"), 1, BATCH_MAX),
    other: normalName(query.get("other")),
    algorithm: query.get("algorithm") || "",
  };
}

// The URL of a state, with only what the view uses, so that shared links stay short.
function urlFor(state) {
  const query = new URLSearchParams();
  if (state.user) query.set("user", state.user);
  if (state.view !== "recommendations" || !state.user) query.set("view", state.view);
  if (["recommendations", "random"].includes(state.view)) {
    if (state.batch > 1) query.set("batch", state.batch);
    if (state.algorithm) query.set("algorithm", state.algorithm);
  }
  if (["recommendations", "similar", "user"].includes(state.view) && state.page > 1) query.set("page", state.page);
  if (["user", "compare"].includes(state.view) && state.other) query.set("other", state.other);
  const text = query.toString();
  return text ? `/?${text}` : "/";
}

// --- status line: loading, errors, notes ------------------------------------------------

function setStatus(kind, ...content) {
  const status = $("status");
  status.replaceChildren();
  status.className = `status ${kind || ""}`;
  if (!kind) return null;
  const box = h("div", { class: `status-box ${kind}`, tabindex: "-1" }, ...content);
  status.append(box);
  return box;
}

function showLoading(state) {
  setStatus("loading", h("span", { class: "spinner", "aria-hidden": "true" }), `Loading ${state.user || ""}…`.replace(" …", "…"));
  const number = requestNumber;
  // A never-seen user is fetched from MyAnimeList first: say why it takes a while.
  window.setTimeout(() => {
    if (number === requestNumber && $("results").getAttribute("aria-busy") === "true") {
      setStatus("loading", h("span", { class: "spinner", "aria-hidden": "true" }),
        `Fetching ${state.user}'s list from MyAnimeList. The first visit can take a few seconds…`);
    }
  }, SLOW_FIRST_FETCH_MS);
}

function showProblem(problem, names, focus) {
  const retry = h("button", { type: "button", class: "button small", onclick: () => show(current, { push: false, focus: true }) }, "Try again");
  const demo = h("button", { type: "button", class: "button small", onclick: () => search("demo_user_001") }, "Try demo_user_001");
  const actions = ["MALUnavailable", "MALRateLimited", "RateLimited", "Offline", "HttpError", "InvalidUserList"].includes(problem.id) ? [retry] : [demo];
  const box = setStatus("error", h("p", { class: "status-title" }, "We couldn't show that"),
    h("p", {}, friendlyMessage(problem, names)), h("p", { class: "status-actions" }, actions));
  if (focus && box) box.focus();
}

// --- the ranking switch ------------------------------------------------------------------

function renderRankingSwitch(state) {
  $("ranking").dataset.optIn = optIn.status;
  for (const radio of document.querySelectorAll('input[name="ranking"]')) {
    radio.checked = radio.value === (state.algorithm || "");
    if (radio.value) radio.disabled = optIn.status === "unavailable" && !state.algorithm;
  }
  const note = $("ranking-note");
  note.hidden = optIn.status !== "unavailable";
  note.textContent = optIn.status === "unavailable" ? `The learned ranking is not available: ${optIn.note}.` : "";
  $("ranking-hint").hidden = !note.hidden;
}

// Asks once whether the opt-in ranking answers, so the switch is only offered when it works.
// A server that accepts a made-up ranking name ignores the parameter altogether (it has no
// opt-in ranking); one that knows it answers an unknown name with a 400.
const MADE_UP_ALGORITHM = "no-such-ranking";

// Why the opt-in ranking cannot be offered, in words for a visitor (the API's message
// for an untrained model is meant for the operator).
function optInNote(problem) {
  if (problem.id === "NoOptIn") return "this server does not offer it";
  if (problem.id === "ModelNotTrained") return "it has not been trained on this server yet";
  return "it did not answer";
}

async function probeOptIn(state) {
  if (!optIn.name || optIn.status !== "unknown") return;
  optIn.status = "probing";
  const ask = (algorithm) => api.recommendations(state.user, { page: 1, batch: 1, algorithm });
  try {
    const ignored = await ask(MADE_UP_ALGORITHM).then(() => true, (problem) => {
      if (problem instanceof ApiProblem && problem.id === "InvalidQuery") return false;
      throw problem;
    });
    if (ignored) throw new ApiProblem({ status: 200, id: "NoOptIn", message: "no opt-in ranking here" });
    await ask(optIn.name);
    optIn.status = "available";
  } catch (problem) {
    const aboutUser = problem instanceof ApiProblem && USER_ERROR_IDS.has(problem.id);
    optIn.status = aboutUser ? "unknown" : "unavailable";
    optIn.note = optInNote(problem);
  }
  if (current) renderRankingSwitch(current);
}

// --- views -----------------------------------------------------------------------------

function cardHandlers() {
  return {
    onOpenUser: (other) => show({ ...current, view: "user", other, page: 1 }, { push: true, focus: true }),
    onToggleSave: toggleSave,
  };
}

function animeCards(items, scoreLabel) {
  return h("div", { class: "cards" }, items.map((item) => animeCard(item, {
    scoreLabel, saved: store.isSaved(item.id), ...cardHandlers(),
  })));
}

function setResults(title, intro, ...content) {
  $("results-title").textContent = title;
  $("results-intro").replaceChildren(...[intro].flat().filter(Boolean));
  $("results").replaceChildren(...content);
}

function empty(text) {
  return h("p", { class: "empty" }, text);
}

function setPager(pagination) {
  const pager = $("pager");
  pager.hidden = !pagination || (pagination.previous === null && pagination.next === null);
  if (!pagination) return;
  pager.querySelector('[data-action="previous-page"]').disabled = pagination.previous === null;
  pager.querySelector('[data-action="next-page"]').disabled = pagination.next === null;
  $("page-label").textContent = `Page ${pagination.current}`;
}

const loaders = {
  async recommendations(state) {
    const body = await api.recommendations(state.user, state);
    const intro = state.algorithm
      ? "Ranked by the learned model from your own list, with the similar users who scored each one."
      : `From the anime that your ${describeBatch(state.batch)} watched and scored. Each score is their average.`;
    setResults("Recommended for you", intro,
      body.data.length ? animeCards(body.data, "from similar users") : empty("Nothing new in this group: try the next group of similar users."));
    setPager(body.pagination);
    if (!state.algorithm) probeOptIn(state);
  },
  async random(state) {
    const body = await api.random(state.user, state);
    setResults("A random handful", [`Picked at random from what your ${describeBatch(state.batch)} liked. `,
      h("button", { type: "button", class: "button small", onclick: () => show(current, { push: false, focus: true }) }, "Shuffle again")],
    body.data.length ? animeCards(body.data, "from similar users") : empty("Nothing to pick from in this group: try the next group."));
  },
  async similar(state) {
    const body = await api.similar(state.user, state);
    const first = (body.pagination.current - 1) * BATCH_SIZE;
    setResults(`Users with a taste like ${state.user}`,
      "The closer their lists are to yours, the higher the similarity. Open one to see what they liked.",
      body.data.length ? h("ol", { class: "similar-list" }, body.data.map((user, index) => similarUserRow(user, first + index + 1, {
        onOpenUser: (other) => show({ ...current, view: "user", other, page: 1 }, { push: true, focus: true }),
        onCompare: (other) => show({ ...current, view: "compare", other }, { push: true, focus: true }),
      }))) : empty("No more similar users."));
    setPager(body.pagination);
  },
  async user(state) {
    if (!state.other) return loaders.similar({ ...state, view: "similar" });
    const body = await api.fromUser(state.user, state.other, state);
    setResults(`${state.other}'s picks for ${state.user}`,
      `Anime ${state.other} watched and scored that aren't on ${state.user}'s list, their favourites first.`,
      body.data.length ? animeCards(body.data, `from ${state.other}`) : empty(`${state.other} has nothing to recommend that ${state.user} hasn't seen.`));
    setPager(body.pagination);
  },
  async compare(state) {
    $("compare-first").value = state.user;
    $("compare-second").value = state.other;
    if (!state.other) {
      setResults("Compare two users", "Type any two MyAnimeList usernames to see how close their taste is.");
      return false;
    }
    const body = await api.compare(state.user, state.other);
    setResults(`${state.user} and ${state.other}`, null,
      comparison(body.requester, body.data, { onOpenUser: (other) => show({ ...current, view: "user", other, page: 1 }, { push: true, focus: true }) }));
  },
  async saved() {
    const saved = store.savedAnime();
    setResults("Saved for later", `Kept in this browser only (up to ${store.SAVED_LIMIT} anime).`,
      saved.length ? animeCards(saved, "") : empty("Nothing saved yet: use “Save for later” on any anime."));
    return false;
  },
};

function describeBatch(batch) {
  const first = (batch - 1) * BATCH_SIZE + 1;
  return batch === 1 ? `${BATCH_SIZE} most similar users` : `similar users number ${first} to ${first + BATCH_SIZE - 1}`;
}

// --- rendering a state -------------------------------------------------------------------

function renderChrome(state) {
  const app = $("app");
  app.hidden = !state.user && state.view !== "saved";
  app.dataset.view = state.view;
  document.body.classList.toggle("has-user", Boolean(state.user));
  $("username").value = state.user || $("username").value;
  $("username").removeAttribute("aria-invalid");
  const userLink = $("user-link");
  userLink.textContent = state.user;
  userLink.href = malProfileUrl(state.user);
  document.querySelector(".user-line").hidden = !state.user;
  for (const tab of document.querySelectorAll(".tab")) {
    const view = tab.dataset.view;
    const target = { ...state, view, page: 1 };
    tab.href = urlFor(target);
    tab.hidden = !state.user && view !== "saved";
    const active = view === state.view || (view === "similar" && state.view === "user");
    if (active) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  $("saved-count").textContent = store.savedAnime().length;
  const ranked = ["recommendations", "random"].includes(state.view);
  $("toolbar").hidden = !ranked;
  $("batch-label").textContent = `Group ${state.batch} of ${BATCH_MAX}: your ${describeBatch(state.batch)}`;
  document.querySelector('[data-action="previous-batch"]').disabled = state.batch <= 1;
  document.querySelector('[data-action="next-batch"]').disabled = state.batch >= BATCH_MAX;
  $("compare-form").hidden = state.view !== "compare";
  $("pager").hidden = true;
  renderRankingSwitch(state);
  document.title = state.user ? `${state.user}: ${titleOf(state.view)} · Reko` : "Reko: anime picks from fans with your taste";
}

function titleOf(view) {
  return { recommendations: "recommendations", similar: "similar users", user: "picks", random: "random picks",
    compare: "compare", saved: "saved for later" }[view];
}

async function show(state, { push = true, focus = false } = {}) {
  current = state;
  const url = urlFor(state);
  if (push && url !== window.location.pathname + window.location.search) window.history.pushState(null, "", url);
  else window.history.replaceState(null, "", url);
  renderChrome(state);
  if (app.hidden) {
    setStatus(null);
    return;
  }
  const number = ++requestNumber;
  const results = $("results");
  results.setAttribute("aria-busy", "true");
  showLoading(state);
  try {
    // A loader returns false when it did not ask the API about the user.
    const asked = (await loaders[state.view](state)) !== false;
    if (number !== requestNumber) return;
    setStatus(null);
    if (state.user && asked) {
      store.rememberUser(state.user);
      answeredFor.add(state.user);
    }
    if (focus) $("results-title").focus();
  } catch (problem) {
    if (number !== requestNumber) return;
    if (!(problem instanceof ApiProblem)) throw problem;
    if (state.algorithm && !USER_ERROR_IDS.has(problem.id)) {
      // The opt-in ranking failed (not trained, or unknown here): fall back to the standard one.
      optIn.status = "unavailable";
      optIn.note = optInNote(problem);
      show({ ...state, algorithm: "" }, { push: false, focus });
      return;
    }
    setResults("", null);
    const twoUsers = ["user", "compare"].includes(state.view) && state.other;
    const names = !twoUsers ? state.user : answeredFor.has(state.user) ? state.other : [state.user, state.other];
    // A list that cannot be shown leaves nothing to browse: only the message stays.
    if (!twoUsers && USER_ERROR_IDS.has(problem.id)) app.hidden = true;
    showProblem(problem, names, focus);
  } finally {
    if (number === requestNumber) results.removeAttribute("aria-busy");
  }
}

function search(name) {
  const input = $("username");
  input.value = name;
  if (!USERNAME.test(name.trim())) {
    input.setAttribute("aria-invalid", "true");
    showProblem(new ApiProblem({ status: 400, id: "InvalidUsername", message: "" }), name, false);
    input.focus();
    return;
  }
  show({ user: normalName(name), view: "recommendations", page: 1, batch: 1, other: "",
    algorithm: current ? current.algorithm : "" }, { push: true, focus: true });
}

function toggleSave(item, button) {
  if (store.isSaved(item.id)) {
    store.unsaveAnime(item.id);
    button.setAttribute("aria-pressed", "false");
    button.textContent = "Save for later";
  } else if (store.saveAnime(item.id, item.details)) {
    button.setAttribute("aria-pressed", "true");
    button.textContent = "Saved";
  } else {
    setStatus("note", `Your saved list is full (${store.SAVED_LIMIT} anime). Remove one to save another.`);
  }
  $("saved-count").textContent = store.savedAnime().length;
}

// --- wiring ------------------------------------------------------------------------------

const app = $("app");

function navigate(change) {
  show({ ...current, ...change }, { push: true, focus: true });
}

function wire() {
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search($("username").value);
  });
  for (const button of document.querySelectorAll("[data-demo-user]")) {
    button.addEventListener("click", () => search(button.dataset.demoUser));
  }
  $("compare-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const first = $("compare-first").value.trim();
    const second = $("compare-second").value.trim();
    const bad = [first, second].find((name) => !USERNAME.test(name));
    if (bad !== undefined) {
      showProblem(new ApiProblem({ status: 400, id: "InvalidUsername", message: "" }), bad, true);
      return;
    }
    navigate({ user: normalName(first), view: "compare", other: normalName(second) });
  });
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a.tab, a[data-nav]");
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    if (link.dataset.nav === "home") {
      show({ ...stateFromUrl(), user: "", view: "recommendations" }, { push: true });
      $("username").focus();
      return;
    }
    const view = link.dataset.view;
    navigate({ view, page: 1 });
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const action = button.dataset.action;
    if (action === "next-batch") navigate({ batch: Math.min(current.batch + 1, BATCH_MAX), page: 1 });
    if (action === "previous-batch") navigate({ batch: Math.max(current.batch - 1, 1), page: 1 });
    if (action === "next-page") navigate({ page: current.page + 1 });
    if (action === "previous-page") navigate({ page: Math.max(current.page - 1, 1) });
  });
  for (const radio of document.querySelectorAll('input[name="ranking"]')) {
    radio.addEventListener("change", () => navigate({ algorithm: radio.value, page: 1 }));
  }
  window.addEventListener("popstate", () => show(stateFromUrl(), { push: false }));
}

wire();
const initial = stateFromUrl();
if (!initial.user) $("username").value = store.lastUser();
show(initial, { push: false });
