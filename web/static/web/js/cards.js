// The pieces the views are made of: anime cards, similar-user rows, a comparison.
import { h, malAnimeUrl, malLink, malProfileUrl, plural } from "./dom.js";

const RATINGS = { g: "G", pg: "PG", pg_13: "PG-13", r: "R-17+", "r+": "R+", rx: "Rx" };

function initials(title) {
  const words = title.replace(/[^\p{L}\p{N} ]/gu, " ").split(/\s+/).filter(Boolean);
  return (words.slice(0, 2).map((word) => word[0]).join("") || "?").toUpperCase();
}

// A coloured tile with the title's initials, for anime without a picture (or whose
// picture does not load); the hue comes from the id so each anime keeps its colour.
function placeholder(id, title) {
  return h("div", { class: "poster placeholder", style: { "--hue": String((id * 47) % 360) }, "aria-hidden": "true" },
    initials(title));
}

function poster(id, details) {
  if (!details.picture) return placeholder(id, details.title);
  const image = h("img", { class: "poster", src: details.picture, alt: "", loading: "lazy", width: 96, height: 136 });
  image.addEventListener("error", () => image.replaceWith(placeholder(id, details.title)), { once: true });
  return image;
}

function facts(details) {
  const items = [];
  if (typeof details.mean === "number") items.push(h("li", {}, h("span", { class: "star", "aria-hidden": "true" }, "★ "), `${details.mean.toFixed(2)} mean`));
  if (details.airing_date) items.push(h("li", {}, details.airing_date.slice(0, 4)));
  if (details.length) items.push(h("li", {}, plural(details.length, "episode", "episodes")));
  if (details.rating && RATINGS[details.rating]) items.push(h("li", {}, RATINGS[details.rating]));
  return h("ul", { class: "facts", "aria-label": "Facts" }, items);
}

function genres(list) {
  if (!list || !list.length) return null;
  return h("ul", { class: "genres", "aria-label": "Genres" }, list.map((name) => h("li", {}, name)));
}

function raters(users, onOpenUser) {
  if (!users || !users.length) return null;
  const rows = users.map((user) => h("li", {},
    malLink(malProfileUrl(user.username), user.username, "rater-name"),
    h("span", { class: "rater-facts" }, `${user.similarity}% similar · scored ${user.score}`),
    h("button", { type: "button", class: "link-button small", onclick: () => onOpenUser(user.username) },
      "their picks", h("span", { class: "visually-hidden" }, ` from ${user.username}`))));
  return h("details", { class: "raters" },
    h("summary", {}, `Rated by ${plural(users.length, "similar user", "similar users")}`),
    h("ul", {}, rows));
}

// One anime: ``item`` is a Recommendation, a UserRecommendation or a saved entry;
// ``scoreLabel`` says whose score ``item.score`` is.
export function animeCard(item, { scoreLabel, saved, onToggleSave, onOpenUser }) {
  const { id, details } = item;
  const titleId = `anime-${id}-title`;
  const saveButton = h("button", {
    type: "button", class: "button save", "aria-pressed": saved ? "true" : "false",
    "aria-describedby": titleId,
  }, saved ? "Saved" : "Save for later");
  saveButton.addEventListener("click", () => onToggleSave(item, saveButton));
  return h("article", { class: "card", "aria-labelledby": titleId, dataset: { animeId: id } },
    poster(id, details),
    h("div", { class: "card-body" },
      h("h3", { class: "card-title", id: titleId }, malLink(malAnimeUrl(id), details.title)),
      facts(details),
      typeof item.score === "number" ? h("p", { class: "score" }, h("strong", {}, `${item.score}/10`), ` ${scoreLabel}`) : null,
      genres(details.genres),
      raters(item.users, onOpenUser),
      h("div", { class: "card-actions" }, saveButton)));
}

function similarityBar(percent) {
  return h("span", { class: "bar", "aria-hidden": "true" }, h("span", { style: { width: `${percent}%` } }));
}

export function similarUserRow(user, rank, { onOpenUser, onCompare }) {
  return h("li", { class: "similar-user" },
    h("span", { class: "rank", "aria-hidden": "true" }, rank),
    h("div", { class: "similar-main" },
      malLink(malProfileUrl(user.username), user.username, "user-name"),
      h("span", { class: "similarity" }, similarityBar(user.similarity), `${user.similarity}% similar`)),
    h("div", { class: "similar-actions" },
      h("button", { type: "button", class: "button small", onclick: () => onOpenUser(user.username) },
        "Their picks", h("span", { class: "visually-hidden" }, ` from ${user.username}`)),
      h("button", { type: "button", class: "button small", onclick: () => onCompare(user.username) },
        "Compare", h("span", { class: "visually-hidden" }, ` with ${user.username}`))));
}

export function comparison(first, second, { onOpenUser }) {
  const percent = second.similarity;
  return h("div", { class: "comparison" },
    h("p", { class: "big-number" }, `${percent}%`),
    h("p", {}, malLink(malProfileUrl(first.username), first.username, "user-name"), " and ",
      malLink(malProfileUrl(second.username), second.username, "user-name"),
      ` have ${percent}% similar taste.`),
    h("span", { class: "bar wide", "aria-hidden": "true" }, h("span", { style: { width: `${percent}%` } })),
    h("p", {}, h("button", { type: "button", class: "button", onclick: () => onOpenUser(second.username) },
      `See ${second.username}'s picks for ${first.username}`)));
}
