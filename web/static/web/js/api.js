// Calls the Reko JSON API (the same routes any client uses) and turns every failure into
// an ApiProblem with a message fit for a person.

export class ApiProblem extends Error {
  constructor({ status, id, message, retryAfter }) {
    super(message);
    this.status = status;
    this.id = id;
    this.retryAfter = retryAfter;
  }
}

// Errors about the user or MyAnimeList, as opposed to errors about an opt-in ranking.
export const USER_ERROR_IDS = new Set([
  "InvalidUsername", "PrivateUserList", "UserNotFound", "EmptyUserList", "InvalidUserList",
  "MALUnavailable", "MALRateLimited", "RateLimited", "Offline",
]);

function seconds(value) {
  const number = Number.parseInt(value || "", 10);
  return Number.isFinite(number) && number > 0 ? number : null;
}

function waitText(retryAfter, fallback) {
  if (!retryAfter) return fallback;
  if (retryAfter < 90) return `in ${retryAfter} second${retryAfter === 1 ? "" : "s"}`;
  return `in about ${Math.round(retryAfter / 60)} minutes`;
}

// What the page says for each error the contract defines; ``names`` are the users it may
// concern (the API's messages do not say which of two users).
export function friendlyMessage(problem, names) {
  const quoted = [names].flat().filter(Boolean).map((name) => `“${name}”`);
  const who = quoted.length ? quoted.join(" or ") : "that user";
  switch (problem.id) {
    case "InvalidUsername":
      return "That is not a MyAnimeList username: use 2 to 16 letters, digits, _ or -.";
    case "PrivateUserList":
      return `${who} keeps their anime list private on MyAnimeList, so we can't read it. ` +
        "Make the list public in MyAnimeList's list settings, then try again.";
    case "UserNotFound":
      return `There is no MyAnimeList user called ${who}. Check the spelling and try again.`;
    case "EmptyUserList":
      return `${who} has nothing on their list we can use yet. ` +
        "Score a few anime you have watched on MyAnimeList, then come back.";
    case "InvalidUserList":
      return `We couldn't read ${who}'s list from MyAnimeList. Try again later.`;
    case "MALUnavailable":
    case "MALRateLimited":
      // The API says what happened (MAL down, throttling us, too many new users at once).
      return (problem.message || "MyAnimeList isn't answering right now.") +
        (problem.retryAfter ? ` You can try again ${waitText(problem.retryAfter, "")}.` : "");
    case "RateLimited":
      return "You're going a little fast for us. " +
        `Please wait and try again ${waitText(problem.retryAfter, "in a minute")}.`;
    case "Offline":
      return "We couldn't reach Reko. Check your connection and try again.";
    default:
      return problem.message || "Something went wrong on our side. Please try again.";
  }
}

async function problemFrom(response) {
  const retryAfter = seconds(response.headers.get("Retry-After"));
  const type = response.headers.get("Content-Type") || "";
  if (type.startsWith("application/json")) {
    try {
      const body = await response.json();
      return new ApiProblem({ status: response.status, id: body.id, message: body.message, retryAfter });
    } catch (error) {
      // fall through: an unreadable body is reported by its status alone
    }
  }
  const text = (await response.text().catch(() => "")).trim();
  if (response.status === 503 && text === "Rate limited") {
    return new ApiProblem({ status: 503, id: "RateLimited", message: text, retryAfter });
  }
  return new ApiProblem({ status: response.status, id: "HttpError",
    message: `Something went wrong on our side (HTTP ${response.status}). Please try again.`, retryAfter });
}

export async function getJson(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") query.set(key, String(value));
  }
  const url = query.toString() ? `${path}?${query}` : path;
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" } });
  } catch (error) {
    throw new ApiProblem({ status: 0, id: "Offline", message: "Network error" });
  }
  if (!response.ok) throw await problemFrom(response);
  return response.json();
}

const user = (name) => `/${encodeURIComponent(name)}`;

export const api = {
  recommendations: (name, { page, batch, algorithm }) =>
    getJson(`${user(name)}/recommendations`, { page, batch, algorithm }),
  fromUser: (name, other, { page }) =>
    getJson(`${user(name)}/recommendations/${encodeURIComponent(other)}`, { page }),
  similar: (name, { page }) => getJson(`${user(name)}/similar`, { page }),
  compare: (name, other) => getJson(`${user(name)}/compare/${encodeURIComponent(other)}`),
  random: (name, { batch, algorithm }) => getJson(`${user(name)}/random`, { batch, algorithm }),
};
