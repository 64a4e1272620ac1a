// What the browser keeps between visits: the last username and a short "saved for later"
// list. Storage can be unavailable (private windows, full quota): the page then works
// without remembering anything.

const LAST_USER_KEY = "reko.lastUser";
const SAVED_KEY = "reko.saved";
export const SAVED_LIMIT = 32;

function read(key, fallback) {
  try {
    const value = window.localStorage.getItem(key);
    return value === null ? fallback : JSON.parse(value);
  } catch (error) {
    return fallback;
  }
}

function write(key, value) {
  try {
    window.localStorage.setItem(key, JSON.stringify(value));
    return true;
  } catch (error) {
    return false;
  }
}

export function lastUser() {
  const value = read(LAST_USER_KEY, "");
  return typeof value === "string" ? value : "";
}

export function rememberUser(name) {
  write(LAST_USER_KEY, name);
}

export function savedAnime() {
  const list = read(SAVED_KEY, []);
  return Array.isArray(list) ? list.filter((item) => item && Number.isInteger(item.id)).slice(0, SAVED_LIMIT) : [];
}

export function isSaved(id) {
  return savedAnime().some((item) => item.id === id);
}

// Adds the anime (id and details, so the saved view needs no request); false when the
// list is full or storage refused it.
export function saveAnime(id, details) {
  const list = savedAnime();
  if (list.some((item) => item.id === id)) return true;
  if (list.length >= SAVED_LIMIT) return false;
  return write(SAVED_KEY, [...list, { id, details }]);
}

export function unsaveAnime(id) {
  write(SAVED_KEY, savedAnime().filter((item) => item.id !== id));
}
