// Builds elements from data with textContent only: nothing from the API is parsed as HTML.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    // Through the CSSOM: the page's Content-Security-Policy blocks style attributes.
    else if (name === "style") for (const [property, v] of Object.entries(value)) element.style.setProperty(property, v);
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export const malAnimeUrl = (id) => `https://myanimelist.net/anime/${encodeURIComponent(id)}`;
export const malProfileUrl = (name) => `https://myanimelist.net/profile/${encodeURIComponent(name)}`;

// A link to MyAnimeList, opened in a new tab, saying so to screen readers.
export function malLink(href, text, className) {
  return h("a", { href, class: className, target: "_blank", rel: "noopener noreferrer" },
    text, h("span", { class: "visually-hidden" }, " (on MyAnimeList, opens in a new tab)"));
}

export function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}
