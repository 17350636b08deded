"use strict";
// DOM and table helpers shared by the box's status page and HQ's dashboard; sync/static
// inlines this file into each page when it is served (never write a closing script tag here).

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function p2(n) { return String(n).padStart(2, "0"); }
function when(ms) {
  if (!ms) return "";
  const d = new Date(ms);
  return `${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}
function row(cells, cls) {
  const tr = el("tr");
  if (cls) tr.className = cls;
  for (const c of cells) {
    const td = el("td");
    if (c instanceof Node) td.appendChild(c);
    else if (Array.isArray(c)) c.forEach(x => td.appendChild(x instanceof Node ? x : el("span", x)));
    else td.textContent = c === null || c === undefined ? "" : String(c);
    tr.appendChild(td);
  }
  return tr;
}
