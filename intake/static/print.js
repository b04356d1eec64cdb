// The print button of a receipt or of the answers read back at the counter. The button is
// hidden in the page and shown here, so a browser that runs no script never shows a button
// that does nothing. What is printed is chosen by intake.css (@media print).
for (const button of document.querySelectorAll("[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
